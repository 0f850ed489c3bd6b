"""Per-photo cost against its floor, all in the same run:

    python -m benchmarks.photo_cost [--photos 5] [--repeats 6]

The floor is what no answer can skip: decode the JPEG at reduced size (Pillow's draft, the smallest DCT
scaling that still gives 224 px) and run ONE 224x224 forward pass of the encoder's backbone. The full answer
is what the bot does for one photo minus the store: analyse (decode one working image, find faces once,
the hand features a model reads, one encoder pass, the appeal and similarity heads, the concepts), predict
likes, suggest hashtags. The goal is full / floor <= 1.5. Beside it, the earlier six-view encoder pass (six
224 px views of the same decoded photo), the cost of each step and of each hand-feature group, and decode +
encoder pass + hand features + pixel cues at each candidate side (`side_*`, the costs the appeal model's
choice of side weighs).
The photos are synthetic: on real photos the face search costs more (see `inference/photo_faces.py`).
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import RESULTS_DIR, format_table, report, summary_ms, synthetic_photo
from benchmarks.service_setup import demo_service

NAME = "photo_cost"
SIZES = ((1080, 1080), (4032, 3024))
FLOOR_SIDE = 224


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def floor_input(data: bytes) -> np.ndarray:
    """Draft-decode to at least 224 px and make the encoder's (1, 3, 224, 224) input: the floor's decode."""
    from PIL import Image

    from inference.photo import scaled_pixels

    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (FLOOR_SIDE, FLOOR_SIDE))
    return scaled_pixels([image.convert("RGB").resize((FLOOR_SIDE, FLOOR_SIDE), Image.Resampling.BILINEAR)])


def measure(
    photos_per_size: int = 5, repeats: int = 6, sizes: Sequence[tuple[int, int]] = SIZES, folder: Path | None = None
) -> dict[str, Any]:
    """`folder` holds the store (a temporary one by default; tests pass one already warmed)."""
    from PIL import Image

    from inference.concepts import pixel_cues
    from inference.photo import decode_photo, encoder_views, faces_of, hand_features
    from inference.photo_features import HAND_FEATURE_GROUPS
    from models.training.photo_dataset import CANDIDATE_SIZES

    with demo_service(folder) as (service, account):
        analyzer, predictor, hashtags = service.analyzer, service.predictor, service.hashtags
        encoder, n_tags = analyzer.encoder, service.settings.hashtag_count

        def full_prediction(data: bytes) -> dict[str, float]:
            """What the bot does for one photo, minus the store: timed step by step."""
            t_analyse, [analysis] = _timed(lambda: analyzer.analyse([data]))
            t_predict, [prediction] = _timed(lambda: predictor.predict(account, [analysis]))
            t_tags, _ = _timed(lambda: hashtags.suggest(account, analysis, n_tags, prediction))
            return {"analyse": t_analyse, "predict": t_predict, "hashtags": t_tags}

        def side_dependent(data: bytes, side: int) -> None:
            """What a pass at `side` costs beyond the faces: decode, the pass, hand features and pixel cues."""
            photo = decode_photo(data, analyzer.max_pixels, encoder_size=side)
            encoder.encode([photo])
            hand_features(photo, analyzer.hand_groups - {"faces"})
            pixel_cues(photo.rgb_small)

        def analyse_steps(data: bytes) -> dict[str, float]:
            """The analysis taken apart (the same calls `PhotoAnalyzer.analyse_decoded` makes)."""
            t_decode, photo = _timed(lambda: analyzer.decode(data))
            t_faces, faces = _timed(lambda: faces_of(photo))
            t_hand, hand = _timed(lambda: np.stack([hand_features(photo, analyzer.hand_groups, faces)]))
            t_encode, outputs = _timed(lambda: encoder.encode([photo]))
            t_appeal, _ = _timed(lambda: analyzer.appeal.score(hand, outputs))
            t_similarity, _ = _timed(lambda: analyzer.similarity.project(outputs.embedding))
            t_concepts, _ = _timed(lambda: analyzer.concepts.detect([photo], outputs.logits, [faces]))
            t_cues, _ = _timed(lambda: pixel_cues(photo.rgb_small))
            image = Image.fromarray(photo.rgb_small)
            t_six, _ = _timed(lambda: encoder.run_pixels(encoder_views(image)))
            groups = {
                f"hand_{group}": _timed(lambda: hand_features(photo, frozenset({group}), faces))[0]
                for group in HAND_FEATURE_GROUPS
            }
            by_side = {f"side_{side}": _timed(lambda: side_dependent(data, side))[0] for side in CANDIDATE_SIZES}
            return {
                "decode": t_decode,
                "faces": t_faces,
                "hand": t_hand,
                "encode": t_encode,
                "appeal_head": t_appeal,
                "similarity_head": t_similarity,
                "concepts": t_concepts,
                "concept_pixel_cues": t_cues,
                "six_view_encode": t_six,
                **groups,
                **by_side,
            }

        first_call, _ = _timed(lambda: full_prediction(synthetic_photo(640, 640, seed=999)))  # loads caches
        rows: dict[str, Any] = {}
        for width, height in sizes:
            photos = [synthetic_photo(width, height, seed=seed) for seed in range(photos_per_size)]
            floor_decode, floor_pass, full = [], [], []
            steps: dict[str, list[float]] = {}
            for _ in range(repeats):
                for data in photos:
                    t_decode, pixels = _timed(lambda: floor_input(data))
                    t_pass, _ = _timed(lambda: encoder.run_pixels(pixels))
                    t_full, parts = _timed(lambda: full_prediction(data))
                    floor_decode.append(t_decode)
                    floor_pass.append(t_pass)
                    full.append(t_full)
                    for step, seconds in {**parts, **analyse_steps(data)}.items():
                        steps.setdefault(step, []).append(seconds)
            floor = summary_ms([a + b for a, b in zip(floor_decode, floor_pass)])
            whole = summary_ms(full)
            six_view = summary_ms([d + s for d, s in zip(steps["decode"], steps["six_view_encode"])])
            rows[f"{width}x{height}"] = {
                "bytes": round(sum(len(p) for p in photos) / len(photos)),
                "floor_decode": summary_ms(floor_decode),
                "floor_pass": summary_ms(floor_pass),
                "floor": floor,
                "full": whole,
                "six_view_decode_and_encode": six_view,
                "ratio_median": whole["median_ms"] / floor["median_ms"],
                "ratio_p95": whole["p95_ms"] / floor["p95_ms"],
                "six_view_ratio_median": six_view["median_ms"] / floor["median_ms"],
                "steps_median_ms": {k: summary_ms(v)["median_ms"] for k, v in steps.items()},
            }
    return {
        "sizes": rows,
        "photos_per_size": photos_per_size,
        "repeats": repeats,
        "single_pass_side": analyzer.input_size,
        "hand_groups": sorted(analyzer.hand_groups),
        "first_call_ms": first_call * 1000,
        "goal": "full answer / floor (draft decode + one 224 px encoder pass) <= 1.5",
    }


def table(result: dict[str, Any]) -> str:
    rows = []
    for size, r in result["sizes"].items():
        rows.append(
            [
                size,
                r["floor"]["median_ms"],
                r["floor"]["p95_ms"],
                r["full"]["median_ms"],
                r["full"]["p95_ms"],
                r["ratio_median"],
                r["ratio_p95"],
                r["six_view_decode_and_encode"]["median_ms"],
                r["six_view_ratio_median"],
            ]
        )
    headers = [
        "photo",
        "floor p50 ms",
        "floor p95",
        "full p50 ms",
        "full p95",
        "full/floor p50",
        "full/floor p95",
        "six-view decode+encode p50 ms",
        "six-view/floor p50",
    ]
    order = (
        "decode",
        "faces",
        "hand",
        "encode",
        "appeal_head",
        "similarity_head",
        "concepts",
        "analyse",
        "predict",
        "hashtags",
    )
    steps = "; ".join(
        f"{size}: floor = decode {r['floor_decode']['median_ms']:.1f} + 224 px pass {r['floor_pass']['median_ms']:.1f}"
        " ms; full: "
        + ", ".join(f"{k} {r['steps_median_ms'][k]:.1f}" for k in order)
        + " ms; hand groups: "
        + ", ".join(
            f"{k.removeprefix('hand_')} {v:.2f}" for k, v in r["steps_median_ms"].items() if k.startswith("hand_")
        )
        + " ms; by side (decode, pass, hand features, pixel cues): "
        + ", ".join(
            f"{k.removeprefix('side_')} {v:.1f}" for k, v in r["steps_median_ms"].items() if k.startswith("side_")
        )
        + " ms"
        for size, r in result["sizes"].items()
    )
    return (
        format_table(headers, rows)
        + f"\n\nOne encoder pass at {result.get('single_pass_side', '?')} px; hand groups computed: "
        + f"{', '.join(result.get('hand_groups', []))}. Medians by step: {steps}"
    )


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.photo_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=5, help="distinct photos per size")
    parser.add_argument("--repeats", type=int, default=6, help="times each photo is measured")
    args = parser.parse_args(argv)
    result = measure(args.photos, args.repeats)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())
