"""`likepredict train`: every training step, each skipped with a clear line when its data is not given.

load -> split -> fit -> evaluate against baselines -> export ONNX -> write models/card.json and
models/MODEL_CARD.md. A skipped step keeps its existing card entries. Seeds are fixed.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.paths import DEMO_DATA, MODELS_DIR
from inference.analyzer import PhotoAnalyzer
from inference.card import update_card
from inference.onnx_model import ModelMismatchError
from models.training.concept_eval import concept_step, encoder_detect
from models.training.hashtag_ranker import train_hashtag_ranker
from models.training.image_likes import train_image_likes
from models.training.likes import Log, train_likes
from scraping.datasets import read_any, read_influencers

DEFAULT_SEED = 7
STEP_NAMES = ("likes", "appeal", "similarity", "image-likes", "hashtags", "concepts")
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
) -> dict[str, Any]:
    """Run every step (or those named in `only`) whose data is given; returns the card as written."""
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
    for name, path, step in steps:
        if only and name not in only:
            continue
        if path is None:
            log(f"[{name}] skipped: no data given (its card entries are kept)")
            continue
        shown = ", ".join(str(p) for p in path) if isinstance(path, tuple) else path
        log(f"[{name}] training on {shown}")
        step_started, step_cpu = time.monotonic(), time.process_time()
        card = step(path) or card
        # CPU time too: on a shared machine the wall time says more about the neighbours than the step.
        log(f"[{name}] done in {time.monotonic() - step_started:.0f} s ({time.process_time() - step_cpu:.0f} s CPU)")
    log(f"training finished in {time.monotonic() - started:.0f} s; card: {models_dir / 'card.json'}")
    return card


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
