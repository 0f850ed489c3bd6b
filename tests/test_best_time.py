"""When to post: within the next 7 days, on the hour; the account's habit unless the learned time effect held out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.records import Account, Post
from inference.best_time import best_time, candidate_hours
from inference.card import MODELS_DIR
from inference.likes_features import LikesRow, PostFacts, TagPopularity, likes_features
from inference.predictor import Predictor

NOW = datetime(2019, 4, 10, 9, 30, tzinfo=UTC)


def _evening_poster(hour: int = 19, time_known: bool = True) -> Account:
    posts = tuple(
        Post(
            f"p{i}",
            (NOW - timedelta(days=2 + 2 * i)).replace(hour=hour, minute=5),
            likes=100 + i,
            time_known=time_known,
        )
        for i in range(10)
    )
    return Account("evening", 5000, 300, 200, posts, fetched_at=NOW)


@dataclass
class PrefersHour:
    """A stand-in rater whose model likes one hour of the day best."""

    hour: int
    supported: bool
    measured_up_to: float | None = None  # the card's rating_p95

    @property
    def time_effect(self) -> dict[str, object]:
        return {
            "change": 0.04,
            "low": 0.01,
            "high": 0.08,
            "rating_slope": 0.8,
            "rating_slope_low": 0.2,
            "rating_slope_high": 1.4,
            "supported": self.supported,
            **({} if self.measured_up_to is None else {"rating_p95": self.measured_up_to}),
        }

    def row(self, account: Account, at: datetime) -> LikesRow:
        return likes_features(
            account.posts,
            account.followers,
            account.following,
            account.posts_count,
            PostFacts(at),
            TagPopularity.empty(),
        )

    def rate_times(self, row: LikesRow, times: Sequence[datetime]) -> np.ndarray:
        return np.array([0.1 if t.hour == self.hour else 0.0 for t in times])


def test_candidates_are_the_whole_hours_of_the_next_seven_days():
    hours = candidate_hours(NOW)
    assert hours[0] == datetime(2019, 4, 10, 10, tzinfo=UTC) and len(hours) == 168
    assert all(t.minute == 0 and NOW < t <= NOW + timedelta(days=7) for t in hours)


def test_without_a_supported_time_effect_the_best_time_is_the_accounts_habit():
    best = best_time(_evening_poster(19), NOW, PrefersHour(hour=7, supported=False))
    assert best is not None and best.basis == "habit"
    assert abs(best.at.hour - 19) <= 1 and NOW < best.at <= NOW + timedelta(days=7)
    assert best.change == 0.0 and best.low <= 0.0 <= best.high


def test_with_a_supported_time_effect_the_model_picks_the_hour_it_rates_highest():
    best = best_time(_evening_poster(19), NOW, PrefersHour(hour=7, supported=True))
    assert best is not None and best.basis == "model" and best.at.hour == 7
    # the rating (0.1 above the usual hours' 0.0), scaled by how much of a rating came true on held-out accounts
    assert best.change == pytest.approx(np.expm1(0.8 * 0.1))
    assert (best.low, best.high) == pytest.approx((np.expm1(0.2 * 0.1), np.expm1(1.4 * 0.1)))


def test_a_rating_beyond_those_the_slope_was_measured_on_counts_as_the_highest_measured():
    best = best_time(_evening_poster(19), NOW, PrefersHour(hour=7, supported=True, measured_up_to=0.03))
    assert best is not None and best.at.hour == 7
    assert best.change == pytest.approx(np.expm1(0.8 * 0.03))
    assert (best.low, best.high) == pytest.approx((np.expm1(0.2 * 0.03), np.expm1(1.4 * 0.03)))


def test_an_account_without_exact_posting_times_gets_no_best_time():
    assert best_time(_evening_poster(time_known=False), NOW, PrefersHour(7, supported=True)) is None


def test_the_committed_predictor_names_an_hour_with_an_interval_for_a_real_account():
    predictor = Predictor(MODELS_DIR)
    best = best_time(replace(_evening_poster(20), fetched_at=NOW), NOW, predictor)
    assert best is not None
    assert best.basis == ("model" if predictor.time_effect["supported"] else "habit")
    assert best.low < best.high
    assert best.basis == "habit" or best.low <= best.change <= best.high  # the change inside its own interval
    assert best.at.tzinfo is UTC and NOW < best.at <= NOW + timedelta(days=7)
