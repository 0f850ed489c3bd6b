"""`/best` of 10 drafts, end to end through the service layer: rank every draft (analysis, likes models,
hashtags for the winner, the saved prediction) and draw the picture the bot sends.

    python -m benchmarks.best [--drafts 10] [--repeats 3]

"warm" is right after the drafts arrived (the service analysed each one as it came); "cold" is after a
restart, when every draft is analysed again. The last rows compare analysing the drafts one call each
with one batched call.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.service import Service
from app.services import open_services
from benchmarks.common import RESULTS_DIR, format_table, report, summary_ms, synthetic_photo
from benchmarks.service_setup import benchmark_settings, index_stored_photos
from bot import pictures, texts
from core.paths import DEMO_HANDLE
from core.settings import Settings

NAME = "best"
CHAT = 4242


async def _timed_best(service: Service) -> float:
    """One /best as the bot runs it: the ranking, then the picture (drawn in a thread, as the bot does)."""
    started = time.perf_counter()
    ranking = await service.rank_drafts(CHAT)
    labels = [texts.ranking_label(r.rank, r.prediction.likes) for r in ranking.drafts]
    await asyncio.to_thread(pictures.ranking_picture, [r.draft.image_path for r in ranking.drafts], labels)
    return time.perf_counter() - started


async def _measure(settings: Settings, drafts: int, repeats: int, side: int) -> dict[str, Any]:
    photos = [synthetic_photo(side, side, seed=100 + i) for i in range(drafts)]
    service = await open_services(settings)
    try:
        await service.set_handle(CHAT, DEMO_HANDLE)
        for number, data in enumerate(photos):
            await service.add_photo(CHAT, f"draft-{number}", data)
        await _timed_best(service)  # loads what is loaded on first use
        warm = [await _timed_best(service) for _ in range(repeats)]
        paths = [d.image_path for d in await asyncio.to_thread(service.store.drafts.of_chat, CHAT)]
        one_by_one, batched = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            for path in paths:
                service.analyzer.analyse([path])
            one_by_one.append(time.perf_counter() - started)
            started = time.perf_counter()
            service.analyzer.analyse(paths)
            batched.append(time.perf_counter() - started)
    finally:
        await service.aclose()
    cold = []
    for _ in range(repeats):
        restarted = await open_services(settings)  # an empty analysis cache, as after a restart
        try:
            cold.append(await _timed_best(restarted))
        finally:
            await restarted.aclose()
    return {
        "drafts": drafts,
        "repeats": repeats,
        "photo_side": side,
        "warm": summary_ms(warm),
        "cold": summary_ms(cold),
        "analyse_one_call_each": summary_ms(one_by_one),
        "analyse_one_batched_call": summary_ms(batched),
    }


def measure(drafts: int = 10, repeats: int = 3, side: int = 1080, folder: Path | None = None) -> dict[str, Any]:
    """`folder` holds the store (a temporary one by default; tests pass one already warmed)."""
    with tempfile.TemporaryDirectory(prefix="likepredict-bench-") as tmp:
        settings = benchmark_settings(folder or Path(tmp), max_drafts=max(drafts, 10))
        index_stored_photos(settings)
        return asyncio.run(_measure(settings, drafts, repeats, side))


def table(result: dict[str, Any]) -> str:
    n = result["drafts"]
    rows = [
        [f"/best of {n}, drafts just received (warm)", result["warm"]["median_ms"], result["warm"]["p95_ms"]],
        [f"/best of {n}, after a restart (cold)", result["cold"]["median_ms"], result["cold"]["p95_ms"]],
        [
            f"analyse {n} drafts, one call each",
            result["analyse_one_call_each"]["median_ms"],
            result["analyse_one_call_each"]["p95_ms"],
        ],
        [
            f"analyse {n} drafts, one batched call",
            result["analyse_one_batched_call"]["median_ms"],
            result["analyse_one_batched_call"]["p95_ms"],
        ],
    ]
    return format_table(["what", "median ms", "p95 ms"], rows)


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.best", description=__doc__.split("\n\n")[0])
    parser.add_argument("--drafts", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    result = measure(args.drafts, args.repeats)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())
