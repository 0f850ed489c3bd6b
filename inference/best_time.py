"""When to post: the best hour in the next 7 days, from the account's own habit and the learned time effect.

Where the card says the likes model's time effect held up on held-out accounts (`time_effect.supported`),
the hour is the one the model rates highest against the account's usual times (basis "model"), and the
expected change is that rating scaled by how much of a rating came true on held-out accounts
(`time_effect.rating_slope`, with its 90 % interval). Otherwise
the model's rating is not trusted and the hour is the account's own habit: the upcoming hour closest to
when it usually posts, on the weekday it posts most (basis "habit", expected change 0 within the measured
interval).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from core.records import Account, Post
from inference.likes_features import LikesRow
from inference.likes_time import USUAL_WINDOW_HOURS, hour_distance, timed_hours

HORIZON_HOURS = 7 * 24
MIN_TIMED_POSTS = 3  # fewer posts with exact times and the account has no habit to speak of


@dataclass(frozen=True)
class BestTime:
    """The suggested time to post and what it is expected to be worth against the account's usual time."""

    at: datetime  # UTC, on the hour, within the next 7 days
    change: float  # expected change in likes vs posting at the account's usual times (+0.05 = 5 % more)
    low: float  # 90 % interval of that change, measured on held-out accounts
    high: float
    basis: str  # "model" (learned time effect) or "habit" (the account's own pattern only)


class TimeRater(Protocol):
    """What best_time needs of an `inference.predictor.Predictor`."""

    time_effect: dict[str, object]

    def row(self, account: Account, at: datetime) -> LikesRow: ...

    def rate_times(self, row: LikesRow, times: Sequence[datetime]) -> np.ndarray: ...


def candidate_hours(now: datetime) -> list[datetime]:
    """Every whole hour strictly after `now` in the next 7 days."""
    first = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return [first + timedelta(hours=k) for k in range(HORIZON_HOURS)]


def habit_score(at: datetime, timed: Sequence[Post]) -> float:
    """How usual `at` is for an account with these timed posts: the share near this hour, plus (less) on this
    weekday."""
    hours = timed_hours(timed)
    near = sum(hour_distance(at.hour, h) <= USUAL_WINDOW_HOURS for h in hours) / len(hours)
    weekday = sum(p.taken_at.weekday() == at.weekday() for p in timed) / len(timed)
    return near + 0.25 * weekday


def _interval(effect: dict[str, object], key: str) -> float:
    value = effect.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


def best_time(account: Account, now: datetime, rater: TimeRater) -> BestTime | None:
    """The best hour to post in the next 7 days, or None when the account has too few posts with exact times."""
    timed = [p for p in account.posts if p.time_known and p.taken_at < now]
    if len(timed) < MIN_TIMED_POSTS:
        return None
    candidates = candidate_hours(now)
    effect = rater.time_effect
    if not effect.get("supported") or "rating_slope" not in effect:
        low, high = _interval(effect, "low"), _interval(effect, "high")
        scores = [habit_score(at, timed) for at in candidates]
        return BestTime(candidates[int(np.argmax(scores))], 0.0, min(low, 0.0), max(high, 0.0), "habit")
    row = rater.row(account, candidates[0])
    rated = rater.rate_times(row, candidates)
    usual = float(np.mean(rater.rate_times(row, [p.taken_at for p in timed])))
    best = int(np.argmax(rated))
    # The rating is the model's; the change is the part of it that came true on held-out accounts.
    rating = float(rated[best]) - usual
    if "rating_p95" in effect:  # the slope was measured on ratings up to this; beyond it, it would be a guess
        rating = min(rating, _interval(effect, "rating_p95"))
    slopes = [_interval(effect, key) for key in ("rating_slope", "rating_slope_low", "rating_slope_high")]
    change, *ends = (math.expm1(slope * rating) for slope in slopes)
    return BestTime(candidates[best], change, min(ends), max(ends), "model")
