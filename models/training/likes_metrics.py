"""The agreed likes figures, and 90 % intervals from resampling whole accounts (posts of one account are not
independent, so the account is the unit of resampling)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from inference.likes_features import LIKES_FEATURE_NAMES
from models.training.likes_data import LikesDataset

WITHIN_LIKES = 30  # the original likePredict study's figure: share within ±30 likes
BOOTSTRAP_DRAWS = 1000


def widen(
    low: np.ndarray, centre: np.ndarray, high: np.ndarray, factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The range about the centre (the centre kept: crossed quantiles only move the ends), stretched by
    `factor` in log-likes for calibration."""
    lo = np.minimum(np.minimum(low, high), centre)
    hi = np.maximum(np.maximum(low, high), centre)
    return centre - factor * (centre - lo), centre, centre + factor * (hi - centre)


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


def model_metrics(
    data: LikesDataset, centre: np.ndarray, low: np.ndarray, high: np.ndarray, widening: float = 1.0
) -> dict[str, float]:
    low, centre, high = widen(low, centre, high, widening)
    return likes_metrics(data.likes, data.likes_from(centre), data.likes_from(low), data.likes_from(high))


def account_bootstrap(
    groups: np.ndarray,
    columns: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    seed: int,
    draws: int = BOOTSTRAP_DRAWS,
) -> tuple[float, float]:
    """The 5th and 95th percentile of a statistic over resamples of whole accounts.

    `columns` (rows, m) are summed per resample, an account drawn twice counting twice; `statistic` maps
    those sums, (draws, m), to one value per draw. Every draw at once: one matrix product, no loop."""
    accounts, account_of_row = np.unique(groups, return_inverse=True)
    n = len(accounts)
    per_account = np.zeros((n, columns.shape[1]))
    np.add.at(per_account, account_of_row, columns)
    picked = np.random.default_rng(seed).integers(0, n, size=(draws, n))
    times_drawn = np.bincount((picked + n * np.arange(draws)[:, None]).ravel(), minlength=draws * n)
    values = statistic(times_drawn.reshape(draws, n) @ per_account)
    return float(np.percentile(values, 5)), float(np.percentile(values, 95))


def ratio(sums: np.ndarray) -> np.ndarray:
    """First column over second, 0 where the second is 0: a mean, or a regression slope, per draw."""
    return np.divide(sums[:, 0], sums[:, 1], out=np.zeros(len(sums)), where=sums[:, 1] != 0)


def bootstrap_mean(groups: np.ndarray, values: np.ndarray, seed: int, draws: int) -> tuple[float, float]:
    """The 90 % interval of the mean of `values` over resamples of whole accounts."""
    return account_bootstrap(groups, np.column_stack([values, np.ones(len(values))]), ratio, seed, draws)


def mae_log_gain(data: LikesDataset, predicted_likes: np.ndarray, seed: int) -> dict[str, float]:
    """How much lower the model's MAE of log-likes is than the baseline's, with a 90 % interval."""
    gain = np.abs(np.log1p(data.baseline_median) - np.log1p(data.likes)) - np.abs(
        np.log1p(np.maximum(predicted_likes, 0.0)) - np.log1p(data.likes)
    )
    low, high = bootstrap_mean(data.groups, gain, seed, draws=300)
    return {
        "mae_log_gain_vs_baseline": round(float(gain.mean()), 4),
        "mae_log_gain_vs_baseline_p05": round(low, 4),
        "mae_log_gain_vs_baseline_p95": round(high, 4),
    }


def mdape_ratio_interval(
    data: LikesDataset, predicted_likes: np.ndarray, seed: int, draws: int = 300
) -> dict[str, float]:
    """The 90 % interval of the model's MdAPE over the account median's, over resamples of whole accounts
    (a median does not sum, so each draw gathers its rows)."""
    actual = np.maximum(data.likes, 1.0)
    model_error = np.abs(np.maximum(predicted_likes, 0.0) - data.likes) / actual
    base_error = np.abs(data.baseline_median - data.likes) / actual
    accounts = np.unique(data.groups)
    rows_of = [np.flatnonzero(data.groups == a) for a in accounts]
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(draws):
        rows = np.concatenate([rows_of[i] for i in rng.integers(0, len(accounts), len(accounts))])
        base = np.median(base_error[rows])
        ratios.append(np.median(model_error[rows]) / base if base else np.nan)
    low, high = np.nanpercentile(ratios, [5, 95])
    return {"mdape_vs_baseline_p05": round(float(low), 4), "mdape_vs_baseline_p95": round(float(high), 4)}


def pair_scores(groups: np.ndarray, actual: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of rows of one account with different likes: (account, 1 if ordered right / 0.5 tie / 0)."""
    owners, scores = [], []
    for account in np.unique(groups):
        rows = np.flatnonzero(groups == account)
        a, p = actual[rows], predicted[rows]
        i, j = np.triu_indices(len(rows), k=1)
        differ = a[i] != a[j]
        right = np.sign(a[i] - a[j]) == np.sign(p[i] - p[j])
        tie = p[i] == p[j]
        scores.append(np.where(tie, 0.5, right.astype(float))[differ])
        owners.append(np.full(int(differ.sum()), account))
    if not scores:
        return np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(owners), np.concatenate(scores)


def pairwise_within_account(groups: np.ndarray, actual: np.ndarray, predicted: np.ndarray) -> float:
    """The share of pairs of posts of the same account whose likes order the prediction gets right."""
    _, scores = pair_scores(groups, actual, predicted)
    return round(float(scores.mean()), 4) if len(scores) else float("nan")


def photo_order(
    data: LikesDataset, aware: np.ndarray, blind: np.ndarray, seed: int, with_photo: np.ndarray | None = None
) -> dict[str, Any]:
    """Pairwise within-account order with and without the photo's concepts, over rows whose concepts are known
    (or, `with_photo`, whose photo was analysed)."""
    known = data.features[:, LIKES_FEATURE_NAMES.index("concepts_known")] == 1
    if with_photo is not None:
        known = known | with_photo
    if known.sum() < 2:
        return {}
    groups, likes = data.groups[known], data.likes[known]
    owners, right = pair_scores(groups, likes, aware[known])
    _, right_blind = pair_scores(groups, likes, blind[known])
    gain = right - right_blind
    low, high = bootstrap_mean(owners, gain, seed, draws=300)
    return {
        "model_pairwise_within_account": pairwise_within_account(groups, likes, aware[known]),
        "photo_blind_pairwise_within_account": pairwise_within_account(groups, likes, blind[known]),
        "pairwise_gain_from_concepts_p05": round(low, 4),
        "pairwise_gain_from_concepts_p95": round(high, 4),
    }
