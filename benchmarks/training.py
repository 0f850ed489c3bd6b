"""Wall time of the full training pipeline exactly as `likepredict train` runs it (every step, two at a time
in worker processes), and each step's own wall and CPU seconds, against the goal of 300 s on 2 cores.

    python -m benchmarks.training [--influencers PATH]... [--photos DIR] [--data PATH] [--jobs N]

Defaults are those of `likepredict train` (../shared/data/ beside the checkout, the bundled demo data).
It trains into a temporary copy of `models/`, so the committed models are never touched. A step's seconds
are its own (measured inside its worker); with two at a time the whole is less than their sum, which the
result also gives (`steps_serial_seconds`). On a shared machine the CPU seconds say more than the wall time.
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
GOAL_SECONDS = 300.0
STEP_DONE = re.compile(r"^\[(?P<step>[^\]]+)\] done in (?P<seconds>[\d.]+) s \((?P<cpu>[\d.]+) s CPU\)")
STEP_SKIPPED = re.compile(r"^\[(?P<step>[^\]]+)\] skipped: (?P<note>.*)")


def copy_models(target: Path) -> None:
    """The committed artefacts (not the code): training reads the encoder and rewrites the card."""
    for path in MODELS_DIR.iterdir():
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            shutil.copy2(path, target / path.name)


def step_times(lines: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each step's seconds and CPU seconds from the pipeline's log, or why it was skipped."""
    steps: dict[str, dict[str, Any]] = {}
    for line in lines:
        if done := STEP_DONE.match(line):
            steps[done["step"]] = {"seconds": float(done["seconds"]), "cpu_seconds": float(done["cpu"]), "note": ""}
        elif skipped := STEP_SKIPPED.match(line):
            steps.setdefault(skipped["step"], {"seconds": None, "cpu_seconds": None, "note": skipped["note"]})
    return steps


def measure(
    influencers: Sequence[Path],
    photos: Path | None,
    data: Path | None,
    seed: int | None = None,
    jobs: int | None = None,
    keep: Path | None = None,
) -> dict[str, Any]:
    from models.training.pipeline import DEFAULT_JOBS, DEFAULT_SEED, TrainingInputs, run_pipeline

    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    inputs = TrainingInputs(influencers=tuple(influencers), photos=photos, data=data)
    jobs = jobs if jobs is not None else DEFAULT_JOBS
    with tempfile.TemporaryDirectory(prefix="likepredict-train-") as tmp:
        models_dir = Path(tmp) if keep is None else keep
        models_dir.mkdir(parents=True, exist_ok=True)
        copy_models(models_dir)
        started = time.perf_counter()
        card = run_pipeline(inputs, models_dir, seed if seed is not None else DEFAULT_SEED, log, jobs=jobs)
        wall = time.perf_counter() - started
    steps = step_times(lines)
    timed = [info for info in steps.values() if info["seconds"] is not None]
    return {
        "wall_seconds": round(wall, 1),
        "goal_seconds": GOAL_SECONDS,
        "under_goal": wall < GOAL_SECONDS,
        "jobs": jobs,
        "steps": steps,
        "steps_serial_seconds": round(sum(info["seconds"] for info in timed), 1),
        "steps_cpu_seconds": round(sum(info["cpu_seconds"] for info in timed), 1),
        "models_written": sorted((card or {}).get("models", {})),
        "inputs": {
            "influencers": [str(p) for p in inputs.influencers],
            "photos": str(inputs.photos) if inputs.photos else None,
            "data": str(inputs.data) if inputs.data else None,
        },
        "goal": "full pipeline (`likepredict train`) < 300 s on 2 cores",
    }


def table(result: dict[str, Any]) -> str:
    """The printed table (also from an older result file, which lacks the CPU figures)."""

    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    rows = [
        [
            step,
            "skipped" if info["seconds"] is None else cell(info["seconds"]),
            cell(info.get("cpu_seconds")),
            info["note"],
        ]
        for step, info in result["steps"].items()
    ]
    if "steps_serial_seconds" in result:
        rows.append(["sum of the steps (each timed in its worker)", cell(result["steps_serial_seconds"]), "", ""])
    goal = result.get("goal_seconds", GOAL_SECONDS)
    verdict = "under" if result["wall_seconds"] < goal else "OVER"
    rows.append(
        [
            f"whole pipeline, {result.get('jobs', 1)} at a time",
            cell(result["wall_seconds"]),
            cell(result.get("steps_cpu_seconds")),
            f"{verdict} the {goal:.0f} s goal; models: {', '.join(result['models_written'])}",
        ]
    )
    return format_table(["step", "seconds", "CPU seconds", "note"], rows)


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    from models.training.pipeline import default_influencers, default_photos

    parser = argparse.ArgumentParser(prog="python -m benchmarks.training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--influencers", type=Path, action="append", help="repeatable; default: both shared files")
    parser.add_argument("--photos", type=Path, default=default_photos())
    parser.add_argument("--data", type=Path, default=DEMO_DATA)
    parser.add_argument("--jobs", type=int, help="steps at once (default: as `likepredict train`)")
    parser.add_argument("--keep", type=Path, help="train into this folder and leave it (to compare two runs' bytes)")
    args = parser.parse_args(argv)
    result = measure(args.influencers or default_influencers(), args.photos, args.data, jobs=args.jobs, keep=args.keep)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())
