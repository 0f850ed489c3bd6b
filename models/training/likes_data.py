"""The likes model's rows: every settled post of an account with enough history, from posts dated before it.

Accounts of several files (influencers-2017 and -2019) are split together by handle, so an account present
in both years sits on one side only; each row remembers its file (`source`) for per-year figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from core.records import Account, Post
from inference.likes_features import (
    LIKES_FEATURE_NAMES,
    MIN_PREVIOUS_POSTS,
    LikesRow,
    PostFacts,
    TagPopularity,
    account_likes_features,
    fit_tag_popularity,
    is_settled,
    settled_history,
)

# Instagram opened on this day; earlier dates in a data set are broken timestamps.
FIRST_VALID_DATE = datetime(2010, 10, 6, tzinfo=UTC)


@dataclass(frozen=True)
class SourcedAccount:
    """An account and the data file (year) it came from."""

    account: Account
    source: str


@dataclass
class LikesDataset:
    """Feature rows of a set of accounts, with the account baseline of each row."""

    features: np.ndarray  # (n, len(LIKES_FEATURE_NAMES)) float32
    target: np.ndarray  # log1p(likes) - log1p(baseline median)
    likes: np.ndarray
    baseline_median: np.ndarray
    baseline_low: np.ndarray
    baseline_high: np.ndarray
    groups: np.ndarray  # account index (or fold), for grouped resampling and cross-validation
    sources: np.ndarray  # the data file of each row
    shortcodes: np.ndarray  # the post of each row
    rows: list[LikesRow] = field(default_factory=list)  # kept for what-if rows (other times, photo-blind)
    dropped_unsettled: int = 0  # target posts left out because their likes were not final at crawl time

    def __len__(self) -> int:
        return len(self.target)

    def likes_from(self, target: np.ndarray) -> np.ndarray:
        return np.expm1(np.asarray(target, dtype=float) + np.log1p(self.baseline_median))

    def subset(self, mask: np.ndarray) -> LikesDataset:
        index = np.flatnonzero(mask)
        return replace(
            self,
            features=self.features[index],
            target=self.target[index],
            likes=self.likes[index],
            baseline_median=self.baseline_median[index],
            baseline_low=self.baseline_low[index],
            baseline_high=self.baseline_high[index],
            groups=self.groups[index],
            sources=self.sources[index],
            shortcodes=self.shortcodes[index],
            rows=[self.rows[i] for i in index] if self.rows else [],
        )


def clean_account(account: Account) -> Account:
    """The account with broken timestamps removed from its posts."""
    return replace(account, posts=tuple(p for p in account.posts if p.taken_at >= FIRST_VALID_DATE))


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


def post_facts(post: Post, account: Account) -> PostFacts:
    return PostFacts.of(post, account.fetched_at)


def build_dataset(
    accounts: Sequence[SourcedAccount],
    popularity: Callable[[int], TagPopularity],
    keep_rows: bool = False,
    facts: Callable[[Post, Account], PostFacts] = post_facts,
) -> LikesDataset:
    """Rows for every settled post with enough history; `popularity(i)` is the tag table for account i.

    `facts` turns a post into what the model sees (evaluation swaps in concepts detected in its photo)."""
    columns: dict[str, list] = {k: [] for k in ("features", "target", "likes", "median", "low", "high", "groups")}
    sources: list[str] = []
    shortcodes: list[str] = []
    kept: list[LikesRow] = []
    dropped = 0
    for index, sourced in enumerate(accounts):
        account, table = sourced.account, popularity(index)
        for post in account.posts:
            if post.likes is None or not is_settled(post, account.fetched_at):
                dropped += 1
                continue
            row = account_likes_features(account, facts(post, account), table)
            if row.n_previous < MIN_PREVIOUS_POSTS:
                continue
            columns["features"].append(row.features)
            columns["target"].append(math.log1p(post.likes) - row.baseline_log)
            columns["likes"].append(post.likes)
            columns["median"].append(row.baseline_median)
            columns["low"].append(row.baseline_low)
            columns["high"].append(row.baseline_high)
            columns["groups"].append(index)
            sources.append(sourced.source)
            shortcodes.append(post.shortcode)
            if keep_rows:
                kept.append(row)
    width = len(LIKES_FEATURE_NAMES)
    return LikesDataset(
        features=np.array(columns["features"], dtype=np.float32).reshape(-1, width),
        target=np.array(columns["target"], dtype=float),
        likes=np.array(columns["likes"], dtype=float),
        baseline_median=np.array(columns["median"], dtype=float),
        baseline_low=np.array(columns["low"], dtype=float),
        baseline_high=np.array(columns["high"], dtype=float),
        groups=np.array(columns["groups"], dtype=int),
        sources=np.array(sources, dtype=object),
        shortcodes=np.array(shortcodes, dtype=str),
        rows=kept,
        dropped_unsettled=dropped,
    )


def split_accounts(
    accounts: Sequence[SourcedAccount], seed: int, test_share: float = 0.2
) -> tuple[list[SourcedAccount], list[SourcedAccount]]:
    """A fixed random split of whole accounts by handle (one handle, all its years, one side): (training, held-out)."""
    handles = sorted({a.account.handle for a in accounts})
    order = np.random.default_rng(seed).permutation(len(handles))
    n_test = max(1, int(round(len(handles) * test_share))) if len(handles) > 1 else 0
    held_out = {handles[int(i)] for i in order[:n_test]}
    return (
        [a for a in accounts if a.account.handle not in held_out],
        [a for a in accounts if a.account.handle in held_out],
    )


def account_folds(accounts: Sequence[SourcedAccount], folds: int, seed: int) -> np.ndarray:
    """The cross-validation fold of each account, by handle (both years of an account share a fold)."""
    handles = sorted({a.account.handle for a in accounts})
    order = np.random.default_rng(seed + 1).permutation(len(handles))
    fold_of_handle = {handles[int(i)]: k % folds for k, i in enumerate(order)}
    return np.array([fold_of_handle[a.account.handle] for a in accounts], dtype=int)


def training_dataset(
    accounts: Sequence[SourcedAccount], folds: int, seed: int
) -> tuple[LikesDataset, TagPopularity, np.ndarray]:
    """Training rows whose tag scores come from the OTHER folds (no account sees its own likes through its
    tags), the tag table of all training accounts (for held-out accounts and serving), and each row's fold."""
    residuals = [account_residuals(a.account) for a in accounts]
    fold_of = account_folds(accounts, folds, seed)
    keys = [f"{a.source}/{a.account.handle}" for a in accounts]
    tables = [
        fit_tag_popularity({key: r for key, r, f in zip(keys, residuals, fold_of) if f != k}) for k in range(folds)
    ]
    dataset = build_dataset(accounts, lambda i: tables[fold_of[i]])
    full = fit_tag_popularity(dict(zip(keys, residuals)))
    return dataset, full, fold_of[dataset.groups]
