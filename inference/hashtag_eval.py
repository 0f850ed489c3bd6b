"""Measure the hashtag engine on real data: does it find the tags a post really used, and do high scores mean more likes?

Protocol (`evaluate_hashtags`): every account's most recent post is held out. The engine's store is built
from all other posts, so a held-out account is new to the engine except for its own earlier posts.

* **recall@N**: for each held-out post that had tags, the share of its tags among the engine's N
  suggestions for its account; averaged over those posts. The baseline suggests the account's N most used
  tags (over the same earlier posts the engine sees; ties alphabetical). `hit_rate` is the share of posts
  with at least one tag right.
* **engagement lift, high vs low**: each held-out post with tags gets a score: the mean engine score
  (shrunk lift) of the tags it really used, tags unknown to the store scoring 0. Its outcome is
  likes / (median likes of the account's earlier posts) - 1. Posts scoring above the median score form the
  high half, those below it the low half (posts exactly at the median are left out, so ties do not
  decide a side). Reported: the mean outcome of each half and the gap (high - low). A useful score has a
  positive gap. The baseline scores a post by how familiar its tags are (mean share of the account's
  earlier posts that used each tag), the signal behind "use your usual tags". Each gap comes with a 90%
  bootstrap interval (posts resampled with replacement, seeded), because a few hundred posts leave a gap
  of a few percent well inside the noise.
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median
from typing import Any, Iterable, Sequence

import numpy as np

from inference.account_stats import account_stats
from inference.hashtags import (
    DEFAULT_COUNT,
    HashtagEngine,
    engagement_rate,
    estimate_shrinkage,
    normalize_tag,
    post_lift,
)
from likepredict.records import Account, Post
from likepredict.store import Store


@dataclass(frozen=True)
class HeldOut:
    """An account's newest post, hidden from the engine, and the account as it was before it."""

    post: Post
    history: Account

    @property
    def tags(self) -> set[str]:
        return {normalize_tag(t) for t in self.post.hashtags if normalize_tag(t)}


def hold_out_newest(accounts: Iterable[Account]) -> tuple[list[Account], list[HeldOut]]:
    """(accounts without their newest post, held-out posts of accounts that have earlier posts)."""
    remaining: list[Account] = []
    held_out: list[HeldOut] = []
    for account in accounts:
        posts = account.posts_newest_first()
        if not posts:
            continue
        history = replace(account, posts=tuple(posts[1:]))
        remaining.append(history)
        if len(posts) > 1:
            held_out.append(HeldOut(posts[0], history))
    return remaining, held_out


def recall(suggested: Sequence[str], actual: set[str]) -> float:
    return len(set(suggested) & actual) / len(actual) if actual else 0.0


def most_used_tags(account: Account, n: int = DEFAULT_COUNT) -> list[str]:
    """The baseline: the account's n most used tags, most used first, ties alphabetical."""
    stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
    return [tag for tag, _ in stats.hashtags[:n]]


def tag_familiarity(account: Account, tags: set[str]) -> float:
    """Mean share of the account's earlier posts that used each of `tags` (the baseline's score)."""
    stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
    uses = dict(stats.hashtags)
    return sum(uses.get(t, 0) for t in tags) / (len(tags) * max(stats.n_posts, 1))


def outcome_lift(held: HeldOut) -> float | None:
    """likes / median likes of the earlier posts - 1; None when the earlier median is 0."""
    usual = median([p.likes for p in held.history.posts])
    return held.post.likes / usual - 1.0 if usual > 0 else None


def split_halves(scored: Sequence[tuple[float, float]]) -> dict[str, float | int | None]:
    """Mean outcome of the (score, outcome) pairs above vs below the median score."""
    if not scored:
        return {"high_mean": None, "low_mean": None, "gap": None, "high_n": 0, "low_n": 0}
    cut = median(score for score, _ in scored)
    high = [outcome for score, outcome in scored if score > cut]
    low = [outcome for score, outcome in scored if score < cut]
    high_mean = sum(high) / len(high) if high else None
    low_mean = sum(low) / len(low) if low else None
    gap = high_mean - low_mean if high_mean is not None and low_mean is not None else None
    return {"high_mean": high_mean, "low_mean": low_mean, "gap": gap, "high_n": len(high), "low_n": len(low)}


