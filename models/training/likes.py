"""The likes model: fit on accounts with real likes, evaluate on accounts it never saw, export ONNX.

Split by account; every post predicted only from posts dated before it. The centre is a
GradientBoostingRegressor on log-likes relative to the account's previous median (tuned lightly by
cross-validation grouped by account, on the training accounts only), the likely range two quantile
GBRs (10 % and 90 %). An MLP on the same scaled features is fitted for comparison, not exported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.records import Account
from inference.card import load_card, model_entry
from inference.likes_features import (
    LIKES_FEATURE_NAMES,
    LIKES_FEATURES_VERSION,
    MIN_PREVIOUS_POSTS,
    PostFacts,
    TagPopularity,
    fit_tag_popularity,
    is_settled,
    likes_features,
    settled_history,
)
from inference.onnx_model import OnnxModel

# Instagram opened on this day; earlier dates in a data set are broken timestamps.
FIRST_VALID_DATE = datetime(2010, 10, 6, tzinfo=UTC)
QUANTILES = (0.1, 0.9)
CV_FOLDS = 5
# Light tuning: the loss (huber resists the odd viral post) and the tree depth; a wider grid moved the
# grouped-CV error by at most 0.004 on influencers-2017.
GBR_GRID = [
    {"loss": "squared_error", "max_depth": 2},
    {"loss": "huber", "max_depth": 2},
    {"loss": "huber", "max_depth": 3},
]
GBR_FIXED = {"n_estimators": 200, "learning_rate": 0.075, "subsample": 0.8, "min_samples_leaf": 20}
WITHIN_LIKES = 30  # the original likePredict study's figure: share within ±30 likes
Log = Callable[[str], None]


@dataclass
class LikesDataset:
    """Feature rows of a set of accounts, with the account baseline of each row."""

    features: np.ndarray  # (n, len(LIKES_FEATURE_NAMES)) float32
    target: np.ndarray  # log1p(likes) - log1p(baseline median)
    likes: np.ndarray
    baseline_median: np.ndarray
    baseline_low: np.ndarray
    baseline_high: np.ndarray
    groups: np.ndarray  # account index, for grouped cross-validation
    dropped_unsettled: int = 0  # target posts left out because their likes were not final at crawl time

    def __len__(self) -> int:
        return len(self.target)

    def likes_from(self, target: np.ndarray) -> np.ndarray:
        return np.expm1(np.asarray(target, dtype=float) + np.log1p(self.baseline_median))


def clean_accounts(accounts: Iterable[Account]) -> list[Account]:
    """Accounts with broken timestamps removed from their posts."""
    cleaned = []
    for account in accounts:
        posts = tuple(p for p in account.posts if p.taken_at >= FIRST_VALID_DATE)
        cleaned.append(
            Account(
                account.handle,
                account.followers,
                account.following,
                account.posts_count,
                posts,
                account.is_private,
                account.fetched_at,
            )
        )
    return cleaned


def account_residuals(account: Account) -> list[tuple[tuple[str, ...], float]]:
    """(hashtags, log-likes minus previous median) of each trainable post: the raw material of tag scores."""
    residuals = []
    for post in account.posts:
        if post.likes is None or not is_settled(post, account.fetched_at):
            continue
        history = settled_history(account.posts, post.taken_at, account.fetched_at)[:20]
        if len(history) >= MIN_PREVIOUS_POSTS:
            baseline = float(np.median([p.likes for p in history]))
            residuals.append((post.hashtags, math.log1p(post.likes) - math.log1p(baseline)))
    return residuals


def build_dataset(accounts: Sequence[Account], popularity: Callable[[int], TagPopularity]) -> LikesDataset:
    """Rows for every settled post with enough history; `popularity(i)` is the tag table for account i."""
    columns: dict[str, list] = {k: [] for k in ("features", "target", "likes", "median", "low", "high", "groups")}
    dropped = 0
    for index, account in enumerate(accounts):
        table = popularity(index)
        for post in account.posts:
            if post.likes is None or not is_settled(post, account.fetched_at):
                dropped += 1
                continue
            row = likes_features(
                account.posts,
                account.followers,
                account.following,
                account.posts_count,
                PostFacts.of(post),
                table,
                account.fetched_at,
            )
            if row.n_previous < MIN_PREVIOUS_POSTS:
                continue
            columns["features"].append(row.features)
            columns["target"].append(math.log1p(post.likes) - row.baseline_log)
            columns["likes"].append(post.likes)
            columns["median"].append(row.baseline_median)
            columns["low"].append(row.baseline_low)
            columns["high"].append(row.baseline_high)
            columns["groups"].append(index)
    width = len(LIKES_FEATURE_NAMES)
    return LikesDataset(
        features=np.array(columns["features"], dtype=np.float32).reshape(-1, width),
        target=np.array(columns["target"], dtype=float),
        likes=np.array(columns["likes"], dtype=float),
        baseline_median=np.array(columns["median"], dtype=float),
        baseline_low=np.array(columns["low"], dtype=float),
        baseline_high=np.array(columns["high"], dtype=float),
        groups=np.array(columns["groups"], dtype=int),
        dropped_unsettled=dropped,
    )


def split_accounts(
    accounts: Sequence[Account], seed: int, test_share: float = 0.2
) -> tuple[list[Account], list[Account]]:
    """A fixed random split of whole accounts: (training, held-out)."""
    order = np.random.default_rng(seed).permutation(len(accounts))
    n_test = max(1, int(round(len(accounts) * test_share))) if len(accounts) > 1 else 0
    test = sorted(int(i) for i in order[:n_test])
    train = sorted(int(i) for i in order[n_test:])
    return [accounts[i] for i in train], [accounts[i] for i in test]


def account_folds(n_accounts: int, folds: int, seed: int) -> np.ndarray:
    order = np.random.default_rng(seed + 1).permutation(n_accounts)
    fold_of = np.empty(n_accounts, dtype=int)
    fold_of[order] = np.arange(n_accounts) % folds
    return fold_of


def training_dataset(accounts: Sequence[Account], folds: int, seed: int) -> tuple[LikesDataset, TagPopularity]:
    """Training rows whose tag scores come from the OTHER folds (no account sees its own likes through
    its tags), and the tag table of all training accounts, used for held-out accounts and at serving."""
    residuals = [account_residuals(a) for a in accounts]
    fold_of = account_folds(len(accounts), folds, seed)
    tables = [
        fit_tag_popularity({a.handle: r for a, r, f in zip(accounts, residuals, fold_of) if f != k})
        for k in range(folds)
    ]
    dataset = build_dataset(accounts, lambda i: tables[fold_of[i]])
    dataset.groups = fold_of[dataset.groups]
    full = fit_tag_popularity({a.handle: r for a, r in zip(accounts, residuals)})
    return dataset, full


def make_gbr(seed: int, **params: object) -> GradientBoostingRegressor:
    return GradientBoostingRegressor(random_state=seed, **{**GBR_FIXED, **params})


def tune_centre(data: LikesDataset, seed: int, log: Log) -> tuple[dict, list[dict]]:
    """Pick the GBR settings with the lowest grouped-CV MAE of the target; returns (best, all results)."""
    n_folds = min(CV_FOLDS, len(np.unique(data.groups)))
    results = []
    for params in GBR_GRID:
        errors = []
        for train_idx, valid_idx in GroupKFold(n_splits=n_folds).split(data.features, data.target, data.groups):
            model = make_gbr(seed, **params).fit(data.features[train_idx], data.target[train_idx])
            errors.append(float(np.mean(np.abs(model.predict(data.features[valid_idx]) - data.target[valid_idx]))))
        results.append({**params, "cv_mae_log": round(float(np.mean(errors)), 5)})
        log(f"  cv {params}: MAE of log-likes {np.mean(errors):.4f}")
    best = min(results, key=lambda r: float(r["cv_mae_log"]))  # type: ignore[arg-type]
    return {k: v for k, v in best.items() if k != "cv_mae_log"}, results


@dataclass
class LikesModels:
    centre: GradientBoostingRegressor
    low: GradientBoostingRegressor
    high: GradientBoostingRegressor
    mlp: object  # a scikit-learn pipeline (scaler + MLPRegressor), for comparison only
    params: dict


def fit_likes_models(data: LikesDataset, params: dict, seed: int) -> LikesModels:
    shape = {k: v for k, v in params.items() if k != "loss"}
    centre = make_gbr(seed, **params).fit(data.features, data.target)
    low = make_gbr(seed, loss="quantile", alpha=QUANTILES[0], **shape).fit(data.features, data.target)
    high = make_gbr(seed, loss="quantile", alpha=QUANTILES[1], **shape).fit(data.features, data.target)
    mlp = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(64, 32),
            alpha=1e-3,
            learning_rate_init=1e-3,
            max_iter=300,
            early_stopping=True,
            random_state=seed,
        ),
    ).fit(data.features, data.target)
    return LikesModels(centre, low, high, mlp, params)


def ordered_range(low: np.ndarray, centre: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort each (low, centre, high) triple: separately fitted quantile models may cross."""
    stacked = np.sort(np.stack([low, centre, high]), axis=0)
    return stacked[0], stacked[1], stacked[2]


