"""Hashtag scoring maths: a tag's shrunk lift, its fit to the account and photo, and the choice of the top N.

Pure functions over plain records; the engine (`inference.hashtags`) feeds them from the store.

The issue states the score as a difference of rates (post rate - account rate). Across accounts of very
different sizes a raw difference is dominated by small accounts with high rates, so each post's difference
is divided by its own account's rate (a relative lift), and turned back into this account's rate units
when the expected engagement is computed: followers x (rate + rate x lift) is the issue's formula with
the score expressed for this account.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from core.tags import normalize_tag

BANNED_TAGS_FILE = Path(__file__).with_name("banned_tags.txt")

# k in n/(n+k). Empirical Bayes for a normal mean: the best shrinkage factor is tau2/(tau2 + sigma2/n)
# = n/(n + sigma2/tau2), with sigma2 the spread of single posts' lifts and tau2 the spread of tags' true
# lifts. On influencers-2017 the method-of-moments estimate (`estimate_shrinkage`, printed by
# `likepredict evaluate hashtags`) is about 10 over tags seen on 3+ posts: a post's luck varies ~3x more
# than tags truly differ, so a tag needs ~10 posts before its own mean counts for half of its score.
DEFAULT_SHRINKAGE_POSTS = 10.0
# One viral post (10x its account's usual) would otherwise outweigh dozens of ordinary ones.
MAX_POST_LIFT = 2.0
MIN_SIMILARITY = 0.3  # on the `similarity_weights` scale: well above the typical stored photo
# m in fit = (uses + m x prior) / (posts + m): the prior weighs as much as one post. That is the strength
# of Jeffreys' prior Beta(1/2, 1/2) for a share, with its mean moved from 1/2 to what the store says about
# the tag, so a tag the account has not used in 20 posts keeps at most 1/21 of a fit however common it is
# next to the account's tags, and one use in 20 posts outweighs any prior. Chosen before measuring.
PRIOR_POSTS = 1.0


@dataclass(frozen=True)
class EvidencePost:
    """One post under a tag: its engagement rate, its account's mean rate, and how much it counts."""

    rate: float
    account_rate: float
    weight: float = 1.0


@dataclass(frozen=True)
class TagScore:
    """A tag's shrunk lift and what it rests on."""

    tag: str
    lift: float  # shrunk relative out-performance: 0.18 = 18% above the owning accounts' usual
    raw_lift: float  # the weighted mean before shrinkage
    posts_seen: int
    effective_posts: float  # the sum of the weights: posts like the photo, counted by how alike
    similarity_weighted: bool = False


def engagement_rate(likes: int, comments: int | None, followers: int) -> float:
    return (likes + (comments or 0)) / max(followers, 1)


def post_lift(rate: float, account_rate: float, cap: float = MAX_POST_LIFT) -> float:
    """How much a post beat its own account's mean rate, relative to it, capped at `cap`."""
    return min(rate / account_rate - 1.0, cap)


def score_tag(tag: str, posts: Sequence[EvidencePost], k: float = DEFAULT_SHRINKAGE_POSTS) -> TagScore:
    """Weighted mean lift of the tag's posts, times W / (W + k) where W is the sum of the weights.

    The shrinkage is toward 0 ("no better than the account's usual"): a tag seen on one lucky post with
    a +100% lift scores 1/(1+10) x 100% = +9%, while one seen on 40 posts at +25% keeps 80% of it (+20%).
    Weights are 1 without a photo, so W is the number of posts. With a photo each post counts as much as
    its image is like the photo: a weighted mean alone ignores a uniform scale, so a tag whose posts are
    all unlike the photo would keep its full lift; through W it is shrunk like a tag seen on few posts.
    Posts whose account has no engagement are skipped.
    """
    usable = [p for p in posts if p.account_rate > 0]
    return score_lifts(tag, [post_lift(p.rate, p.account_rate) for p in usable], [p.weight for p in usable], k)


