"""Account statistics from the previous posts, computed in one place for display, training and serving."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

import numpy as np

from core.records import Post

PREVIOUS_POSTS = 20
RECENT_POSTS = 5


@dataclass(frozen=True)
class AccountStats:
    """What an account's previous posts say about the next one. Likes figures are over `n_posts` posts."""

    followers: int
    following: int
    posts_count: int
    n_posts: int
    likes_mean: float
    likes_median: float
    likes_min: float
    likes_max: float
    likes_std: float
    likes_mode_bucket: tuple[float, float]  # the likes range (of 5 equal-width bins) most posts fall in
    recent_trend: float  # log(median likes of the newest 5) - log(median of all), 0 = steady
    comments_mean: float | None  # None where the source gave no comment counts
    engagement_rate: float  # mean of (likes + comments) / followers
    posting_interval_days: float | None  # median gap between consecutive posts
    days_since_last_post: float | None
    hashtags: list[tuple[str, int]] = field(default_factory=list)  # used tags with counts, most used first
    hidden_likes: int = 0  # of the previous posts, how many hide their like count (left out of the likes figures)

    @property
    def has_history(self) -> bool:
        return self.n_posts > 0


def previous_posts(posts: Sequence[Post], before: datetime | None = None, n: int = PREVIOUS_POSTS) -> list[Post]:
    """The `n` newest posts strictly before `before` (all posts when None), newest first, videos included."""
    eligible = [p for p in posts if before is None or p.taken_at < before]
    return sorted(eligible, key=lambda p: p.taken_at, reverse=True)[:n]


def account_stats(
    posts: Sequence[Post],
    followers: int,
    following: int,
    posts_count: int,
    at: datetime | None = None,
    n: int = PREVIOUS_POSTS,
) -> AccountStats:
    """Stats of the `n` posts before `at` (or the newest `n` when `at` is None).

    Likes figures (and `n_posts`) are over the posts among them that show their like count; timing and
    hashtags are over all of them.
    """
    history = previous_posts(posts, at, n)
    counted = [p for p in history if p.likes is not None and p.likes >= 0]
    likes = np.array([p.likes for p in counted], dtype=float)
    comment_counts = [p.comments for p in counted if p.comments is not None]
    reference = at or (history[0].taken_at if history else None)
    times = [p.taken_at for p in history]
    gaps = [(a - b).total_seconds() / 86400 for a, b in zip(times, times[1:])]
    tags = Counter(t for p in history for t in {t.lower() for t in p.hashtags})
    if len(counted) == 0:
        return AccountStats(
            followers,
            following,
            posts_count,
            0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            (0.0, 0.0),
            0.0,
            None,
            0.0,
            float(median(gaps)) if gaps else None,
            (reference - times[0]).total_seconds() / 86400 if reference and times else None,
            sorted(tags.items(), key=lambda item: (-item[1], item[0])),
            hidden_likes=len(history),
        )
    safe_followers = max(followers, 1)
    rates = [(float(likes[i]) + (p.comments or 0)) / safe_followers for i, p in enumerate(counted)]
    return AccountStats(
        followers=followers,
        following=following,
        posts_count=posts_count,
        n_posts=len(counted),
        likes_mean=float(likes.mean()),
        likes_median=float(median(likes)),
        likes_min=float(likes.min()),
        likes_max=float(likes.max()),
        likes_std=float(likes.std()),
        likes_mode_bucket=mode_bucket(likes),
        recent_trend=float(math.log1p(median(likes[:RECENT_POSTS])) - math.log1p(median(likes))),
        comments_mean=float(np.mean(comment_counts)) if comment_counts else None,
        engagement_rate=float(np.mean(rates)),
        posting_interval_days=float(median(gaps)) if gaps else None,
        days_since_last_post=(reference - times[0]).total_seconds() / 86400 if reference else None,
        hashtags=sorted(tags.items(), key=lambda item: (-item[1], item[0])),
        hidden_likes=len(history) - len(counted),
    )


def mode_bucket(values: np.ndarray, bins: int = 5) -> tuple[float, float]:
    """The range of the fullest of `bins` equal-width bins between min and max."""
    if len(values) == 0:
        return (0.0, 0.0)
    if values.min() == values.max():
        return (float(values.min()), float(values.max()))
    counts, edges = np.histogram(values, bins=bins)
    best = int(np.argmax(counts))
    return (float(edges[best]), float(edges[best + 1]))
