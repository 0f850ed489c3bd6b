"""The likes model's features: one function, called by training and serving alike.

A row describes one post from what was known just before it was posted: the account's previous posts
(likes settle within about a day, so posts younger than that at fetch time are left out of the likes
statistics), the post's own facts, and how well its hashtags did for OTHER accounts in the training data.
The target is relative to the account's own median, so one model serves 10 and 10 million followers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from core.account_stats import account_stats
from core.records import Account, Post
from inference.likes_content import (
    CONCEPT_FEATURE_NAMES,
    CONTENT_FEATURE_NAMES,
    content_features,
    kind_of,
    post_concepts,
)
from inference.likes_content import UNKNOWN as UNKNOWN_CONCEPT
from inference.likes_time import TIME_FEATURE_NAMES, time_features

LIKES_FEATURES_VERSION = "likes-v2"
MIN_PREVIOUS_POSTS = 3  # fewer previous posts and the account's median says too little to train on
SETTLE_DAYS = 1.0  # a post's likes are taken as final once it is this old
TAG_SHRINKAGE_ACCOUNTS = 5.0  # a tag's score is shrunk towards 0 as if this many accounts scored 0 with it
OWN_TAG_SHRINKAGE_POSTS = 2.0

LIKES_FEATURE_NAMES: list[str] = [
    # the account
    "log_followers",
    "log_following",
    "log_posts_count",
    "n_previous",
    "log_likes_median",
    "log_like_rate",  # log of median likes per follower
    "mean_rel",  # log1p(x) - log1p(median) for each statistic x of the previous likes
    "min_rel",
    "max_rel",
    "p25_rel",
    "p75_rel",
    "likes_cv",
    "recent_trend",
    "last_rel",
    "last3_rel",
    "log_mean_rel",  # geometric mean of previous likes vs median
    "recent_weighted_rel",  # exponentially weighted log-likes, newest weighs most
    "trend_fit_rel",  # a straight line through log-likes over time, extended to this post, vs median
    "trend_slope_weekly",  # its slope, log-likes per week
    "log_days_since_last_post",
    "log_posting_interval",
    "gap_ratio_log",
    # the post
    "hashtag_count",
    "hashtag_count_vs_usual",
    "mention_count",
    "log_caption_length",
    "is_multi_image",
    "is_video",
    "has_location",
    # when it goes out, and what it is (inference/likes_time.py, inference/likes_content.py)
    *TIME_FEATURE_NAMES,
    *CONTENT_FEATURE_NAMES,
    # its hashtags
    "tag_popularity_mean",
    "tag_popularity_max",
    "tag_popularity_min",
    "known_tag_share",
    "own_tag_lift",
    "own_tag_used_share",
]


@dataclass(frozen=True)
class PostFacts:
    """What is known about a post before it is published."""

    taken_at: datetime
    hashtags: tuple[str, ...] = ()
    mentions: int = 0
    caption_length: int = 0
    is_multi_image: bool = False
    is_video: bool = False
    has_location: bool = False
    time_known: bool = True  # False where only the day is known: the hour features say unknown
    concepts: frozenset[str] | None = None  # core.concepts names shown in the photo; None unknown ("photo-blind")
    width: int | None = None
    height: int | None = None
    age_days: float | None = None  # the age at which its likes were counted; None for a prediction (settled)

    @classmethod
    def of(cls, post: Post, fetched_at: datetime | None = None) -> PostFacts:
        """The facts of a post in a data set; with `fetched_at`, the age its likes were counted at."""
        return cls(
            post.taken_at,
            tuple(t.lower() for t in post.hashtags),
            post.mentions,
            post.caption_length,
            post.is_multi_image,
            post.is_video,
            post.has_location,
            post.time_known,
            post_concepts(post),
            post.width,
            post.height,
            None if fetched_at is None else (fetched_at - post.taken_at).total_seconds() / 86400,
        )

    @property
    def kind(self) -> str:
        return kind_of(self.is_multi_image, self.is_video)


@dataclass(frozen=True)
class TagPopularity:
    """Per-tag mean residual of log-likes vs the account median, learned from training accounts only."""

    scores: dict[str, float]
    accounts: int  # training accounts it was learned from
    shrinkage: float = TAG_SHRINKAGE_ACCOUNTS

    @classmethod
    def empty(cls) -> TagPopularity:
        return cls({}, 0)

    def to_json(self) -> str:
        payload = {
            "version": LIKES_FEATURES_VERSION,
            "accounts": self.accounts,
            "shrinkage": self.shrinkage,
            "scores": {tag: round(score, 6) for tag, score in sorted(self.scores.items())},
        }
        return json.dumps(payload, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self, path: Path) -> str:
        """Write the JSON artefact; returns its sha256 for the card."""
        text = self.to_json().encode("utf-8")
        path.write_bytes(text)
        return hashlib.sha256(text).hexdigest()

    @classmethod
    def load(cls, path: Path, sha256: str | None = None) -> TagPopularity:
        data = path.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"{path} does not match the sha256 in the model card; re-run `likepredict train`")
        payload = json.loads(data)
        if payload.get("version") != LIKES_FEATURES_VERSION:
            raise ValueError(f"{path} is for features {payload.get('version')}, not {LIKES_FEATURES_VERSION}")
        return cls(
            {k: float(v) for k, v in payload["scores"].items()}, int(payload["accounts"]), float(payload["shrinkage"])
        )


def fit_tag_popularity(
    residuals_by_account: dict[str, list[tuple[tuple[str, ...], float]]],
    shrinkage: float = TAG_SHRINKAGE_ACCOUNTS,
    min_accounts: int = 2,
) -> TagPopularity:
    """Score each tag by the mean over accounts of that account's mean residual on posts carrying it.

    Averaging per account first keeps one prolific account from owning a tag; dividing by
    (accounts + shrinkage) pulls rarely used tags towards 0, the score of an unknown tag.
    """
    per_tag: dict[str, list[float]] = {}
    for posts in residuals_by_account.values():
        account_tags: dict[str, list[float]] = {}
        for tags, residual in posts:
            for tag in set(tags):
                account_tags.setdefault(tag, []).append(residual)
        for tag, values in account_tags.items():
            per_tag.setdefault(tag, []).append(float(np.mean(values)))
    scores = {
        tag: sum(values) / (len(values) + shrinkage) for tag, values in per_tag.items() if len(values) >= min_accounts
    }
    return TagPopularity(scores, len(residuals_by_account), shrinkage)


@dataclass(frozen=True)
class LikesRow:
    """One post's feature vector with the account baseline it is relative to."""

    features: np.ndarray  # float32, len(LIKES_FEATURE_NAMES)
    n_previous: int
    baseline_median: float  # median likes of the previous posts (0 without history)
    baseline_low: float  # their 10th percentile
    baseline_high: float  # their 90th percentile
    history: tuple[Post, ...] = ()  # the previous posts the likes figures are over, newest first

    @property
    def baseline_log(self) -> float:
        return math.log1p(self.baseline_median)


