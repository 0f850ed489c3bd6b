"""The image-appeal model: crowd-rated photos -> a 0-100 score, fit, judged on held-out photos, exported to ONNX.

Features are the serving ones (hand features without the size, and the mean embedding over the encoder's
views). Target: the mean opinion score, mapped linearly so the training labels' lowest is 0 and highest
100. The regressor (standardised ridge; alpha chosen by 5-fold cross-validation on the training split only)
is fitted on the training split and shipped as it is, so the held-out figures describe the shipped model.
Baselines on the same held-out photos: ridge on the hand features alone, ridge on a single 224 px view
(what one resize of the photo sees), and sharpness alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from scipy.stats import pearsonr, spearmanr
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from inference.appeal import (
    APPEAL_FEATURE_NAMES,
    APPEAL_FEATURES_VERSION,
    APPEAL_HAND_FEATURES,
    AppealModel,
    appeal_inputs,
)
from inference.card import MODELS_DIR, model_entry, update_card
from inference.photo import HAND_FEATURE_NAMES
from models.training.photo_dataset import PhotoFeatures, load_photo_features
from scraping.datasets import DatasetError

APPEAL_FILE = "appeal.onnx"
HELD_OUT_FRACTION = 0.2
CV_FOLDS = 5
MIN_PHOTOS = 10
RIDGE_ALPHAS = (30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
HAND_RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
SHARPNESS = "sharpness_log_laplacian_var"
Log = Callable[[str], None]


# ---- metrics (pure) ----------------------------------------------------------------------------------


def pairwise_accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Share of photo pairs with different ratings that `predicted` orders as people did (ties count half)."""
    predicted, truth = np.asarray(predicted, dtype=float), np.asarray(truth, dtype=float)
    upper = np.triu_indices(len(truth), k=1)
    truth_sign = np.sign(truth[:, None] - truth[None, :])[upper]
    predicted_sign = np.sign(predicted[:, None] - predicted[None, :])[upper]
    rated = truth_sign != 0
    if not rated.any():
        return float("nan")
    agreement = np.where(predicted_sign[rated] == 0, 0.5, (predicted_sign[rated] == truth_sign[rated]).astype(float))
    return float(agreement.mean())


