"""When a post goes out, as likes features: the hour and weekday, and how they compare with the account's habit.

The hour is only known where the source gives exact times (influencers-2019, live accounts); a day-only
source (influencers-2017) marks the hour features unknown (-1) rather than inventing noon. The weekday is
known either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from core.records import Post

UNKNOWN = -1.0
USUAL_WINDOW_HOURS = 2  # an hour within this many hours of a previous post's hour counts as "usual"

TIME_FEATURE_NAMES: list[str] = [
    "weekday",
    "is_weekend",
    "weekday_share",  # share of the previous posts published on this weekday
    "time_known",
    "hour",  # UTC hour of day, -1 unknown
    "hours_from_usual",  # circular distance from the account's mean posting hour, -1 unknown
    "usual_hour_share",  # share of previous timed posts within USUAL_WINDOW_HOURS of this hour, -1 unknown
]


def timed_hours(history: Sequence[Post]) -> list[float]:
    """Hours of day (UTC, fractional) of the previous posts whose exact time is known."""
    return [p.taken_at.hour + p.taken_at.minute / 60 for p in history if p.time_known]


def mean_hour(hours: Sequence[float]) -> float | None:
    """The circular mean hour of day, None when the hours cancel out or there are none."""
    if not hours:
        return None
    x = sum(math.cos(h / 24 * 2 * math.pi) for h in hours)
    y = sum(math.sin(h / 24 * 2 * math.pi) for h in hours)
    if math.hypot(x, y) < 1e-9:
        return None
    return (math.atan2(y, x) / (2 * math.pi) * 24) % 24


def hour_distance(a: float, b: float) -> float:
    gap = abs(a - b) % 24
    return min(gap, 24 - gap)


def time_features(at: datetime, time_known: bool, history: Sequence[Post]) -> dict[str, float]:
    """The time features of a post at `at` given the account's previous posts (any order)."""
    weekday = at.weekday()
    features = {
        "weekday": float(weekday),
        "is_weekend": float(weekday >= 5),
        "weekday_share": sum(p.taken_at.weekday() == weekday for p in history) / len(history) if history else UNKNOWN,
        "time_known": float(time_known),
        "hour": UNKNOWN,
        "hours_from_usual": UNKNOWN,
        "usual_hour_share": UNKNOWN,
    }
    if not time_known:
        return features
    hour = at.hour + at.minute / 60
    features["hour"] = float(at.hour)
    hours = timed_hours(history)
    centre = mean_hour(hours)
    if centre is not None:
        features["hours_from_usual"] = hour_distance(hour, centre)
    if hours:
        features["usual_hour_share"] = sum(hour_distance(hour, h) <= USUAL_WINDOW_HOURS for h in hours) / len(hours)
    return features