def likes_metrics(
    actual: np.ndarray, predicted: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None
) -> dict[str, float]:
    """The agreed error figures, on like counts (not logs) unless the name says log."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.maximum(np.asarray(predicted, dtype=float), 0.0)
    error = np.abs(predicted - actual)
    metrics = {
        "mdape": float(np.median(error / np.maximum(actual, 1.0))),
        "mae_log": float(np.mean(np.abs(np.log1p(predicted) - np.log1p(actual)))),
        "within_20pct": float(np.mean(error <= 0.2 * actual)),
        f"within_{WITHIN_LIKES}_likes": float(np.mean(error <= WITHIN_LIKES)),
    }
    if low is not None and high is not None:
        metrics["coverage_80"] = float(np.mean((actual >= low) & (actual <= high)))
        metrics["range_width_rel_median"] = float(np.median((high - low) / np.maximum(predicted, 1.0)))
    return {k: round(v, 4) for k, v in metrics.items()}


def baseline_metrics(data: LikesDataset) -> dict[str, float]:
    """The account's previous median as the prediction, its previous 10th-90th percentile as the range."""
    return likes_metrics(data.likes, data.baseline_median, data.baseline_low, data.baseline_high)


def model_metrics(data: LikesDataset, centre: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict[str, float]:
    low, centre, high = ordered_range(low, centre, high)
    return likes_metrics(data.likes, data.likes_from(centre), data.likes_from(low), data.likes_from(high))


def mae_log_gain(data: LikesDataset, predicted_likes: np.ndarray, seed: int, draws: int = 1000) -> dict[str, float]:
    """How much lower the model's MAE of log-likes is than the baseline's, with a 90 % interval from
    resampling whole accounts (rows of one account are not independent)."""
    gain = np.abs(np.log1p(data.baseline_median) - np.log1p(data.likes)) - np.abs(
        np.log1p(np.maximum(predicted_likes, 0.0)) - np.log1p(data.likes)
    )
    accounts = np.unique(data.groups)
    sums = np.array([gain[data.groups == a].sum() for a in accounts])
    counts = np.array([np.sum(data.groups == a) for a in accounts])
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, len(accounts), size=(draws, len(accounts)))
    resampled = sums[samples].sum(axis=1) / counts[samples].sum(axis=1)
    return {
        "mae_log_gain_vs_baseline": round(float(gain.mean()), 4),
        "mae_log_gain_vs_baseline_p05": round(float(np.percentile(resampled, 5)), 4),
        "mae_log_gain_vs_baseline_p95": round(float(np.percentile(resampled, 95)), 4),
    }