def bootstrap_gap(scored: Sequence[tuple[float, float]], draws: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """5th and 95th percentiles of the high-low gap over `draws` resamples of the posts."""
    if len(scored) < 4:
        return None
    pairs = np.asarray(scored, dtype=float)
    rng = np.random.default_rng(seed)
    gaps = []
    for _ in range(draws):
        sample = pairs[rng.integers(0, len(pairs), len(pairs))]
        cut = np.median(sample[:, 0])
        high, low = sample[sample[:, 0] > cut, 1], sample[sample[:, 0] < cut, 1]
        if len(high) and len(low):
            gaps.append(high.mean() - low.mean())
    if not gaps:
        return None
    low_end, high_end = np.percentile(gaps, [5, 95])
    return float(low_end), float(high_end)


def lifts_by_tag(accounts: Iterable[Account]) -> dict[str, list[float]]:
    """Every post's lift over its account's mean rate, grouped by tag (input of `estimate_shrinkage`)."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for account in accounts:
        rates = [engagement_rate(p.likes, p.comments, account.followers) for p in account.posts]
        mean_rate = sum(rates) / len(rates) if rates else 0.0
        if mean_rate <= 0:
            continue
        for post, rate in zip(account.posts, rates):
            for tag in {normalize_tag(t) for t in post.hashtags if normalize_tag(t)}:
                grouped[tag].append(post_lift(rate, mean_rate))
    return grouped


def build_store(accounts: Iterable[Account], directory: Path) -> Store:
    store = Store.open(directory / "hashtag-eval.sqlite3", directory / "images")
    for account in accounts:
        store.save_account(account)
    return store


def evaluate_hashtags(accounts: Sequence[Account], n: int = DEFAULT_COUNT) -> dict[str, Any]:
    """Run the protocol in the module docstring on `accounts`; returns the metrics by name."""
    remaining, held_out = hold_out_newest(accounts)
    tagged = [h for h in held_out if h.tags]
    with tempfile.TemporaryDirectory(prefix="likepredict-hashtag-eval-") as tmp:
        store = build_store(remaining, Path(tmp))
        try:
            engine = HashtagEngine(store)
            engine_recalls, baseline_recalls = [], []
            engine_scored, baseline_scored = [], []
            for held in tagged:
                advice = engine.suggest(held.history, n=n)
                engine_recalls.append(recall([s.tag for s in advice.suggestions], held.tags))
                baseline_recalls.append(recall(most_used_tags(held.history, n), held.tags))
                outcome = outcome_lift(held)
                if outcome is None:
                    continue
                scores = engine.score_tags(held.tags)
                engine_scored.append((sum(scores[t].lift for t in held.tags) / len(held.tags), outcome))
                baseline_scored.append((tag_familiarity(held.history, held.tags), outcome))
        finally:
            store.close()
    engine_split, baseline_split = split_halves(engine_scored), split_halves(baseline_scored)
    estimated_k = estimate_shrinkage(lifts_by_tag(remaining))
    return {
        "accounts": len(accounts),
        "posts_in_store": sum(len(a.posts) for a in remaining),
        "held_out_posts": len(held_out),
        "held_out_posts_with_tags": len(tagged),
        "n": n,
        f"engine_recall_at_{n}": _mean(engine_recalls),
        f"baseline_recall_at_{n}": _mean(baseline_recalls),
        f"engine_hit_rate_at_{n}": _mean([1.0 if r > 0 else 0.0 for r in engine_recalls]),
        f"baseline_hit_rate_at_{n}": _mean([1.0 if r > 0 else 0.0 for r in baseline_recalls]),
        "posts_scored_for_lift": len(engine_scored),
        "engine_lift_high_half": engine_split["high_mean"],
        "engine_lift_low_half": engine_split["low_mean"],
        "engine_lift_gap": engine_split["gap"],
        "engine_lift_gap_ci90": bootstrap_gap(engine_scored),
        "engine_high_half_posts": engine_split["high_n"],
        "engine_low_half_posts": engine_split["low_n"],
        "baseline_lift_high_half": baseline_split["high_mean"],
        "baseline_lift_low_half": baseline_split["low_mean"],
        "baseline_lift_gap": baseline_split["gap"],
        "baseline_lift_gap_ci90": bootstrap_gap(baseline_scored),
        "baseline_high_half_posts": baseline_split["high_n"],
        "baseline_low_half_posts": baseline_split["low_n"],
        "shrinkage_k_used": engine.shrinkage,
        "shrinkage_k_estimated": estimated_k,
    }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def format_report(metrics: dict[str, Any]) -> str:
    """The metrics as a small table: engine beside baseline."""
    n = metrics["n"]

    def show(value: Any, pct: bool = False) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if pct:
            return f"{value * 100:+.1f}%" if isinstance(value, float) else str(value)
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    def interval(bounds: Any) -> str:
        return "n/a" if bounds is None else f"{show(bounds[0], True)} to {show(bounds[1], True)}"

    rows = [
        ("metric", "engine", "baseline (most used tags)"),
        (f"recall@{n}", show(metrics[f"engine_recall_at_{n}"]), show(metrics[f"baseline_recall_at_{n}"])),
        (f"hit rate@{n}", show(metrics[f"engine_hit_rate_at_{n}"]), show(metrics[f"baseline_hit_rate_at_{n}"])),
        ("likes vs usual, high-score half", show(metrics["engine_lift_high_half"], True),
         show(metrics["baseline_lift_high_half"], True)),
        ("likes vs usual, low-score half", show(metrics["engine_lift_low_half"], True),
         show(metrics["baseline_lift_low_half"], True)),
        ("gap (high - low)", show(metrics["engine_lift_gap"], True), show(metrics["baseline_lift_gap"], True)),
        ("gap, 90% bootstrap interval", interval(metrics["engine_lift_gap_ci90"]),
         interval(metrics["baseline_lift_gap_ci90"])),
        ("posts in halves (high/low)", f"{metrics['engine_high_half_posts']}/{metrics['engine_low_half_posts']}",
         f"{metrics['baseline_high_half_posts']}/{metrics['baseline_low_half_posts']}"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{metrics['accounts']} accounts, {metrics['posts_in_store']} posts in the store; "
        f"{metrics['held_out_posts']} newest posts held out, {metrics['held_out_posts_with_tags']} of them with tags",
        "",
    ]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines += ["", f"shrinkage k used {show(metrics['shrinkage_k_used'])}, "
                  f"estimated from the data {show(metrics['shrinkage_k_estimated'])}"]
    return "\n".join(lines)
