"""Image-aware likes: how much a photo, compared with the account's own recent photos, moves its likes.

Needs accounts whose posts have both likes and images (the demo data, instaloader folders). The model is
a ridge regression from the likes model's output plus the photo's appeal and a few traits minus the means
of the account's previous photos, to the same target as the likes model. It is judged leave-one-account-
out against the likes model alone; if the photo adds nothing there, the figures say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from core.records import Account
from inference.card import load_card, model_entry
from inference.likes_features import MIN_PREVIOUS_POSTS, PostFacts, TagPopularity, account_likes_features, is_settled
from inference.likes_image_features import (
    IMAGE_LIKES_FEATURE_NAMES,
    IMAGE_LIKES_FEATURES_VERSION,
    MIN_REFERENCE_PHOTOS,
    AnalysedPhoto,
    photo_vs_recent,
)
from inference.onnx_model import OnnxModel
from models.training.likes import Log
from models.training.likes_data import clean_account
from models.training.likes_metrics import likes_metrics

RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
REFERENCE_PHOTOS = 20
IMAGE_LIKES_FILE = "likes_image.onnx"


@dataclass
class ImageLikesDataset:
    features: np.ndarray  # (n, len(IMAGE_LIKES_FEATURE_NAMES)) float32
    target: np.ndarray
    likes: np.ndarray
    baseline_median: np.ndarray
    groups: np.ndarray  # account index

    def __len__(self) -> int:
        return len(self.target)


def image_likes_dataset(
    accounts: Sequence[Account],
    popularity: TagPopularity,
    likes_model: Callable[[np.ndarray], np.ndarray],
    analysed: dict[Path, AnalysedPhoto],
) -> ImageLikesDataset:
    """Rows for settled posts with an analysed photo, enough history and enough earlier analysed photos."""
    rows, targets, likes, medians, groups = [], [], [], [], []
    for index, account in enumerate(accounts):
        for post in account.posts:
            if post.likes is None or post.image_path not in analysed or not is_settled(post, account.fetched_at):
                continue
            earlier = sorted(
                (p for p in account.posts if p.taken_at < post.taken_at and p.image_path in analysed),
                key=lambda p: p.taken_at,
                reverse=True,
            )[:REFERENCE_PHOTOS]
            if len(earlier) < MIN_REFERENCE_PHOTOS:
                continue
            row = account_likes_features(account, PostFacts.of(post), popularity)
            if row.n_previous < MIN_PREVIOUS_POSTS:
                continue
            output = float(likes_model(row.features[None, :])[0])
            rows.append(photo_vs_recent(output, analysed[post.image_path], [analysed[p.image_path] for p in earlier]))  # type: ignore[index]
            targets.append(math.log1p(post.likes) - row.baseline_log)
            likes.append(post.likes)
            medians.append(row.baseline_median)
            groups.append(index)
    return ImageLikesDataset(
        features=np.array(rows, dtype=np.float32).reshape(-1, len(IMAGE_LIKES_FEATURE_NAMES)),
        target=np.array(targets, dtype=float),
        likes=np.array(likes, dtype=float),
        baseline_median=np.array(medians, dtype=float),
        groups=np.array(groups, dtype=int),
    )


def fit_image_likes(features: np.ndarray, target: np.ndarray) -> Pipeline:
    """Scaler + ridge; the penalty picked by (efficient leave-one-out) cross-validation on these rows."""
    alpha = make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS)).fit(features, target)[-1].alpha_
    return make_pipeline(StandardScaler(), Ridge(alpha=float(alpha))).fit(features, target)


def leave_one_account_out(data: ImageLikesDataset) -> dict[str, float]:
    """Each account predicted by a model fitted on the others: with the photo vs the likes model alone."""
    with_photo = np.empty(len(data))
    for group in np.unique(data.groups):
        held = data.groups == group
        model = fit_image_likes(data.features[~held], data.target[~held])
        with_photo[held] = model.predict(data.features[held])
    base_log = np.log1p(data.baseline_median)
    without = likes_metrics(data.likes, np.expm1(data.features[:, 0] + base_log))
    photo = likes_metrics(data.likes, np.expm1(with_photo + base_log))
    metrics = {f"with_photo_{k}": v for k, v in photo.items()}
    metrics.update({f"likes_model_alone_{k}": v for k, v in without.items()})
    return metrics


def export_image_likes(model: Pipeline, path: Path) -> Path:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    onnx_model = to_onnx(
        model, initial_types=[("features", FloatTensorType([None, len(IMAGE_LIKES_FEATURE_NAMES)]))], target_opset=17
    )
    path.write_bytes(onnx_model.SerializeToString())
    return path


def train_image_likes(
    accounts: Sequence[Account],
    models_dir: Path,
    analyse: Callable[[list[Path]], list[AnalysedPhoto]],
    data_name: str,
    synthetic: bool,
    log: Log = print,
) -> tuple[dict, dict] | None:
    """Fit, judge leave-one-account-out and export `likes_image.onnx`; None (with a line) when data is lacking."""
    card = load_card(models_dir / "card.json")
    if "likes" not in card.get("models", {}):
        log("image-aware likes: skipped, no likes model in the card yet (train it with --influencers)")
        return None
    likes_model = OnnxModel("likes", models_dir, card=card)
    tag_entry = likes_model.entry["tag_popularity"]
    popularity = TagPopularity.load(models_dir / tag_entry["file"], tag_entry["sha256"])
    accounts = [clean_account(a) for a in accounts]
    paths = sorted({p.image_path for a in accounts for p in a.posts if p.image_path and Path(p.image_path).is_file()})
    if not paths:
        log(f"image-aware likes: skipped, {data_name} has no photos")
        return None
    log(f"image-aware likes: analysing {len(paths)} photos")
    analysed = dict(zip(paths, analyse(paths)))
    data = image_likes_dataset(accounts, popularity, lambda x: likes_model.run(x).reshape(-1), analysed)
    n_accounts = len(np.unique(data.groups))
    if n_accounts < 3 or len(data) < 30:
        log(f"image-aware likes: skipped, only {len(data)} usable posts from {n_accounts} accounts")
        return None
    metrics = leave_one_account_out(data)
    log("image-aware likes (leave one account out): " + ", ".join(f"{k} {v}" for k, v in metrics.items()))
    model = fit_image_likes(data.features, data.target)
    coefficients = dict(zip(IMAGE_LIKES_FEATURE_NAMES, (model[-1].coef_ / model[0].scale_).round(5).tolist()))
    notes = (
        "Learned from SYNTHETIC demo data: its figures say nothing about real accounts, and the predictor "
        "applies it only to the accounts it was learned from."
        if synthetic
        else "Learned from real accounts with photos."
    )
    data_info = {
        "source": data_name,
        "synthetic": synthetic,
        "rows": len(data),
        "accounts": n_accounts,
        "account_handles": sorted({accounts[g].handle for g in np.unique(data.groups)}),
        "evaluation": "leave one account out",
        "appeal_model_sha256": card["models"].get("appeal", {}).get("sha256"),
    }
    entry = model_entry(
        export_image_likes(model, models_dir / IMAGE_LIKES_FILE),
        IMAGE_LIKES_FEATURE_NAMES,
        IMAGE_LIKES_FEATURES_VERSION,
        metrics,
        data_info,
        notes,
        ridge_alpha=float(model[-1].alpha),
        coefficients_per_unit=coefficients,
    )
    return {"likes_image": entry}, {}
