"""Measure the hashtag engine on real data: does it find the tags a post really used, and do high scores mean more likes?

Protocol (`evaluate_hashtags`): every account's most recent post is held out. The engine's store is built
from all other posts, so a held-out account is new to the engine except for its own earlier posts.

* **recall@N**: for each held-out post that had tags, the share of its tags among the engine's N
  suggestions for its account; averaged over those posts. Measured for each of the engine's rankings
  (`RANKINGS`: the learned ranker when one is given, fit x (1 + lift), and lift alone); `engine_*` keys are
  the engine's default ranking (the learned one when given). The baseline suggests the account's N most used
  tags (over the same earlier posts the engine sees; ties alphabetical). `hit_rate` is the share of posts
  with at least one tag right; `ndcg` the binary-relevance NDCG@N. `oracle_*` are ceilings: the recall a
  perfect ordering of the candidates (or of the account's own tags alone) would reach; `oracle_widest_*` and
  `oracle_vocabulary_*` that of every tag anything about the account points to and of every stored tag, and
  `hidden_tags_in_no_stored_post` the share no engine over the store can reach (`hashtag_ceilings`); each
  ceiling also as a ratio to the baseline (`..._vs_baseline`). `candidate_recall`
  is the share of the post's tags among the candidates at all (no cap at N), and `candidate_recall_<source>`
  the share each source points to (`CANDIDATE_SOURCES`; besides "own", only tags new to the account), so
  the ceiling can be traced to where the candidates come from.
  On 2019 data the post's `image_concepts` are what its photo shows, as the photo's detected concepts are
  when serving: they bring tags of the concept-tag table (built from the store's posts) into the candidates.
* **engagement lift, high vs low**: each held-out post with tags gets a score from the tags it really
  used. Its outcome is likes / (median likes of the account's earlier posts) - 1. Posts scoring above the
  median score form the high half, those below it the low half (posts exactly at the median are left out,
  so ties do not decide a side). Reported: the mean outcome of each half and the gap (high - low). A
  useful score has a positive gap. Three scores: `engine_*` the mean shrunk lift of the tags (tags unknown
  to the store 0): what the expected engagement rests on, the same under either ranking;
  `expected_value_*` the mean fit x (1 + lift) the default ranking sorts by (tags that are no candidate
  fit 0); `baseline_*` how familiar the tags are (mean share of the account's earlier posts that used each
  tag), the signal behind "use your usual tags". Each gap comes with a 90% bootstrap interval (posts
  resampled with replacement, seeded), because a few hundred posts leave a gap of a few percent well inside
  the noise.

**Halves** (`half="a"` or `"b"`): accounts are split in two by a hash of the handle; only held-out posts of
that half's accounts are measured (the store still holds every account's earlier posts, as it would in
use). Choices about the engine (its default ranking, any constant, the learned ranker's training) are made
on half "a" and reported on half "b", so the reported numbers are not the ones the choice was fitted to.
A ranker measured on the half it was trained on is flagged (`ranker_measured_on_its_training_accounts`).
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from core.account_stats import account_stats
from core.records import Account, Post
from core.tags import tag_set
from inference.hashtag_candidates import CANDIDATE_SOURCES, candidate_sources
from inference.hashtag_ceilings import unseen_share, widest_candidates
from inference.hashtag_concepts import ConceptTags, concept_tags_from, post_concepts
from inference.hashtag_ranker import HashtagRanker
from inference.hashtag_scoring import (
    PRIOR_POSTS,
    RANKINGS,
    engagement_rate,
    estimate_shrinkage,
    post_lift,
)
from inference.hashtags import DEFAULT_COUNT, HashtagEngine
from store import Store


@dataclass(frozen=True)
class HeldOut:
    """An account's newest post, hidden from the engine, and the account as it was before it."""

    post: Post
    history: Account

    @property
    def tags(self) -> set[str]:
        return tag_set(self.post.hashtags)


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


HALVES = ("a", "b")


def half_of(handle: str) -> str:
    """ "a" or "b" by the first byte of the handle's SHA-256: stable across runs, machines and data order."""
    return HALVES[hashlib.sha256(handle.encode("utf-8")).digest()[0] % 2]


def other_half(half: str) -> str:
    return HALVES[1 - HALVES.index(half)]


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
    earlier = [p.likes for p in held.history.posts if p.likes is not None]
    if held.post.likes is None or not earlier:
        return None
    usual = median(earlier)
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


def bootstrap_gap(
    scored: Sequence[tuple[float, float]], draws: int = 1000, seed: int = 0
) -> tuple[float, float] | None:
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
        counted = [
            (p, engagement_rate(p.likes, p.comments, account.followers)) for p in account.posts if p.likes is not None
        ]
        mean_rate = sum(rate for _, rate in counted) / len(counted) if counted else 0.0
        if mean_rate <= 0:
            continue
        for post, rate in counted:
            for tag in tag_set(post.hashtags):
                grouped[tag].append(post_lift(rate, mean_rate))
    return grouped


