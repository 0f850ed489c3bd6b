"""Per-photo cost against its floor: (a) decode alone, (b) the encoder's forward pass alone, (c) the full
prediction for one photo (decode, features, embedding, every model, hashtags), all in the same run.

    python -m benchmarks.photo_cost [--photos 5] [--repeats 6]

The floor is (a) + (b): nothing can answer without decoding the photo and running the encoder. The goal
is (c) / ((a) + (b)) <= 1.5.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS_DIR, format_table, report, summary_ms, synthetic_photo
from benchmarks.service_setup import demo_service

NAME = "photo_cost"
SIZES = ((1080, 1080), (4032, 3024))


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def measure(
    photos_per_size: int = 5, repeats: int = 6, sizes: Sequence[tuple[int, int]] = SIZES, folder: Path | None = None
) -> dict[str, Any]:
    """`folder` holds the store (a temporary one by default; tests pass one already warmed)."""
    from core.paths import MODELS_DIR
    from inference.encoder import ImageEncoder
    from inference.photo import decode_photo

    with demo_service(folder) as (service, account):
        analyzer, predictor, hashtags = service.analyzer, service.predictor, service.hashtags
        encoder = getattr(analyzer, "encoder", None) or ImageEncoder(MODELS_DIR)
        max_pixels, n_tags = service.settings.max_image_pixels, service.settings.hashtag_count

        def full_prediction(data: bytes) -> dict[str, float]:
            """What the bot does for one photo, minus the store: timed step by step."""
            t_analyse, [analysis] = _timed(lambda: analyzer.analyse([data]))
            t_predict, [prediction] = _timed(lambda: predictor.predict(account, [analysis]))
            t_tags, _ = _timed(lambda: hashtags.suggest(account, analysis, n_tags, prediction))
            return {"analyse": t_analyse, "predict": t_predict, "hashtags": t_tags}

        first_call, _ = _timed(lambda: full_prediction(synthetic_photo(640, 640, seed=999)))  # loads caches
        rows: dict[str, Any] = {}
        for width, height in sizes:
            photos = [synthetic_photo(width, height, seed=seed) for seed in range(photos_per_size)]
            decode, embed, full = [], [], []
            steps: dict[str, list[float]] = {"analyse": [], "predict": [], "hashtags": []}
            for _ in range(repeats):
                for data in photos:
                    t_decode, decoded = _timed(lambda: decode_photo(data, max_pixels))
                    t_embed, _ = _timed(lambda: encoder.embed([decoded]))
                    t_full, parts = _timed(lambda: full_prediction(data))
                    decode.append(t_decode)
                    embed.append(t_embed)
                    full.append(t_full)
                    for step, seconds in parts.items():
                        steps[step].append(seconds)
            floor = summary_ms([a + b for a, b in zip(decode, embed)])
            whole = summary_ms(full)
            rows[f"{width}x{height}"] = {
                "bytes": round(sum(len(p) for p in photos) / len(photos)),
                "decode": summary_ms(decode),
                "embed": summary_ms(embed),
                "full": whole,
                "floor": floor,
                "ratio_median": whole["median_ms"] / floor["median_ms"],
                "ratio_p95": whole["p95_ms"] / floor["p95_ms"],
                "full_steps_median_ms": {k: summary_ms(v)["median_ms"] for k, v in steps.items()},
            }
    return {
        "sizes": rows,
        "photos_per_size": photos_per_size,
        "repeats": repeats,
        "encoder_views_per_photo": int(decoded.encoder_views.shape[0]),
        "first_call_ms": first_call * 1000,
        "goal": "ratio (c)/((a)+(b)) <= 1.5",
    }


def table(result: dict[str, Any]) -> str:
    rows = []
    for size, r in result["sizes"].items():
        rows.append(
            [
                size,
                r["decode"]["median_ms"],
                r["decode"]["p95_ms"],
                r["embed"]["median_ms"],
                r["embed"]["p95_ms"],
                r["full"]["median_ms"],
                r["full"]["p95_ms"],
                r["ratio_median"],
                r["ratio_p95"],
            ]
        )
    headers = [
        "photo",
        "(a) decode p50 ms",
        "(a) p95",
        "(b) encoder p50 ms",
        "(b) p95",
        "(c) full p50 ms",
        "(c) p95",
        "(c)/(a+b) p50",
        "(c)/(a+b) p95",
    ]
    steps = "; ".join(
        f"{size}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in r["full_steps_median_ms"].items())
        for size, r in result["sizes"].items()
    )
    return format_table(headers, rows) + f"\n\n(c) by step, medians: {steps}"


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.photo_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=5, help="distinct photos per size")
    parser.add_argument("--repeats", type=int, default=6, help="times each photo is measured")
    args = parser.parse_args(argv)
    result = measure(args.photos, args.repeats)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())
