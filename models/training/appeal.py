"""The image-appeal model: crowd-rated photos -> a 0-100 score, fit, judged on held-out photos, exported to ONNX.

Inputs come from ONE encoder pass (pooled embedding, stage statistics, logits) and the hand features that
pay for their cost. Target: the mean opinion score, mapped linearly so the training labels' lowest is 0 and
highest 100. Every choice is made by 5-fold cross-validation on the training split only
(`models/training/appeal_choice.py`): the single-pass size, the blocks' weights and ridge alpha, hand-feature
groups, and the head (the ridge, or an RBF support-vector regression on the same weighted inputs when it buys
more than its extra cost). The chosen head is fitted on the training split and shipped as it is, so the
held-out figures describe the shipped model. Baselines on the same held-out photos: the earlier six-view
model's recipe, one 224 px view, the hand features alone and sharpness alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from scipy.stats import pearsonr, spearmanr
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from inference.appeal import (
    APPEAL_FEATURES_VERSION,
    APPEAL_HAND_CANDIDATES,
    EMBEDDING_NAMES,
    LOGIT_NAMES,
    STAGE_NAMES,
    AppealModel,
    appeal_inputs,
    input_columns,
)
from inference.card import MODELS_DIR, model_entry, update_card
from inference.encoder import EMBEDDING_SIZE
from inference.photo import HAND_FEATURE_NAMES
from models.training.appeal_choice import (
    RIDGE_ALPHAS,
    InputChoice,
    Log,
    choose_inputs,
    hand_names,
    pass_cost_ms,
    relative_cost,
)
from models.training.appeal_cv import SVR_EPSILON, Choice, RbfChoice, weights_label
from models.training.photo_dataset import PhotoFeatures, load_photo_features
from scraping.datasets import DatasetError

APPEAL_FILE = "appeal.onnx"
HELD_OUT_FRACTION = 0.2
CV_FOLDS = 5
MIN_PHOTOS = 10
HAND_RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
SHARPNESS = "sharpness_log_laplacian_var"


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


# ---- the shipped model -----------------------------------------------------------------------------


def model_names(choice: Choice, groups: list[str]) -> list[str]:
    names = hand_names(groups) if choice.weights.get("hand", 0) > 0 else []
    blocks = {"embedding": EMBEDDING_NAMES, "stage_stats": STAGE_NAMES, "logits": LOGIT_NAMES}
    return names + [
        name for block, block_names in blocks.items() if choice.weights.get(block, 0) > 0 for name in block_names
    ]


def column_weights(names: list[str], choice: Choice) -> np.ndarray:
    """Per column: block weight * sqrt(1280 / block width), the scaling `normalised_grams` used."""
    block_of = {**dict.fromkeys(EMBEDDING_NAMES, "embedding"), **dict.fromkeys(STAGE_NAMES, "stage_stats")}
    block_of.update(dict.fromkeys(LOGIT_NAMES, "logits"))
    blocks = [block_of.get(name, "hand") for name in names]
    widths = {block: blocks.count(block) for block in set(blocks)}
    return np.array([choice.weights[b] * np.sqrt(EMBEDDING_SIZE / widths[b]) for b in blocks])


def weighted_scaler(inputs: np.ndarray, weights: np.ndarray) -> StandardScaler:
    """Standardise, then scale each column by its weight: folded into the scaler, so ONNX sees one scaler."""
    scaler = StandardScaler().fit(inputs)
    scaler.scale_ = np.where(scaler.scale_ > 1e-12, scaler.scale_, 1.0) / weights
    return scaler


def fit_weighted_ridge(inputs: np.ndarray, target: np.ndarray, weights: np.ndarray, alpha: float) -> Pipeline:
    scaler = weighted_scaler(inputs, weights)
    model = Ridge(alpha=alpha).fit(scaler.transform(inputs), target)
    return Pipeline([("standardscaler", scaler), ("ridge", model)])


def fit_weighted_rbf(inputs: np.ndarray, target: np.ndarray, weights: np.ndarray, rbf: RbfChoice) -> Pipeline:
    """The RBF head on the same weighted columns `best_rbf` measured (its gamma is already absolute)."""
    scaler = weighted_scaler(inputs, weights)
    model = SVR(kernel="rbf", gamma=rbf.gamma, C=rbf.C, epsilon=SVR_EPSILON).fit(scaler.transform(inputs), target)
    return Pipeline([("standardscaler", scaler), ("svr", model)])


def fit_head(inputs: np.ndarray, target: np.ndarray, names: list[str], choice: InputChoice) -> Pipeline:
    weights = column_weights(names, choice.ridge)
    if choice.head == "rbf_svr":
        return fit_weighted_rbf(inputs, target, weights, choice.rbf)
    return fit_weighted_ridge(inputs, target, weights, choice.ridge.alpha)


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

    choice = choose_inputs(features, target, train_rows, seed, log)
    size, groups = choice.size, choice.groups
    names = model_names(choice.ridge, groups)
    columns = input_columns(names)
    inputs = appeal_inputs(features.hand[size], features.single_pass[size], columns)
    model = fit_head(inputs[train_rows], target[train_rows], names, choice)
    held_out = ranking_metrics(model.predict(inputs[test_rows]), target[test_rows])
    metrics: dict[str, Any] = {f"held_out_{k}": v for k, v in held_out.items()}
    metrics.update(baseline_metrics(features, size, target, train_rows, test_rows, seed))
    metrics.update(
        cv_spearman=choice.cv_spearman,
        cv_spearman_ridge=choice.ridge.cv_spearman,
        cv_spearman_rbf_svr=choice.rbf.cv_spearman,
        alpha=choice.ridge.alpha,
        encoder_relative_cost=relative_cost(size),
        **{f"pass_cost_ms_{s}": pass_cost_ms(s) for s in features.single_pass},
        **{f"block_weight_{block}": weight for block, weight in choice.ridge.weights.items()},
        **choice.variants,
    )

    path = models_dir / APPEAL_FILE
    export_onnx(model, inputs.shape[1], path)
    metrics["onnx_vs_sklearn_max_abs_diff"] = onnx_parity(path, model, inputs[test_rows])
    entry = model_entry(
        path,
        names,
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
            f"standardised, block-weighted {head_label(choice)} on one {size} px EfficientNet-Lite0 pass (short side "
            f"resized, centre square): {weights_label(choice.ridge.weights)}; hand groups {groups or 'none'}; score = "
            "predicted rating mapped so the training labels' min..max is 0..100; every choice by 5-fold CV on the "
            "training split only"
        ),
        input_size=size,
        head=choice.head,
        hand_groups=groups,
        sizes_tried=list(features.single_pass),
    )
    update_card({"appeal": entry}, models_dir)
    log(
        f"appeal: {size} px, held-out Spearman {held_out['spearman']:.3f} (CV {choice.cv_spearman:.3f}), pairwise "
        f"accuracy {held_out['pairwise_accuracy']:.3f}; six views {metrics['baseline_six_view_spearman']:.3f}, one 224 px "
        f"view {metrics['baseline_single_view_spearman']:.3f}, hand {metrics['baseline_hand_spearman']:.3f}, sharpness "
        f"{metrics['baseline_sharpness_spearman']:.3f} on {len(test_rows)} photos"
    )
    return {"appeal": entry}


def head_label(choice: InputChoice) -> str:
    if choice.head == "rbf_svr":
        return f"RBF support-vector regression (gamma x{choice.rbf.gamma_scale:g}, C {choice.rbf.C:g})"
    return f"ridge (alpha {choice.ridge.alpha:g})"


def baseline_metrics(
    features: PhotoFeatures, size: int, target: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray, seed: int
) -> dict[str, float]:
    """The baselines' hand features are those of the working image at the chosen `size`."""
    hand = features.hand[size][:, [HAND_FEATURE_NAMES.index(name) for name in APPEAL_HAND_CANDIDATES]]
    hand_model, _ = choose_ridge(hand[train_rows], target[train_rows], HAND_RIDGE_ALPHAS, seed)
    six_view = np.hstack([hand, features.view_embeddings.mean(axis=1)])
    six_model, _ = choose_ridge(six_view[train_rows], target[train_rows], RIDGE_ALPHAS, seed)
    single_view = np.hstack([hand, features.view_embeddings[:, 0]])
    single_model, _ = choose_ridge(single_view[train_rows], target[train_rows], RIDGE_ALPHAS, seed)
    sharpness = features.hand[size][test_rows, HAND_FEATURE_NAMES.index(SHARPNESS)]
    metrics = {}
    for name, predicted in (
        ("hand", hand_model.predict(hand[test_rows])),
        ("six_view", six_model.predict(six_view[test_rows])),
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
    appeal = AppealModel(models_dir)
    features = load_photo_features(Path(photos_dir), models_dir, cache, sizes=(appeal.input_size,))
    hand = features.hand[appeal.input_size]
    scores = appeal.score(hand, features.single_pass[appeal.input_size])
    sharpness = hand[:, HAND_FEATURE_NAMES.index(SHARPNESS)]
    metrics: dict[str, float] = {"photos": float(len(scores))}
    metrics.update(ranking_metrics(scores, features.mos))
    metrics.update({f"baseline_sharpness_{k}": v for k, v in ranking_metrics(sharpness, features.mos).items()})
    return metrics
