"""The likes ceiling (the model told the account's later posts too) and the MdAPE ratio's account interval."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.records import Account, Post
from inference.likes_features import TagPopularity
from models.training.likes_ceiling import ceiling_figures, other_posts_median
from models.training.likes_data import SourcedAccount, build_dataset
from models.training.likes_metrics import mdape_ratio_interval

FETCHED = datetime(2019, 4, 1, tzinfo=UTC)


def account(handle: str, likes: list[int | None]) -> SourcedAccount:
    """Posts a day apart, oldest first, the last one a week before the fetch (all settled)."""
    start = FETCHED - timedelta(days=7 + len(likes))
    posts = tuple(
        Post(shortcode=f"{handle}-{i}", taken_at=start + timedelta(days=i), likes=n) for i, n in enumerate(likes)
    )
    return SourcedAccount(Account(handle, 1000, 100, len(posts), posts, fetched_at=FETCHED), "tiny.jsonl")


def test_other_posts_median_counts_the_later_posts_and_leaves_the_post_itself_out():
    sourced = [account("a", [10, 20, 30, 40, 1000])]
    data = build_dataset(sourced, lambda i: TagPopularity.empty())
    assert list(data.shortcodes) == ["a-3", "a-4"]  # the posts with 3+ earlier ones
    # a-3: previous median 20 (10, 20, 30), others' 25 (10, 20, 30, 1000); a-4: previous 25, others 25 -> 0
    expected = [math.log1p(25) - math.log1p(20), 0.0]
    assert other_posts_median(data, sourced) == pytest.approx(expected)


def test_a_hidden_count_is_no_other_post():
    sourced = [account("a", [10, 20, 30, None, 40, 50])]
    data = build_dataset(sourced, lambda i: TagPopularity.empty())
    row = list(data.shortcodes).index("a-4")  # previous 10, 20, 30: median 20; others 10, 20, 30, 50: 25
    assert other_posts_median(data, sourced)[row] == pytest.approx(math.log1p(25) - math.log1p(20))


def test_ceiling_figures_are_per_source_ratios_to_the_account_median():
    sourced = [account("a", [10, 20, 30, 40, 50, 60, 70, 80])]
    data = build_dataset(sourced, lambda i: TagPopularity.empty())
    exact = np.log1p(data.likes) - np.log1p(data.baseline_median)
    figures = ceiling_figures(data, exact, np.zeros(len(data)))
    assert figures == {
        "tiny.jsonl": {"other_posts_median_vs_baseline": 1.0, "model_with_other_posts_median_vs_baseline": 0.0}
    }


def test_the_mdape_interval_holds_the_ratio_and_is_exact_for_an_exact_model():
    sourced = [
        account(f"a{k}", [int(v) for v in 100 * np.exp(np.random.default_rng(k).normal(0, 0.4, 12))]) for k in range(20)
    ]
    data = build_dataset(sourced, lambda i: TagPopularity.empty())
    assert mdape_ratio_interval(data, data.likes, seed=1) == {
        "mdape_vs_baseline_p05": 0.0,
        "mdape_vs_baseline_p95": 0.0,
    }
    halfway = np.sqrt(data.likes * data.baseline_median)  # half the log error: about half the MdAPE
    interval = mdape_ratio_interval(data, halfway, seed=1)
    point = np.median(np.abs(halfway - data.likes) / data.likes) / np.median(
        np.abs(data.baseline_median - data.likes) / data.likes
    )
    assert interval["mdape_vs_baseline_p05"] < point < interval["mdape_vs_baseline_p95"] < 1.0
