"""Cached photo embeddings for a hashtag answer: one query for every stored photo against one per photo.

    python -m benchmarks.embeddings [--images 5000] [--dimensions 1280] [--repeats 20]

A photo's hashtag answer compares it with every stored photo, so `HashtagEngine.stored_vectors` reads
all their cached vectors (1280 floats each, the similarity model's output); it used to ask the store once
per photo. The store is a real SQLite file. The engine also keeps what it read in memory, so the one-query
read is timed on a new engine each time (as after a restart), and the in-memory read on one kept engine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import RESULTS_DIR, format_table, report, summary_ms
from inference.hashtags import HashtagEngine
from store import Store

NAME = "embeddings"


def _timed(run: Callable[[], object], repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def _timed_cold(store: Store, shas: Sequence[str], repeats: int) -> list[float]:
    """`stored_vectors` on a new engine each time: the read from the store, not the engine's memory."""
    seconds = []
    for _ in range(repeats):
        engine = HashtagEngine(store)
        started = time.perf_counter()
        engine.stored_vectors(shas)
        seconds.append(time.perf_counter() - started)
    return seconds


def _one_query_per_photo(store: Store, shas: Sequence[str], version: str) -> dict[str, np.ndarray]:
    """What `stored_vectors` did before: the old `Store.cached_embedding` once per photo."""
    vectors = {}
    for sha in shas:
        rows = store.database.rows(
            "SELECT vector FROM image_embeddings WHERE image_sha256 = ? AND model_version = ?", [sha, version]
        )
        if rows:
            vectors[sha] = np.frombuffer(rows[0]["vector"], dtype=np.float32).copy()
    return vectors


def measure(images: int = 5000, dimensions: int = 1280, repeats: int = 20) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="likepredict-bench-") as tmp:
        store = Store.open(Path(tmp) / "embeddings.sqlite3", Path(tmp) / "images")
        try:
            engine = HashtagEngine(store)
            version = engine.vector_version
            rng = np.random.default_rng(0)
            with store.images.writing() as photos:  # set-up in one transaction
                shas = [photos.add(f"stored photo {i}".encode()) for i in range(images)]
                for sha in shas:
                    store.images.save_embedding(sha, version, rng.standard_normal(dimensions).astype(np.float32))
            one_query = _timed_cold(store, shas, repeats)
            per_photo = _timed(lambda: _one_query_per_photo(store, shas, version), repeats)
            assert len(engine.stored_vectors(shas)) == images
            in_memory = _timed(lambda: engine.stored_vectors(shas), repeats)
        finally:
            store.close()
    one, each = summary_ms(one_query), summary_ms(per_photo)
    return {
        "stored_vectors_in_memory": summary_ms(in_memory),
        "images": images,
        "dimensions": dimensions,
        "repeats": repeats,
        "stored_vectors_one_query": one,
        "one_query_per_photo": each,
        "ratio_median": each["median_ms"] / one["median_ms"],
        "goal": "reading every stored photo's vector is one query, several times cheaper than one per photo",
    }


def table(result: dict[str, Any]) -> str:
    one, each = result["stored_vectors_one_query"], result["one_query_per_photo"]
    rows = [
        ["HashtagEngine.stored_vectors, new engine (one query)", one["median_ms"], one["p95_ms"]],
        ["one query per photo (before)", each["median_ms"], each["p95_ms"]],
        ["ratio (per photo / one query), median", result["ratio_median"], ""],
    ]
    if "stored_vectors_in_memory" in result:  # results written before the engine kept vectors in memory
        memory = result["stored_vectors_in_memory"]
        rows.append(["the same engine again (its memory)", memory["median_ms"], memory["p95_ms"]])
    return format_table([f"{result['images']} cached vectors of {result['dimensions']}", "median ms", "p95 ms"], rows)


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.embeddings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--dimensions", type=int, default=1280)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    result = measure(args.images, args.dimensions, args.repeats)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())