def settled_history(posts: Sequence[Post], at: datetime, fetched_at: datetime | None) -> list[Post]:
    """Posts before `at` whose likes had settled when the data was fetched, newest first."""
    return sorted(
        (p for p in posts if p.taken_at < at and is_settled(p, fetched_at)), key=lambda p: p.taken_at, reverse=True
    )


def is_settled(post: Post, fetched_at: datetime | None) -> bool:
    """Whether the post was old enough at fetch time for its like count to be final (a hidden count never is)."""
    return post.likes is not None and (fetched_at is None or post.taken_at < fetched_at - timedelta(days=SETTLE_DAYS))


def _rel(value: float, log_median: float) -> float:
    return math.log1p(max(value, 0.0)) - log_median


def likes_features(
    posts: Sequence[Post],
    followers: int,
    following: int,
    posts_count: int,
    post: PostFacts,
    tag_popularity: TagPopularity,
    fetched_at: datetime | None = None,
) -> LikesRow:
    """The feature row for `post` from the account's posts dated before `post.taken_at`."""
    at = post.taken_at
    before = [p for p in posts if p.taken_at < at]
    history = settled_history(before, at, fetched_at)
    stats = account_stats(history, followers, following, posts_count, at=at)
    recent = history[: stats.n_posts]
    likes = np.array([p.likes for p in recent], dtype=float)
    log_median = math.log1p(stats.likes_median)
    newest = max((p.taken_at for p in before), default=None)
    days_since = (at - newest).total_seconds() / 86400 if newest else 365.0
    interval = stats.posting_interval_days if stats.posting_interval_days is not None else 30.0
    tags = tuple(dict.fromkeys(t.lower() for t in post.hashtags))
    # one call for the four percentiles: numpy's per-call overhead dwarfs the work on a dozen values
    p10, p25, p75, p90 = (float(v) for v in np.percentile(likes, [10, 25, 75, 90])) if len(likes) else (0.0,) * 4
    features = {
        "log_followers": math.log1p(followers),
        "log_following": math.log1p(following),
        "log_posts_count": math.log1p(posts_count),
        "n_previous": float(stats.n_posts),
        "log_likes_median": log_median,
        "log_like_rate": math.log((stats.likes_median + 1) / (followers + 1)),
        "mean_rel": _rel(stats.likes_mean, log_median),
        "min_rel": _rel(stats.likes_min, log_median),
        "max_rel": _rel(stats.likes_max, log_median),
        "p25_rel": _rel(p25, log_median) if len(likes) else 0.0,
        "p75_rel": _rel(p75, log_median) if len(likes) else 0.0,
        "likes_cv": stats.likes_std / stats.likes_mean if stats.likes_mean > 0 else 0.0,
        "recent_trend": stats.recent_trend,
        "last_rel": _rel(likes[0], log_median) if len(likes) else 0.0,
        "last3_rel": _rel(float(likes[:3].mean()), log_median) if len(likes) else 0.0,
        "log_mean_rel": float(np.log1p(likes).mean()) - log_median if len(likes) else 0.0,
        "recent_weighted_rel": _recent_weighted(likes) - log_median if len(likes) else 0.0,
        **_trend_fit(recent, at, log_median),
        "log_days_since_last_post": math.log1p(max(days_since, 0.0)),
        "log_posting_interval": math.log1p(max(interval, 0.0)),
        "gap_ratio_log": math.log((max(days_since, 0.0) + 0.5) / (max(interval, 0.0) + 0.5)),
        "hashtag_count": float(len(tags)),
        "hashtag_count_vs_usual": len(tags) - (float(np.mean([len(p.hashtags) for p in recent])) if recent else 0.0),
        "mention_count": float(post.mentions),
        "log_caption_length": math.log1p(max(post.caption_length, 0)),
        "is_multi_image": float(post.is_multi_image),
        "is_video": float(post.is_video),
        "has_location": float(post.has_location),
        **time_features(at, post.time_known, recent),
        **content_features(post.kind, post.concepts, post.width, post.height, post.age_days, recent, log_median),
        **_tag_features(tags, tag_popularity, recent, log_median),
    }
    return LikesRow(
        features=np.array([features[name] for name in LIKES_FEATURE_NAMES], dtype=np.float32),
        n_previous=stats.n_posts,
        baseline_median=stats.likes_median,
        baseline_low=p10,
        baseline_high=p90,
        history=tuple(recent),
    )