def score_lifts(
    tag: str, lifts: Sequence[float], weights: Sequence[float] | None = None, k: float = DEFAULT_SHRINKAGE_POSTS
) -> TagScore:
    """`score_tag` from the lifts of the posts whose account has engagement and their weights (None: all 1)."""
    weights = [1.0] * len(lifts) if weights is None else weights
    total = float(sum(weights))
    if total <= 0:
        return TagScore(tag, 0.0, 0.0, len(lifts), 0.0)
    # plain sums: a tag has at most a few dozen posts, where numpy's per-call overhead is most of the cost
    raw = sum(lift * weight for lift, weight in zip(lifts, weights)) / total
    return TagScore(tag, raw * total / (total + k), raw, len(lifts), total)


def similarity_weights(cosines: np.ndarray, min_images: int = 10) -> np.ndarray:
    """Weights in 0..1 from the photo's cosines with stored images: how far above the typical one.

    The pretrained embedding puts any two photos at a cosine of ~0.3-0.5 and photos of one scene at
    ~0.7-0.8, so raw cosines would barely tell a beach from a plate of food. Measured from the lower
    quartile of the cosines (an unrelated stored photo) up to 1, a quarter of the stored photos get
    weight 0 and near-copies 1. Not the median: in a store holding mostly one account's photos of one
    scene, the median photo is that scene, and the photo's own kind would count as "unlike" it.
    With fewer than `min_images` stored images the quartile means little, and raw cosines are used.
    """
    cosines = np.asarray(cosines, dtype=float)
    floor = float(np.quantile(cosines, 0.25)) if len(cosines) >= min_images else 0.0
    return np.clip((cosines - floor) / max(1.0 - floor, 1e-6), 0.0, 1.0)


def estimate_shrinkage(lifts_by_tag: Mapping[str, Sequence[float]], min_posts: int = 3) -> float | None:
    """Method-of-moments k = sigma2 / tau2 from tags seen on at least `min_posts` posts.

    sigma2 is the mean within-tag variance of post lifts; tau2 the variance of tag means minus the part
    sampling noise explains (mean sigma2 / n). None when the data show no real spread between tags.
    """
    groups = [np.asarray(v, dtype=float) for v in lifts_by_tag.values() if len(v) >= min_posts]
    if len(groups) < 2:
        return None
    sigma2 = float(np.mean([g.var(ddof=1) for g in groups]))
    means = np.array([g.mean() for g in groups])
    counts = np.array([len(g) for g in groups], dtype=float)
    tau2 = float(means.var() - np.mean(sigma2 / counts))
    return sigma2 / tau2 if tau2 > 0 else None


def load_banned_tags(path: Path = BANNED_TAGS_FILE, extra: Iterable[str] = ()) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    tags = {normalize_tag(line) for line in lines if line.strip() and not line.lstrip().startswith("#")}
    return frozenset(tags | {normalize_tag(t) for t in extra if normalize_tag(t)})


def tag_fit(uses: float, recent_posts: float, prior: float, prior_posts: float = PRIOR_POSTS) -> float:
    """How likely the account is to use the tag on its next post: (uses + m x prior) / (recent posts + m).

    The mean of the Beta posterior after seeing the tag on `uses` of the account's `recent_posts` posts,
    from a Beta prior with mean `prior` (co-occurrence with the account's tags, tags of posts like the
    photo: `cooccurrence_prior`, `combine_priors`) and weight m = `prior_posts` posts: add-k smoothing
    with k spread by the prior rather than evenly. With no posts it is the prior. Uses and posts may be
    weighted counts (posts counted by how alike their photos are to this one, see `HashtagEngine.candidates`).
    """
    denominator = recent_posts + prior_posts
    return (uses + prior_posts * prior) / denominator if denominator > 0 else 0.0