def export_gbr(model: GradientBoostingRegressor, path: Path) -> Path:
    """Write the model as ONNX taking a float32 (n, features) batch."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    onnx_model = to_onnx(
        model,
        initial_types=[("features", FloatTensorType([None, len(LIKES_FEATURE_NAMES)]))],
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    path.write_bytes(onnx_model.SerializeToString())
    return path


def importances(model: GradientBoostingRegressor, top: int = 10) -> dict[str, float]:
    order = np.argsort(model.feature_importances_)[::-1][:top]
    return {LIKES_FEATURE_NAMES[i]: round(float(model.feature_importances_[i]), 4) for i in order}


LIKES_MODEL_FILES = {"likes": "likes.onnx", "likes_q10": "likes_q10.onnx", "likes_q90": "likes_q90.onnx"}
TAG_POPULARITY_FILE = "tag_popularity.json"


def train_likes(
    accounts: Sequence[Account], models_dir: Path, seed: int, data_name: str, log: Log = print
) -> tuple[dict, dict]:
    """Split, tune, fit, evaluate against the baseline, export; returns (card entries, report section)."""
    accounts = clean_accounts(accounts)
    train_accounts, test_accounts = split_accounts(accounts, seed)
    log(f"likes: {len(train_accounts)} training accounts, {len(test_accounts)} held-out accounts")
    train, popularity = training_dataset(train_accounts, CV_FOLDS, seed)
    test = build_dataset(test_accounts, lambda i: popularity)
    log(
        f"likes: {len(train)} training rows, {len(test)} held-out rows "
        f"({train.dropped_unsettled + test.dropped_unsettled} posts too fresh at crawl time left out as targets)"
    )
    params, cv_results = tune_centre(train, seed, log)
    log(f"likes: fitting the centre {params}, the 10 % and 90 % quantiles and the MLP")
    models = fit_likes_models(train, params, seed)
    outputs = [m.predict(test.features) for m in (models.low, models.centre, models.high)]
    gbr = model_metrics(test, outputs[1], outputs[0], outputs[2])
    mlp = likes_metrics(test.likes, test.likes_from(models.mlp.predict(test.features)))  # type: ignore[attr-defined]
    baseline = baseline_metrics(test)
    gbr.update(mae_log_gain(test, test.likes_from(ordered_range(*outputs)[1]), seed))
    for name, figures in (("gbr", gbr), ("mlp", mlp), ("baseline", baseline)):
        log(f"likes: held-out {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))

    models_dir.mkdir(parents=True, exist_ok=True)
    tag_sha = popularity.save(models_dir / TAG_POPULARITY_FILE)
    data = {
        "source": data_name,
        "training_accounts": len(train_accounts),
        "held_out_accounts": len(test_accounts),
        "training_rows": len(train),
        "held_out_rows": len(test),
        "seed": seed,
        "targets_left_out_as_too_fresh": train.dropped_unsettled + test.dropped_unsettled,
        "split": "by account, 80/20; each post predicted from posts dated before it",
    }
    common = {
        "target": "log1p(likes) - log1p(median likes of up to 20 previous settled posts)",
        "tag_popularity": {"file": TAG_POPULARITY_FILE, "sha256": tag_sha, "tags": len(popularity.scores)},
    }
    held_out = {f"gbr_{k}": v for k, v in gbr.items()}
    held_out.update({f"mlp_{k}": v for k, v in mlp.items()})
    held_out.update({f"baseline_{k}": v for k, v in baseline.items()})
    notes = (
        "Posts less than a day old at crawl time (2017-04-30 in influencers-2017) are not targets: their "
        "likes were not final. Range = 10 % / 90 % quantile GBRs, sorted at serving."
    )
    entries = {
        "likes": model_entry(
            export_gbr(models.centre, models_dir / LIKES_MODEL_FILES["likes"]),
            LIKES_FEATURE_NAMES,
            LIKES_FEATURES_VERSION,
            held_out,
            data,
            notes,
            params={**GBR_FIXED, **params},
            **common,
        ),
        "likes_q10": model_entry(
            export_gbr(models.low, models_dir / LIKES_MODEL_FILES["likes_q10"]),
            LIKES_FEATURE_NAMES,
            LIKES_FEATURES_VERSION,
            {"coverage_80": gbr["coverage_80"]},
            data,
            "10 % quantile of the target",
            **common,
        ),
        "likes_q90": model_entry(
            export_gbr(models.high, models_dir / LIKES_MODEL_FILES["likes_q90"]),
            LIKES_FEATURE_NAMES,
            LIKES_FEATURES_VERSION,
            {"coverage_80": gbr["coverage_80"]},
            data,
            "90 % quantile of the target",
            **common,
        ),
    }
    report = {
        "likes_cv": {json_key(r): r["cv_mae_log"] for r in cv_results},
        "likes_importances": importances(models.centre),
    }
    return entries, report


def json_key(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "cv_mae_log")


def evaluate_committed_likes(accounts: Sequence[Account], models_dir: Path) -> dict[str, float]:
    """Metrics of the committed models on `accounts`, every row treated as unseen."""
    card = load_card(models_dir / "card.json")
    sessions = {name: OnnxModel(name, models_dir, card=card) for name in LIKES_MODEL_FILES}
    for session in sessions.values():
        session.check_schema(LIKES_FEATURE_NAMES, LIKES_FEATURES_VERSION)
    tag_entry = sessions["likes"].entry["tag_popularity"]
    popularity = TagPopularity.load(models_dir / tag_entry["file"], tag_entry["sha256"])
    data = build_dataset(clean_accounts(accounts), lambda i: popularity)
    if len(data) == 0:
        return {"rows": 0}
    outputs = {name: s.run(data.features).reshape(-1).astype(float) for name, s in sessions.items()}
    model = model_metrics(data, outputs["likes"], outputs["likes_q10"], outputs["likes_q90"])
    result: dict[str, float] = {"rows": len(data), "accounts": len(np.unique(data.groups))}
    result.update({f"model_{k}": v for k, v in model.items()})
    result.update(
        mae_log_gain(
            data,
            data.likes_from(ordered_range(outputs["likes_q10"], outputs["likes"], outputs["likes_q90"])[1]),
            seed=0,
        )
    )
    result.update({f"baseline_{k}": v for k, v in baseline_metrics(data).items()})
    return result