TIME_COLUMNS = [LIKES_FEATURE_NAMES.index(name) for name in TIME_FEATURE_NAMES]
CONCEPT_COLUMNS = [LIKES_FEATURE_NAMES.index(name) for name in ("concepts_known", *CONCEPT_FEATURE_NAMES)]


def account_likes_features(account: Account, post: PostFacts, tag_popularity: TagPopularity) -> LikesRow:
    """`likes_features` for a post of `account`: from its posts, counts and the time they were fetched."""
    return likes_features(
        account.posts,
        account.followers,
        account.following,
        account.posts_count,
        post,
        tag_popularity,
        account.fetched_at,
    )


def at_times(row: LikesRow, times: Sequence[datetime]) -> np.ndarray:
    """Copies of the row, one per time, with only the time features moved there (exact times)."""
    rows = np.repeat(row.features[None, :], len(times), axis=0)
    for i, at in enumerate(times):
        values = time_features(at, True, row.history)
        rows[i, TIME_COLUMNS] = [values[name] for name in TIME_FEATURE_NAMES]
    return rows


def photo_blind(features: np.ndarray) -> np.ndarray:
    """The same rows with the photo's concepts unknown: the prediction without the photo's effect."""
    blind = np.array(features, dtype=np.float32, copy=True)
    blind[..., CONCEPT_COLUMNS] = [0.0, *([UNKNOWN_CONCEPT] * len(CONCEPT_FEATURE_NAMES))]
    return blind


