"""Subcommands `train`, `evaluate likes`, `evaluate appeal` and `predict`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from app.services import open_services
from core.errors import LikepredictError
from core.paths import DEMO_DATA, MODELS_DIR
from core.records import Account
from core.settings import Settings
from inference.analyzer import PhotoAnalyzer
from inference.predictor import LikesPrediction
from models.training.appeal import evaluate_appeal
from models.training.likes_evaluate import evaluate_committed_likes, photo_paths
from models.training.pipeline import (
    DEFAULT_JOBS,
    DEFAULT_SEED,
    STEP_NAMES,
    TrainingInputs,
    default_influencers,
    default_photos,
    image_step,
    run_pipeline,
)
from scraping.datasets import read_any


class TrainingDataError(LikepredictError):
    """A path given to `train` or `evaluate` does not exist, or a step cannot run."""


def register(commands: argparse._SubParsersAction, evaluate: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train the models and rewrite models/card.json",
        description="Every step whose data is given; `train similarity DATA` runs only that step.",
    )
    train.add_argument("step", nargs="*", metavar="similarity DATA", help="run only the similarity step on DATA")
    train.add_argument(
        "--influencers",
        type=Path,
        action="append",
        help="an influencers file of either year, format detected (repeatable; default: both in ../shared/data/)",
    )
    train.add_argument("--photos", type=Path, help="CLIVE-style folder with labels.csv (default: ../shared/data/clive)")
    train.add_argument("--data", type=Path, default=DEMO_DATA, help="accounts with photos and likes (default: demo)")
    train.add_argument("--only", action="append", choices=STEP_NAMES, help="run only this step (repeatable)")
    train.add_argument("--seed", type=int, default=DEFAULT_SEED)
    train.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"steps run at once in worker processes, same result as 1 (default {DEFAULT_JOBS})",
    )
    train.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    train.set_defaults(func=train_command)

    likes = evaluate.add_parser("likes", help="the committed likes models on accounts with likes")
    likes.add_argument(
        "--influencers",
        type=Path,
        action="append",
        help="an influencers file of either year (repeatable; default: both in ../shared/data/)",
    )
    likes.add_argument(
        "--data",
        type=Path,
        action="append",
        help="anything `import` reads: an instaloader folder, likepredict .jsonl, an influencers file (repeatable)",
    )
    likes.add_argument("--json", action="store_true", help="print one JSON object")
    likes.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    likes.set_defaults(func=evaluate_likes_command)

    appeal = evaluate.add_parser("appeal", help="the committed appeal model on a folder with labels.csv")
    appeal.add_argument("--photos", type=Path, help="default: ../shared/data/clive")
    appeal.add_argument("--json", action="store_true", help="print one JSON object")
    appeal.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    appeal.set_defaults(func=evaluate_appeal_command)

    predict = commands.add_parser("predict", help="predicted likes, range and appeal for photos of an account")
    predict.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    predict.add_argument("--handle", required=True, help="the Instagram account, e.g. @demo_creator")
    predict.add_argument("--hashtags", default="", help="comma-separated hashtags the post will carry")
    predict.add_argument("--caption-length", type=int, default=0)
    predict.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    predict.set_defaults(func=predict_command)


def _existing(path: Path | None, what: str) -> Path | None:
    if path is not None and not path.exists():
        raise TrainingDataError(f"{path}: no such {what}")
    return path


def train_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.step:
        if len(args.step) != 2 or args.step[0] != "similarity":
            raise TrainingDataError("usage: likepredict train similarity DATA")
        data = Path(args.step[1])
        _existing(data, "file or folder")
        return (
            0
            if image_step("similarity", "train_similarity", data, args.models_dir, args.seed, print) is not None
            else 1
        )
    inputs = TrainingInputs(
        influencers=tuple(_existing(p, "file") or p for p in args.influencers or ()) or default_influencers(),
        photos=_existing(args.photos, "folder") or default_photos(),
        data=_existing(args.data, "file or folder"),
    )
    run_pipeline(
        inputs, args.models_dir, args.seed, log=lambda line: print(line, flush=True), only=args.only, jobs=args.jobs
    )
    return 0


def _print_metrics(metrics: dict, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(metrics, sort_keys=True))
        return
    print(title)
    for key, value in metrics.items():
        print(f"  {key}: {value}")


def evaluate_likes_command(args: argparse.Namespace, settings: Settings) -> int:
    given = [*(args.influencers or ()), *(args.data or ())]
    paths = [_existing(p, "file or folder") or p for p in given] or list(default_influencers())
    if not paths:
        print("evaluate likes: skipped, no --data or --influencers given and ../shared/data/ has no influencers file")
        return 1
    accounts = [account for path in paths for account in read_any(path)]
    # Posts with photos are judged as served: the photo's concepts from the project's own detectors.
    analyse = PhotoAnalyzer(args.models_dir).analyse if photo_paths(accounts) else None
    metrics = evaluate_committed_likes(accounts, args.models_dir, analyse)
    shown = ", ".join(str(p) for p in paths)
    _print_metrics(metrics, args.json, f"committed likes models on {shown} (every row treated as unseen)")
    return 0


def evaluate_appeal_command(args: argparse.Namespace, settings: Settings) -> int:
    path = _existing(args.photos, "folder") or default_photos()
    if path is None:
        print("evaluate appeal: skipped, no --photos given and ../shared/data/clive is absent")
        return 1
    _print_metrics(evaluate_appeal(path, args.models_dir), args.json, f"committed appeal model on {path}")
    return 0


def predict_command(args: argparse.Namespace, settings: Settings) -> int:
    photos = [_existing(p, "photo") or p for p in args.photos]
    hashtags = [t.strip() for t in args.hashtags.split(",") if t.strip()]

    async def run() -> tuple[Account, list[LikesPrediction]]:
        service = await open_services(settings, models_dir=args.models_dir)
        try:
            return await service.predict_photos(args.handle, photos, hashtags, args.caption_length)
        finally:
            await service.aclose()

    account, predictions = asyncio.run(run())
    out = sys.stdout
    out.write(f"@{account.handle}: {account.followers:,} followers\n")
    for photo, prediction in zip(args.photos, predictions):
        appeal = "n/a" if prediction.appeal is None else f"{prediction.appeal:.0f}/100"
        out.write(
            f"{photo.name}: about {prediction.likes:,.0f} likes (likely {prediction.low:,.0f}"
            f"-{prediction.high:,.0f}), appeal {appeal}\n"
        )
    if predictions:
        out.write(f"  {predictions[0].note}\n")
    if len(predictions) > 1:
        ranked = sorted(zip(args.photos, predictions), key=lambda item: (-item[1].likes, -(item[1].appeal or 0)))
        out.write("Ranking: " + ", ".join(f"{i}. {p.name}" for i, (p, _) in enumerate(ranked, start=1)) + "\n")
    return 0
