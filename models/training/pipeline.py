"""`likepredict train`: every training step, each skipped with a clear line when its data is not given.

load -> split -> fit -> evaluate against baselines -> export ONNX -> write models/card.json and
models/MODEL_CARD.md. A skipped step keeps its existing card entries. Seeds are fixed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from core.paths import DEMO_DATA, MODELS_DIR
from inference.analyzer import PhotoAnalyzer
from inference.card import load_card, update_card
from inference.onnx_model import ModelMismatchError
from models.training.concept_eval import concept_step, encoder_detect
from models.training.hashtag_ranker import train_hashtag_ranker
from models.training.image_likes import train_image_likes
from models.training.likes import Log, train_likes
from models.training.pipeline_workers import run_in_workers
from scraping.datasets import read_any, read_influencers

DEFAULT_SEED = 7
STEP_NAMES = ("likes", "appeal", "similarity", "image-likes", "hashtags", "concepts")
DEFAULT_JOBS = 2  # `likepredict train` runs two steps at once: the benchmark machine's cores
# What each step reads that another step writes; a step starts only after those (when they run at all).
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "similarity": ("appeal",),  # the appeal model's input size is the encoder pass the head is fitted on
    "image-likes": ("likes", "appeal", "similarity"),  # the likes model, and the photo analyser (both heads)
    "concepts": ("appeal", "similarity"),  # the photo analyser loads both heads
}
# Which ready step a free worker takes first: the longest chain of work left (appeal -> similarity ->
# concepts: about 156 s in the benchmark of 2 December; hashtags about 125 s; likes and image-likes last).
WORKER_ORDER = ("appeal", "hashtags", "similarity", "concepts", "likes", "image-likes")
# Beside a checkout (../shared/data); an installed package has no default and takes paths on the command line.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


INFLUENCERS_FILES = ("influencers-2017.jsonl", "influencers-2019.jsonl")


def default_influencers() -> tuple[Path, ...]:
    """Both years' shared files, those present."""
    return tuple(path for name in INFLUENCERS_FILES if (path := SHARED_DATA / name).is_file())


def default_photos() -> Path | None:
    path = SHARED_DATA / "clive"
    return path if path.is_dir() else None


@dataclass(frozen=True)
class TrainingInputs:
    influencers: tuple[Path, ...] = ()  # influencers files of either year, trained on together
    photos: Path | None = None
    data: Path | None = None


def run_pipeline(
    inputs: TrainingInputs,
    models_dir: Path = MODELS_DIR,
    seed: int = DEFAULT_SEED,
    log: Log = print,
    only: Sequence[str] | None = None,
    jobs: int = 1,
) -> dict[str, Any]:
    """Run every step (or those named in `only`) whose data is given; returns the card as written.

    With `jobs` > 1, that many steps at a time in worker processes (models/training/pipeline_workers.py),
    with the same result byte for byte as one after another."""
    models_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    card: dict[str, Any] = {}
    steps: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("likes", inputs.influencers or None, lambda paths: likes_step(paths, models_dir, seed, log)),
        ("appeal", inputs.photos, lambda path: image_step("appeal", "train_appeal", path, models_dir, seed, log)),
        (
            "similarity",
            inputs.data,
            lambda path: image_step("similarity", "train_similarity", path, models_dir, seed, log),
        ),
        ("image-likes", inputs.data, lambda path: image_likes_step(path, models_dir, log)),
        ("hashtags", inputs.influencers or None, lambda paths: hashtags_step(paths, models_dir, seed, log)),
        ("concepts", inputs.photos, lambda path: concepts_step(path, models_dir, log)),
    ]
    runnable = []
    for name, path, step in steps:
        if only and name not in only:
            continue
        if path is None:
            log(f"[{name}] skipped: no data given (its card entries are kept)")
            continue
        runnable.append((name, path, step))
    if jobs > 1 and len(runnable) > 1:
        names = [name for name in WORKER_ORDER if name in {n for n, _, _ in runnable}]
        log(f"training {', '.join(names)}: {jobs} at a time in worker processes")
        run_in_workers(
            names, DEPENDS_ON, lambda name, folder: worker_command(inputs, name, folder, seed), models_dir, jobs, log
        )
        card = load_card(models_dir / "card.json")
    else:
        for name, path, step in runnable:
            shown = ", ".join(str(p) for p in path) if isinstance(path, tuple) else path
            log(f"[{name}] training on {shown}")
            step_started, step_cpu = time.monotonic(), time.process_time()
            # One BLAS and OpenMP thread: solvers (lbfgs, eigh) sum in another order with more threads, and the
            # files must not depend on the machine's cores; two steps at a time use both cores anyway, and
            # OpenMP threads of two workers spinning on two cores cost several times the work.
            with threadpool_limits(limits=1):
                card = step(path) or card
            # CPU time too: on a shared machine the wall time says more about the neighbours than the step.
            seconds, cpu = time.monotonic() - step_started, time.process_time() - step_cpu
            log(f"[{name}] done in {seconds:.1f} s ({cpu:.1f} s CPU)")
    log(f"training finished in {time.monotonic() - started:.0f} s; card: {models_dir / 'card.json'}")
    return card