def nothing_shown(features: np.ndarray) -> np.ndarray:
    """The same rows with a described photo showing none of the concepts: what the photo's content moves from."""
    plain = np.array(features, dtype=np.float32, copy=True)
    plain[..., CONCEPT_COLUMNS] = [1.0, *([0.0] * len(CONCEPT_FEATURE_NAMES))]
    return plain


def _trend_fit(recent: Sequence[Post], at: datetime, log_median: float) -> dict[str, float]:
    """Log-likes of the previous posts against time, as a line extended to `at` (clipped: a few points)."""
    days = np.array([(p.taken_at - at).total_seconds() / 86400 for p in recent])
    if len(days) < 3 or np.ptp(days) < 1.0:
        return {"trend_fit_rel": 0.0, "trend_slope_weekly": 0.0}
    values = np.log1p(np.array([p.likes or 0 for p in recent], dtype=float))
    slope, intercept = np.polyfit(days, values, 1)
    return {
        "trend_fit_rel": float(np.clip(intercept - log_median, -2.0, 2.0)),
        "trend_slope_weekly": float(np.clip(slope * 7, -1.0, 1.0)),
    }


def _recent_weighted(likes_newest_first: np.ndarray, half_life_posts: float = 3.0) -> float:
    weights = 0.5 ** (np.arange(len(likes_newest_first)) / half_life_posts)
    return float(np.sum(weights * np.log1p(likes_newest_first)) / np.sum(weights))


def _tag_features(
    tags: tuple[str, ...], popularity: TagPopularity, recent: list[Post], log_median: float
) -> dict[str, float]:
    known = [popularity.scores[t] for t in tags if t in popularity.scores]
    own: dict[str, list[float]] = {}
    for previous in recent:
        if previous.likes is None:
            continue
        for tag in set(t.lower() for t in previous.hashtags):
            own.setdefault(tag, []).append(_rel(previous.likes, log_median))
    own_lifts = [sum(own[t]) / (len(own[t]) + OWN_TAG_SHRINKAGE_POSTS) for t in tags if t in own]
    return {
        "tag_popularity_mean": float(np.mean(known)) if known else 0.0,
        "tag_popularity_max": max(known) if known else 0.0,
        "tag_popularity_min": min(known) if known else 0.0,
        "known_tag_share": len(known) / len(tags) if tags else 0.0,
        "own_tag_lift": float(np.mean(own_lifts)) if own_lifts else 0.0,
        "own_tag_used_share": len(own_lifts) / len(tags) if tags else 0.0,
    }


def likes_target(likes: int, row: LikesRow) -> float:
    """What the model learns: log-likes relative to the account's previous median."""
    return math.log1p(likes) - row.baseline_log


def likes_from_target(value: float | np.ndarray, row: LikesRow) -> float | np.ndarray:
    return np.expm1(np.asarray(value) + row.baseline_log)
