"""Wall time of the full training pipeline (`likepredict train`): likes models on influencers-2017, the
appeal model on the CLIVE photos when present, similarity and image-aware likes on the demo images.

    python -m benchmarks.training [--influencers PATH] [--photos DIR] [--data PATH]

Defaults are those of `likepredict train` (../shared/data/ beside the checkout, the bundled demo data).
It trains into a temporary copy of `models/`, so the committed models are never touched. Goal: < 5 minutes
on 2 cores.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS_DIR, format_table, report
from core.paths import DEMO_DATA, MODELS_DIR

NAME = "training"
STEP_LINE = re.compile(r"^\[(?P<step>[^\]]+)\] (?P<what>training on|skipped|done in)")


def copy_models(target: Path) -> None:
    """The committed artefacts (not the code): training reads the encoder and rewrites the card."""
    for path in MODELS_DIR.iterdir():
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            shutil.copy2(path, target / path.name)


def measure(
    influencers: Sequence[Path], photos: Path | None, data: Path | None, seed: int | None = None
) -> dict[str, Any]:
    from models.training.pipeline import DEFAULT_SEED, TrainingInputs, run_pipeline

    steps: dict[str, dict[str, Any]] = {}
    begun: dict[str, float] = {}

    def log(line: str) -> None:
        match = STEP_LINE.match(line)
        if match is None:
            return
        step, what = match.group("step"), match.group("what")
        if what == "training on":
            begun[step] = time.perf_counter()
        elif what == "skipped":
            steps[step] = {"seconds": None, "note": line.split("] ", 1)[1]}
        elif step in begun:
            steps[step] = {"seconds": time.perf_counter() - begun[step], "note": ""}

    inputs = TrainingInputs(influencers=tuple(influencers), photos=photos, data=data)
    with tempfile.TemporaryDirectory(prefix="likepredict-train-") as tmp:
        models_dir = Path(tmp)
        copy_models(models_dir)
        started = time.perf_counter()
        card = run_pipeline(inputs, models_dir, seed if seed is not None else DEFAULT_SEED, log)
        wall = time.perf_counter() - started
    return {
        "wall_seconds": wall,
        "steps": steps,
        "models_written": sorted((card or {}).get("models", {})),
        "inputs": {
            "influencers": [str(p) for p in inputs.influencers],
            "photos": str(inputs.photos) if inputs.photos else None,
            "data": str(inputs.data) if inputs.data else None,
        },
        "goal": "full pipeline < 300 s on 2 cores",
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        [step, "skipped" if info["seconds"] is None else f"{info['seconds']:.1f}", info["note"]]
        for step, info in result["steps"].items()
    ]
    rows.append(["whole pipeline", f"{result['wall_seconds']:.1f}", ", ".join(result["models_written"])])
    return format_table(["step", "seconds", "note / models written"], rows)


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    from models.training.pipeline import default_influencers, default_photos

    parser = argparse.ArgumentParser(prog="python -m benchmarks.training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--influencers", type=Path, action="append", help="repeatable; default: both shared files")
    parser.add_argument("--photos", type=Path, default=default_photos())
    parser.add_argument("--data", type=Path, default=DEMO_DATA)
    args = parser.parse_args(argv)
    result = measure(args.influencers or default_influencers(), args.photos, args.data)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())
