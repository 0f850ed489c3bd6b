"""How far any prediction made before posting could go on this data: the likes model given what it cannot have.

The ceiling refits the centre, on the same grouped folds of the training accounts, with one feature more: the
median likes of ALL the account's other settled posts, the later ones too (the leave-one-out median). No
prediction before posting knows the later posts, so a target below the ceiling's figure is out of reach of
any feature built from the account's past and the post's own facts. The leave-one-out median alone is given
as well: the account's "usual" known perfectly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from inference.likes_features import is_settled
from models.training.likes_data import LikesDataset, SourcedAccount
from models.training.likes_metrics import likes_metrics


def other_posts_median(data: LikesDataset, accounts: Sequence[SourcedAccount]) -> np.ndarray:
    """Per row: log1p(median likes of the account's other settled posts) minus log1p(its previous median)."""
    medians: dict[str, float] = {}
    for sourced in accounts:
        account = sourced.account
        settled = [p for p in account.posts if is_settled(p, account.fetched_at)]
        for post in settled:
            others = [p.likes or 0 for p in settled if p is not post]
            medians[post.shortcode] = float(np.median(others)) if others else 0.0
    return np.array([math.log1p(medians[code]) for code in data.shortcodes]) - np.log1p(data.baseline_median)


def mdape_ratio(data: LikesDataset, target: np.ndarray, rows: np.ndarray) -> float:
    model = likes_metrics(data.likes[rows], data.likes_from(target)[rows])["mdape"]
    base = likes_metrics(data.likes[rows], data.baseline_median[rows])["mdape"]
    return round(model / base, 4) if base else float("nan")


def ceiling_figures(
    data: LikesDataset, out_of_fold_with_others: np.ndarray, others: np.ndarray
) -> dict[str, dict[str, Any]]:
    """Per source, MdAPE over the account median's: the leave-one-out median alone, and the model given it."""
    return {
        source: {
            "other_posts_median_vs_baseline": mdape_ratio(data, others, data.sources == source),
            "model_with_other_posts_median_vs_baseline": mdape_ratio(
                data, out_of_fold_with_others, data.sources == source
            ),
        }
        for source in sorted(set(data.sources))
    }