def ranking_metrics(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    predicted = np.asarray(predicted, dtype=float)
    constant = np.ptp(predicted) == 0
    return {
        "spearman": float("nan") if constant else float(spearmanr(predicted, truth)[0]),
        "pearson": float("nan") if constant else float(pearsonr(predicted, truth)[0]),
        "pairwise_accuracy": pairwise_accuracy(predicted, truth),
    }


def held_out_split(n: int, seed: int, fraction: float = HELD_OUT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    held = max(2, round(n * fraction))
    return np.sort(order[held:]), np.sort(order[:held])


# ---- fitting ----------------------------------------------------------------------------------------


def ridge(alpha: float) -> Pipeline:
    return make_pipeline(StandardScaler(), Ridge(alpha=alpha))


def choose_ridge(
    features: np.ndarray, target: np.ndarray, alphas: tuple[float, ...], seed: int
) -> tuple[Pipeline, dict[str, float]]:
    """The ridge whose cross-validated Spearman on (`features`, `target`) is highest, refitted on all of them."""
    folds = KFold(min(CV_FOLDS, len(target)), shuffle=True, random_state=seed)
    scores = {}
    for alpha in alphas:
        predicted = cross_val_predict(ridge(alpha), features, target, cv=folds)
        scores[alpha] = ranking_metrics(predicted, target)["spearman"]
    best = max(alphas, key=lambda alpha: np.nan_to_num(scores[alpha], nan=-1.0))
    return ridge(best).fit(features, target), {f"cv_spearman_alpha_{alpha:g}": score for alpha, score in scores.items()}


def export_onnx(model: Pipeline, n_features: int, path: Path) -> None:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    # A fixed graph name: skl2onnx would draw a random one, and the file must reproduce byte for byte.
    onnx_model = convert_sklearn(
        model, initial_types=[("features", FloatTensorType([None, n_features]))], target_opset=17, name="appeal"
    )
    path.write_bytes(onnx_model.SerializeToString())


def score_scale(mos: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(mos)), float(np.max(mos))
    if high <= low:
        raise DatasetError("every photo has the same rating; there is nothing to rank")
    return low, high


def train_appeal(
    photos_dir: Path, models_dir: Path = MODELS_DIR, seed: int = 0, cache: Path | None = None, log: Log = print
) -> dict[str, dict[str, Any]]:
    """Fit, judge and export the appeal model; writes `appeal.onnx` and its card entry, returns {"appeal": entry}."""
    photos_dir = Path(photos_dir)
    features = load_photo_features(photos_dir, models_dir, cache)
    if len(features.mos) < MIN_PHOTOS:
        raise DatasetError(f"{photos_dir}: needs at least {MIN_PHOTOS} rated photos, found {len(features.mos)}")
    low, high = score_scale(features.mos)
    target = 100.0 * (features.mos - low) / (high - low)
    train_rows, test_rows = held_out_split(len(target), seed)
    inputs = appeal_inputs(features.hand, features.embeddings)

    model, cv_scores = choose_ridge(inputs[train_rows], target[train_rows], RIDGE_ALPHAS, seed)
    held_out = ranking_metrics(model.predict(inputs[test_rows]), target[test_rows])
    metrics: dict[str, Any] = {f"held_out_{k}": v for k, v in held_out.items()}
    metrics.update(baseline_metrics(features, target, train_rows, test_rows, seed))
    metrics["alpha"] = float(model[-1].alpha)
    metrics.update(cv_scores)

    path = models_dir / APPEAL_FILE
    export_onnx(model, inputs.shape[1], path)
    metrics["onnx_vs_sklearn_max_abs_diff"] = onnx_parity(path, model, inputs[test_rows])
    entry = model_entry(
        path,
        APPEAL_FEATURE_NAMES,
        APPEAL_FEATURES_VERSION,
        metrics=metrics,
        data={
            "photos": photos_dir.name,
            "rated_photos": len(target),
            "train": len(train_rows),
            "held_out": len(test_rows),
            "seed": seed,
            "mos_low": low,
            "mos_high": high,
        },
        notes=(
            "standardised ridge on hand features + mean EfficientNet-Lite0 embedding over 6 views; "
            "score = predicted rating mapped so the training labels' min..max is 0..100; fitted on the training split only"
        ),
    )
    update_card({"appeal": entry}, models_dir)
    log(
        f"appeal: held-out Spearman {held_out['spearman']:.3f}, pairwise accuracy {held_out['pairwise_accuracy']:.3f} "
        f"(hand features alone {metrics['baseline_hand_spearman']:.3f}, one 224 px view {metrics['baseline_single_view_spearman']:.3f}, "
        f"sharpness alone {metrics['baseline_sharpness_spearman']:.3f}) on {len(test_rows)} photos"
    )
    return {"appeal": entry}


def baseline_metrics(
    features: PhotoFeatures, target: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray, seed: int
) -> dict[str, float]:
    hand_columns = [HAND_FEATURE_NAMES.index(name) for name in APPEAL_HAND_FEATURES]
    hand = features.hand[:, hand_columns]
    hand_model, _ = choose_ridge(hand[train_rows], target[train_rows], HAND_RIDGE_ALPHAS, seed)
    single_view = appeal_inputs(features.hand, features.view_embeddings[:, 0])
    single_model, _ = choose_ridge(single_view[train_rows], target[train_rows], RIDGE_ALPHAS, seed)
    sharpness = features.hand[test_rows, HAND_FEATURE_NAMES.index(SHARPNESS)]
    metrics = {}
    for name, predicted in (
        ("hand", hand_model.predict(hand[test_rows])),
        ("single_view", single_model.predict(single_view[test_rows])),
        ("sharpness", sharpness),
    ):
        metrics.update({f"baseline_{name}_{k}": v for k, v in ranking_metrics(predicted, target[test_rows]).items()})
    return metrics


def onnx_parity(path: Path, model: Pipeline, inputs: np.ndarray) -> float:
    """Largest difference between the exported model and scikit-learn on `inputs` (before clipping to 0..100)."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    exported = session.run(None, {session.get_inputs()[0].name: inputs.astype(np.float32)})[0].reshape(-1)
    difference = np.abs(exported - model.predict(inputs)).max()
    if difference > 1e-2:
        raise RuntimeError(f"the exported appeal model differs from scikit-learn by {difference:.3g}")
    return float(difference)


def evaluate_appeal(photos_dir: Path, models_dir: Path = MODELS_DIR, cache: Path | None = None) -> dict[str, float]:
    """The committed appeal model on every photo of `photos_dir` (all treated as unseen), with sharpness alone beside it."""
    features = load_photo_features(Path(photos_dir), models_dir, cache)
    scores = AppealModel(models_dir).score(features.hand, features.embeddings)
    sharpness = features.hand[:, HAND_FEATURE_NAMES.index(SHARPNESS)]
    metrics: dict[str, float] = {"photos": float(len(scores))}
    metrics.update(ranking_metrics(scores, features.mos))
    metrics.update({f"baseline_sharpness_{k}": v for k, v in ranking_metrics(sharpness, features.mos).items()})
    return metrics