def build_store(accounts: Iterable[Account], directory: Path) -> Store:
    """A store of `accounts` in memory (images, none here, under `directory`), written in one transaction:
    one commit per account would spend most of the evaluation waiting for the disk."""
    store = Store.open(":memory:", directory / "images")
    with store.database.transaction():
        for account in accounts:
            store.accounts.save(account)
    return store


def recall_metrics(name: str, recalls: Sequence[float], n: int) -> dict[str, float | None]:
    return {f"{name}_recall_at_{n}": _mean(recalls), f"{name}_hit_rate_at_{n}": _mean([float(r > 0) for r in recalls])}


def gap_metrics(name: str, scored: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """The high-vs-low split of (score, outcome) pairs under `name`_... keys."""
    split = split_halves(scored)
    return {
        f"{name}_lift_high_half": split["high_mean"],
        f"{name}_lift_low_half": split["low_mean"],
        f"{name}_lift_gap": split["gap"],
        f"{name}_lift_gap_ci90": bootstrap_gap(scored),
        f"{name}_high_half_posts": split["high_n"],
        f"{name}_low_half_posts": split["low_n"],
    }


def ndcg(suggested: Sequence[str], actual: set[str], n: int) -> float:
    """Binary-relevance NDCG@n: hits near the top count more; 1 = the post's tags (as many as fit) first."""
    if not actual:
        return 0.0
    gain = sum(1.0 / math.log2(rank + 2) for rank, tag in enumerate(suggested[:n]) if tag in actual)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(actual), n)))
    return gain / ideal


def oracle_recall(candidates: Iterable[str], actual: set[str], n: int) -> float:
    """The recall a perfect ordering of `candidates` would reach: the ceiling of any ranker over them."""
    return min(len(actual & set(candidates)), n) / len(actual) if actual else 0.0


def ranking_metrics(name: str, lists: Sequence[tuple[Sequence[str], set[str]]], n: int) -> dict[str, float | None]:
    """recall@n, hit rate@n and NDCG@n of (suggested, actual) pairs under `name`_... keys."""
    recalls = [recall(suggested[:n], actual) for suggested, actual in lists]
    return {
        **recall_metrics(name, recalls, n),
        f"{name}_ndcg_at_{n}": _mean([ndcg(suggested, actual, n) for suggested, actual in lists]),
    }


@dataclass(frozen=True)
class Query:
    """One held-out post as the engine meets it: the account before it, and what its photo showed."""

    held: HeldOut
    concepts: frozenset[str] | None


def queries(held_out: Iterable[HeldOut]) -> list[Query]:
    return [Query(h, post_concepts(h.post)) for h in held_out if h.tags]


def concept_table(accounts: Iterable[Account]) -> ConceptTags | None:
    """The concept-tag table of the posts with image concepts (None when no post has any, as in 2017)."""
    table = concept_tags_from(accounts)
    return table if table.total_posts else None


