"""What the photo and the time of posting are worth, measured within accounts, each with a 90 % interval.

Concept effects: for each concept, the within-account difference in log-likes between posts showing it and
posts not showing it (account means removed, so big accounts posting more selfies do not make selfies look
good), learned on the training accounts of the file with Instagram's image descriptions, and checked on the
held-out accounts: an effect is `supported` only where the held-out interval lies on the same side of 0.

Time effect: on held-out accounts with exact times, posts at times the model rates above the account's usual
times versus the rest, in likes relative to the time-neutral prediction; and the slope of that residual on the
rating, which says how much of a rating came true (serving scales the best hour's rating by it).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from core.concepts import CONCEPTS
from inference.likes_content import CONCEPT_FEATURE_NAMES
from inference.likes_features import LIKES_FEATURE_NAMES, at_times
from models.training.likes_data import LikesDataset
from models.training.likes_metrics import account_bootstrap, ratio

MIN_POSTS_WITH_CONCEPT = 100  # to learn an effect from
MIN_HELD_OUT_POSTS = 20  # to check it on
Predict = Callable[[np.ndarray], np.ndarray]


def _within(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Values minus their account's mean."""
    _, inverse = np.unique(groups, return_inverse=True)
    means = np.bincount(inverse, weights=values) / np.bincount(inverse)
    return values - means[inverse]


def _effect_with_interval(
    data: LikesDataset, concept_column: int, seed: int, min_posts: int
) -> dict[str, float] | None:
    """The within-account slope of log-likes on showing the concept (account means removed from both), with a
    90 % interval; an account drawn twice in a resample has the same means, so its products simply count twice."""
    shown = data.features[:, concept_column].astype(float)
    if shown.sum() < min_posts:
        return None
    x = _within(shown, data.groups)
    y = _within(np.log1p(data.likes), data.groups)
    products = np.column_stack([x * y, x * x])
    effect = float(ratio(products.sum(axis=0)[None, :])[0])
    low, high = account_bootstrap(data.groups, products, ratio, seed)
    return {
        "change": round(math.expm1(effect), 4),
        "low": round(math.expm1(low), 4),
        "high": round(math.expm1(high), 4),
        "posts_with": int(shown.sum()),
    }


def concept_effects(train: LikesDataset, held_out: LikesDataset, seed: int) -> dict[str, dict[str, object]]:
    """Per concept: the change in likes when the photo shows it (90 % interval), and whether it held out."""
    known = LIKES_FEATURE_NAMES.index("concepts_known")
    train_known = train.subset(train.features[:, known] == 1)
    held_known = held_out.subset(held_out.features[:, known] == 1)
    effects: dict[str, dict[str, object]] = {}
    for concept, name in zip(CONCEPTS, CONCEPT_FEATURE_NAMES):
        column = LIKES_FEATURE_NAMES.index(name)
        learned = _effect_with_interval(train_known, column, seed, MIN_POSTS_WITH_CONCEPT)
        if learned is None:
            continue
        check = _effect_with_interval(held_known, column, seed + 1, MIN_HELD_OUT_POSTS)
        same_side = check is not None and (
            (learned["low"] > 0 and check["low"] > 0) or (learned["high"] < 0 and check["high"] < 0)
        )
        effects[concept] = {
            **learned,
            "held_out_change": None if check is None else check["change"],
            "held_out_low": None if check is None else check["low"],
            "held_out_high": None if check is None else check["high"],
            "supported": bool(same_side),
        }
    return effects


def usual_time_rows(data: LikesDataset) -> tuple[np.ndarray, np.ndarray]:
    """For rows with exact times: the rows moved to each previous timed post's time, and the row each came from."""
    moved, owner = [], []
    for index, row in enumerate(data.rows):
        times = [p.taken_at for p in row.history if p.time_known]
        if times:
            moved.append(at_times(row, times))
            owner.extend([index] * len(times))
    if not moved:
        return np.zeros((0, len(LIKES_FEATURE_NAMES)), dtype=np.float32), np.zeros(0, dtype=int)
    return np.concatenate(moved), np.array(owner, dtype=int)


def time_effect(data: LikesDataset, predict: Predict, seed: int) -> dict[str, object]:
    """Do posts at times the model rates above the account's usual get more likes than the rest?

    The rating of a post's time is its prediction minus the mean prediction at the account's usual times;
    "more likes" is the post's log-likes minus that time-neutral prediction. Returns the difference between
    the posts rated above usual and the others as a change in likes with a 90 % interval.
    """
    moved, owner = usual_time_rows(data)
    if len(owner) == 0:
        return {"change": None, "low": None, "high": None, "posts": 0, "supported": False}
    usual = np.bincount(owner, weights=predict(moved).astype(float)) / np.maximum(np.bincount(owner), 1)
    rated = np.unique(owner)
    rating = predict(data.features[rated]).astype(float) - usual[rated]
    residual = data.target[rated] - usual[rated]
    groups = data.groups[rated]
    above = rating > 0

    # per row: residual and count, above usual and not; the gap is the difference of the two means
    columns = np.column_stack([residual * above, above, residual * ~above, ~above]).astype(float)

    def gap(sums: np.ndarray) -> np.ndarray:
        both = (sums[:, 1] > 0) & (sums[:, 3] > 0)
        return np.where(both, ratio(sums[:, :2]) - ratio(sums[:, 2:]), 0.0)

    change = float(gap(columns.sum(axis=0)[None, :])[0])
    low, high = account_bootstrap(groups, columns, gap, seed)
    # How much of a rating comes true: serving turns the best hour's rating into an expected change with it.
    sums = np.column_stack([rating * residual, rating * rating, rating, residual, np.ones(len(rating))])
    slope = float(slope_of(sums.sum(axis=0)[None, :])[0])
    slope_low, slope_high = account_bootstrap(groups, sums, slope_of, seed)
    return {
        "change": round(math.expm1(change), 4),
        "low": round(math.expm1(low), 4),
        "high": round(math.expm1(high), 4),
        "posts": int(len(rated)),
        "posts_rated_above_usual": int(above.sum()),
        "mean_rating": round(float(np.mean(np.abs(rating))), 4),
        "rating_slope": round(slope, 4),
        "rating_slope_low": round(slope_low, 4),
        "rating_slope_high": round(slope_high, 4),
        "rating_p95": round(float(np.percentile(rating, 95)), 4),  # the slope is measured up to here
        "supported": bool(low > 0),
    }


def slope_of(sums: np.ndarray) -> np.ndarray:
    """The least-squares slope of y on x per draw, from the sums of (x*y, x*x, x, y, 1)."""
    n = np.maximum(sums[:, 4], 1.0)
    mean_x, mean_y = sums[:, 2] / n, sums[:, 3] / n
    variance = sums[:, 1] / n - mean_x**2
    covariance = sums[:, 0] / n - mean_x * mean_y
    return np.divide(covariance, variance, out=np.zeros(len(sums)), where=variance > 1e-12)
