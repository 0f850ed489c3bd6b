"""`likepredict evaluate likes`: the committed likes models on any accounts with likes, every row unseen.

Where posts have photos (our JSONL, instaloader folders) the photo's concepts come from the project's own
detectors (`analyse`), as at serving; where a source has Instagram's descriptions (influencers-2019), from
those. Rows with known concepts also get the within-account pairwise order, photo-aware and photo-blind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from core.records import Account, Post
from inference.card import load_card
from inference.concepts import named_concepts
from inference.likes_features import LIKES_FEATURE_NAMES, LIKES_FEATURES_VERSION, PostFacts, TagPopularity, photo_blind
from inference.onnx_model import OnnxModel
from inference.predictor import DescribedPhoto, photo_concepts
from models.training.likes import LIKES_MODEL_FILES
from models.training.likes_data import SourcedAccount, build_dataset, clean_account
from models.training.likes_metrics import baseline_metrics, mae_log_gain, model_metrics, photo_order, widen

Analyse = Callable[[list[Path]], Sequence[DescribedPhoto]]


def photo_paths(accounts: Sequence[Account]) -> list[Path]:
    """The local photos of the accounts' posts that exist on disk."""
    return [
        Path(p.image_path)
        for a in accounts
        for p in a.posts
        if p.image_path is not None and Path(p.image_path).is_file()
    ]


def evaluate_committed_likes(
    accounts: Sequence[Account], models_dir: Path, analyse: Analyse | None = None
) -> dict[str, Any]:
    """Metrics of the committed models on `accounts`; `analyse` (photo paths -> analyses) for posts with photos."""
    card = load_card(models_dir / "card.json")
    sessions = {name: OnnxModel(name, models_dir, card=card) for name in LIKES_MODEL_FILES}
    for session in sessions.values():
        session.check_schema(LIKES_FEATURE_NAMES, LIKES_FEATURES_VERSION)
    entry = sessions["likes"].entry
    popularity = TagPopularity.load(models_dir / entry["tag_popularity"]["file"], entry["tag_popularity"]["sha256"])
    widening = float(entry.get("range_widening", 1.0))
    reliable = named_concepts(card)
    paths = photo_paths(accounts) if analyse is not None else []
    analysed = dict(zip(paths, analyse(paths))) if analyse is not None and paths else {}

    def facts(post: Post, account: Account) -> PostFacts:
        seen = PostFacts.of(post, account.fetched_at)
        analysis = analysed.get(Path(post.image_path)) if post.image_path is not None else None
        if analysis is None:
            return seen
        return replace(
            seen,
            concepts=photo_concepts(analysis, reliable),
            width=seen.width or analysis.width,
            height=seen.height or analysis.height,
        )

    sourced = [SourcedAccount(clean_account(a), "data") for a in accounts]
    data = build_dataset(sourced, lambda i: popularity, facts=facts)
    if len(data) == 0:
        return {"rows": 0}
    outputs = {name: s.run(data.features).reshape(-1).astype(float) for name, s in sessions.items()}
    low, centre, high = outputs["likes_q10"], outputs["likes"], outputs["likes_q90"]
    result: dict[str, Any] = {"rows": len(data), "accounts": int(len(np.unique(data.groups)))}
    result.update({f"model_{k}": v for k, v in model_metrics(data, centre, low, high, widening).items()})
    result.update(mae_log_gain(data, data.likes_from(widen(low, centre, high, widening)[1]), seed=0))
    result.update({f"baseline_{k}": v for k, v in baseline_metrics(data).items()})
    blind = sessions["likes"].run(photo_blind(data.features)).reshape(-1).astype(float)
    photographed = {p.shortcode for a in accounts for p in a.posts if p.image_path and Path(p.image_path) in analysed}
    result.update(photo_order(data, centre, blind, seed=0, with_photo=np.isin(data.shortcodes, list(photographed))))
    result["photos_analysed"] = len(analysed)
    return result