def cooccurrence_prior(
    uses: Mapping[str, int], shared: Mapping[tuple[str, str], int], posts_under: Mapping[str, int]
) -> dict[str, float]:
    """P(tag | the account's tags): pick one of the account's tags as often as the account uses it, then
    the share of the store's posts under it that also carry the tag.

    `shared[(tag, own_tag)]` counts posts carrying both, `posts_under[own_tag]` the posts under it.
    """
    total = sum(uses.values())
    prior: dict[str, float] = {}
    for (tag, own_tag), both in shared.items():
        if total and uses.get(own_tag) and posts_under.get(own_tag):
            prior[tag] = prior.get(tag, 0.0) + uses[own_tag] / total * min(both / posts_under[own_tag], 1.0)
    return prior


def combine_priors(*chances: float) -> float:
    """The chance that at least one independent source would lead to the tag (a noisy-or)."""
    return 1.0 - math.prod(1.0 - min(max(c, 0.0), 1.0) for c in chances)


@dataclass(frozen=True)
class RankedTag:
    """A candidate tag's lift score beside how well it fits the account and photo."""

    score: TagScore
    fit: float
    chance: float | None = None  # the learned ranker's chance that the account uses it here (None: no ranker)

    @property
    def tag(self) -> str:
        return self.score.tag

    @property
    def posts_seen(self) -> int:
        return self.score.posts_seen

    @property
    def lift(self) -> float:
        return self.score.lift

    @property
    def expected_value(self) -> float:
        """fit x (1 + lift): the chance the tag suits the post times the engagement it brings, relative to usual."""
        return self.fit * (1.0 + self.score.lift)


RANKINGS: dict[str, Callable[[RankedTag], float]] = {
    "expected": lambda ranked: ranked.expected_value,
    "lift": lambda ranked: ranked.score.lift,
    # the learned ranker (`hashtag_ranker`) where it ran, else the expected value
    "learned": lambda ranked: ranked.chance if ranked.chance is not None else ranked.expected_value,
}
# Without a learned ranker. Chosen on the accounts of half "a" of influencers-2017 (split by a hash of the
# handle): far higher recall than lift alone, engagement gaps within noise of each other; reported on half "b".
# Both written by `likepredict evaluate hashtags --half a|b --output inference/hashtag_results/half-a|b.json`.
# With a ranker in the card the engine ranks by "learned" (`HashtagEngine`).
DEFAULT_RANKING = "expected"


class Rankable(Protocol):
    """What `rank_tags` needs of an item: its tag, its lift and how many stored posts it rests on."""

    @property
    def tag(self) -> str: ...

    @property
    def lift(self) -> float: ...

    @property
    def posts_seen(self) -> int: ...


R = TypeVar("R", bound=Rankable)


def rank_tags(
    scores: Iterable[R], n: int, blocked: Iterable[str] = (), key: Callable[[R], float] | None = None
) -> list[R]:
    """The top `n` by `key` (a TagScore's lift unless told), then most posts, then alphabetical (ties are stable).

    Items are `TagScore`s or `RankedTag`s. Blocked tags and later case variants of a tag already kept are dropped.
    """
    by = key if key is not None else lambda item: item.lift
    blocked_set = {normalize_tag(t) for t in blocked}
    ordered = sorted(scores, key=lambda s: (-round(by(s), 12), -s.posts_seen, normalize_tag(s.tag)))
    chosen: list[R] = []
    seen: set[str] = set()
    for score in ordered:
        tag = normalize_tag(score.tag)
        if not tag or tag in blocked_set or tag in seen:
            continue
        seen.add(tag)
        chosen.append(score)
        if len(chosen) == n:
            break
    return chosen


def expected_engagement(followers: int, account_rate: float, lifts: Sequence[float]) -> tuple[float, float]:
    """(likes+comments per post, rate) with the chosen tags: followers x rate x (1 + mean lift)."""
    mean_lift = float(np.mean(lifts)) if len(lifts) else 0.0
    rate = account_rate * (1.0 + mean_lift)
    return followers * rate, rate