def worker_command(inputs: TrainingInputs, step: str, models_dir: Path, seed: int) -> list[str]:
    """The command line that runs one step alone on `models_dir` (see `main` below)."""
    command = [sys.executable, "-m", "models.training.pipeline", step, "--models-dir", str(models_dir)]
    command += ["--seed", str(seed)]
    for path in inputs.influencers:
        command += ["--influencers", str(path.resolve())]
    if inputs.photos is not None:
        command += ["--photos", str(inputs.photos.resolve())]
    if inputs.data is not None:
        command += ["--data", str(inputs.data.resolve())]
    return command


def likes_step(paths: Sequence[Path], models_dir: Path, seed: int, log: Log) -> dict[str, Any]:
    years = [list(read_influencers(path)) for path in paths]
    entries, report = train_likes(years, models_dir, seed, data_names=[p.name for p in paths], log=log)
    return update_card(entries, models_dir, report)


def image_step(name: str, function: str, path: Path, models_dir: Path, seed: int, log: Log) -> dict[str, Any] | None:
    """Run the IMAGE engineer's `models.training.<name>.<function>(path, models_dir, seed)`."""
    try:
        train = getattr(importlib.import_module(f"models.training.{name}"), function)
    except (ImportError, AttributeError):
        log(f"[{name}] skipped: models/training/{name}.py:{function} is not available in this checkout")
        return None
    result = train(path, models_dir, seed)
    entries = (
        result
        if isinstance(result, dict) and all(isinstance(v, dict) and "file" in v for v in result.values())
        else None
    )
    return update_card(entries, models_dir) if entries else None


def image_likes_step(path: Path, models_dir: Path, log: Log) -> dict[str, Any] | None:
    try:
        analyzer = PhotoAnalyzer(models_dir=models_dir)
    except (ImportError, ModelMismatchError) as error:
        log(f"[image-likes] skipped: the photo analyser is not available ({error})")
        return None
    accounts = list(read_any(path))
    synthetic = path.resolve() == DEMO_DATA.resolve()
    trained = train_image_likes(accounts, models_dir, analyzer.analyse, path.name, synthetic, log)  # type: ignore[arg-type]
    if trained is None:
        return None
    entries, report = trained
    return update_card(entries, models_dir, report)


def hashtags_step(paths: Sequence[Path], models_dir: Path, seed: int, log: Log) -> dict[str, Any]:
    """The hashtag ranker on the influencers files given (both years by default), each reported by name."""
    years = {path.stem: list(read_influencers(path)) for path in dict.fromkeys(paths)}
    entries = train_hashtag_ranker(years, models_dir, seed, {year: year + ".jsonl" for year in years}, log)
    return update_card(entries, models_dir)


def concepts_step(path: Path, models_dir: Path, log: Log) -> dict[str, Any] | None:
    try:
        detect = encoder_detect(models_dir)
    except (ImportError, ModelMismatchError) as error:
        log(f"[concepts] skipped: the encoder or its classifier head is not available ({error})")
        return None
    return concept_step(path, detect, models_dir, log)


def main(argv: Sequence[str] | None = None) -> int:
    """One step in this process: what `run_pipeline(jobs=2)` starts in each worker."""
    parser = argparse.ArgumentParser(prog="python -m models.training.pipeline")
    parser.add_argument("step", choices=STEP_NAMES)
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--influencers", type=Path, action="append", default=[])
    parser.add_argument("--photos", type=Path)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args(argv)
    inputs = TrainingInputs(tuple(args.influencers), args.photos, args.data)
    run_pipeline(inputs, args.models_dir, args.seed, lambda line: print(line, flush=True), only=[args.step])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