def evaluate_hashtags(
    accounts: Sequence[Account],
    n: int = DEFAULT_COUNT,
    half: str | None = None,
    prior_posts: float = PRIOR_POSTS,
    ranker: HashtagRanker | None = None,
) -> dict[str, Any]:
    """Run the protocol in the module docstring on `accounts` (on one `half` of them when given)."""
    if half is not None and half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}, not {half!r}")
    remaining, held_out = hold_out_newest(accounts)
    measured = [h for h in held_out if half is None or half_of(h.history.handle) == half]
    asked = queries(measured)
    trained_half = ranker.model.entry.get("data", {}).get("half") if ranker is not None else None
    rankings = [r for r in RANKINGS if r != "learned" or ranker is not None]
    lists: dict[str, list[tuple[list[str], set[str]]]] = {name: [] for name in (*rankings, "baseline")}
    ceilings: dict[str, list[float]] = {"candidates": [], "own_tags": [], "widest": [], "vocabulary": [], "unseen": []}
    widest_sizes: list[int] = []
    # share of the hidden post's tags among the candidates (uncapped), in all and by source
    found: dict[str, list[float]] = {name: [] for name in ("all", *CANDIDATE_SOURCES)}
    sizes: list[int] = []
    scored: dict[str, list[tuple[float, float]]] = {"engine": [], "expected_value": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="likepredict-hashtag-eval-") as tmp:
        store = build_store(remaining, Path(tmp))
        try:
            engine = HashtagEngine(store, prior_posts=prior_posts, ranker=ranker, concept_tags=concept_table(remaining))
            for query in asked:
                held = query.held
                candidates = engine.candidates(held.history, concepts=query.concepts)
                assessed = engine.assess(candidates, account=held.history, concepts=query.concepts)
                for ranking in rankings:
                    chosen = [r.tag for r in engine.choose(assessed, n, ranking)]
                    lists[ranking].append((chosen, held.tags))
                lists["baseline"].append((most_used_tags(held.history, n), held.tags))
                ceilings["candidates"].append(oracle_recall(candidates, held.tags, n))
                ceilings["own_tags"].append(
                    oracle_recall([t for t, c in candidates.items() if c.own_uses], held.tags, n)
                )
                sizes.append(len(candidates))
                index = engine.tag_index()
                widest = widest_candidates(index, engine.basis(held.history), held.history, candidates)
                ceilings["widest"].append(oracle_recall(widest, held.tags, n))
                widest_sizes.append(len(widest))
                ceilings["vocabulary"].append(oracle_recall(held.tags & index.posts_by_tag.keys(), held.tags, n))
                ceilings["unseen"].append(unseen_share(index, held.tags))
                found["all"].append(recall(list(candidates), held.tags))
                for source in CANDIDATE_SOURCES:
                    pointed = [t for t, c in candidates.items() if source in candidate_sources(c)]
                    found[source].append(recall(pointed, held.tags))
                outcome = outcome_lift(held)
                if outcome is None:
                    continue
                lifts = {t: s.lift for t, s in engine.score_tags(held.tags).items()}
                values = [(assessed[t].fit if t in assessed else 0.0) * (1.0 + lifts[t]) for t in held.tags]
                scored["engine"].append((float(np.mean(list(lifts.values()))), outcome))
                scored["expected_value"].append((float(np.mean(values)), outcome))
                scored["baseline"].append((tag_familiarity(held.history, held.tags), outcome))
        finally:
            store.close()
    metrics: dict[str, Any] = {
        "accounts": len(accounts),
        "half": half,
        "posts_in_store": sum(len(a.posts) for a in remaining),
        "held_out_posts": len(measured),
        "held_out_posts_with_tags": len(asked),
        "held_out_posts_with_concepts": sum(q.concepts is not None for q in asked),
        "n": n,
        "ranking": engine.ranking,
        "ranker": ranker.version if ranker is not None else None,
        "ranker_trained_on_half": trained_half,
        # a ranker measured on the accounts it was trained on flatters itself: say so in the numbers
        "ranker_measured_on_its_training_accounts": trained_half is not None and half != other_half(trained_half),
        "prior_posts": prior_posts,
        **ranking_metrics("engine", lists[engine.ranking], n),
        **ranking_metrics("baseline", lists["baseline"], n),
    }
    for ranking in rankings:
        metrics.update(ranking_metrics(f"{ranking}_ranking", lists[ranking], n))
    baseline = metrics[f"baseline_recall_at_{n}"]
    metrics[f"engine_recall_at_{n}_vs_baseline"] = metrics[f"engine_recall_at_{n}"] / baseline if baseline else None
    # ceilings: what a perfect ordering of the candidates (or of the account's own tags alone) would reach
    metrics[f"oracle_candidates_recall_at_{n}"] = _mean(ceilings["candidates"])
    metrics[f"oracle_own_tags_recall_at_{n}"] = _mean(ceilings["own_tags"])
    # wider ceilings (`hashtag_ceilings`): every tag anything about the account points to, then every stored tag
    metrics[f"oracle_widest_recall_at_{n}"] = _mean(ceilings["widest"])
    metrics[f"oracle_vocabulary_recall_at_{n}"] = _mean(ceilings["vocabulary"])
    for ceiling in ("candidates", "own_tags", "widest", "vocabulary"):
        oracle = metrics[f"oracle_{ceiling}_recall_at_{n}"]
        metrics[f"oracle_{ceiling}_recall_at_{n}_vs_baseline"] = oracle / baseline if baseline and oracle else None
    metrics["widest_candidates_per_post"] = _mean(widest_sizes)
    metrics["hidden_tags_in_no_stored_post"] = _mean(ceilings["unseen"])
    metrics["candidates_per_post"] = _mean(sizes)
    metrics["candidate_recall"] = _mean(found["all"])
    for source in CANDIDATE_SOURCES:
        metrics[f"candidate_recall_{source}"] = _mean(found[source])
    metrics["posts_scored_for_lift"] = len(scored["engine"])
    for name, pairs in scored.items():
        metrics.update(gap_metrics(name, pairs))
    metrics["shrinkage_k_used"] = engine.shrinkage
    metrics["shrinkage_k_estimated"] = estimate_shrinkage(lifts_by_tag(remaining))
    return metrics


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
