"""Hashtag suggestions: score tags by how much their posts out-perform their own accounts.

1. Candidates: the account's own tags, tags that co-occur with them in the store, and (with a photo and
   the similarity model) the tags of the stored posts whose images are most like the photo.
2. Score: over a tag's stored posts, the weighted mean relative lift (post rate / its account's mean
   rate - 1), weights = image similarity to the photo, shrunk toward 0 by n/(n+k) (see `score_tag`).
3. Choice: rank by the expected value of using a tag, fit x (1 + lift), where fit is how likely this
   account is to use the tag on this photo (see `tag_fit`); drop banned, excluded and case-duplicate
   tags, keep the top N. Ranking by lift alone (`ranking="lift"`, the first version) suggests tags that
   out-perform but that the creator would rarely use; `likepredict evaluate hashtags` measures both.
   With a photo, the account's posts count toward a tag's fit by how alike their photos are to it.
4. Expected engagement = followers x (account rate + account rate x mean lift of the chosen tags).
5. Each tag carries a one-line reason.

The issue states the score as a difference of rates (post rate - account rate). Across accounts of very
different sizes a raw difference is dominated by small accounts with high rates, so each post's difference
is divided by its own account's rate (a relative lift), and turned back into this account's rate units
when the expected engagement is computed: followers x (rate + rate x lift) is the issue's formula with
the score expressed for this account.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.account_stats import account_stats, previous_posts
from core.errors import LikepredictError
from core.records import Account, Post
from core.settings import DEFAULT_HASHTAG_COUNT, Settings
from store import Store, TagPost

if TYPE_CHECKING:  # the photo and likes sides are optional collaborators
    from inference.analyzer import PhotoAnalysis
    from inference.predictor import LikesPrediction

BANNED_TAGS_FILE = Path(__file__).with_name("banned_tags.txt")

# k in n/(n+k). Empirical Bayes for a normal mean: the best shrinkage factor is tau2/(tau2 + sigma2/n)
# = n/(n + sigma2/tau2), with sigma2 the spread of single posts' lifts and tau2 the spread of tags' true
# lifts. On influencers-2017 the method-of-moments estimate (`estimate_shrinkage`, printed by
# `likepredict evaluate hashtags`) is about 10 over tags seen on 3+ posts: a post's luck varies ~3x more
# than tags truly differ, so a tag needs ~10 posts before its own mean counts for half of its score.
DEFAULT_SHRINKAGE_POSTS = 10.0
# One viral post (10x its account's usual) would otherwise outweigh dozens of ordinary ones.
MAX_POST_LIFT = 2.0
POSTS_PER_TAG = 50
# Co-occurring tags widen the choice beyond the account's habits; a tag met on one shared post is a
# coincidence, not a neighbourhood. Ranked by lift alone, more of them trade recall of the tags people really
# use for discovery; ranked by expected value they mostly fill places the account's own tags leave empty.
COOCCURRING_CANDIDATES = 20
MIN_SHARED_POSTS = 2
SIMILAR_POSTS = 20
MIN_SIMILARITY = 0.3  # on the `similarity_weights` scale: well above the typical stored photo
EMBED_BATCH = 32
# Embedding a stored image costs ~0.1-0.2 s (six encoder views); a request embeds at most this many new
# ones, newest first, and the cache fills over the next requests. `index_stored_images` does all at once.
EMBED_BUDGET = 16
DEFAULT_COUNT = DEFAULT_HASHTAG_COUNT
MAX_COUNT = 30  # Instagram's limit per post
# m in fit = (uses + m x prior) / (posts + m): the prior weighs as much as one post. That is the strength
# of Jeffreys' prior Beta(1/2, 1/2) for a share, with its mean moved from 1/2 to what the store says about
# the tag, so a tag the account has not used in 20 posts keeps at most 1/21 of a fit however common it is
# next to the account's tags, and one use in 20 posts outweighs any prior. Chosen before measuring.
PRIOR_POSTS = 1.0


# ---- pure maths --------------------------------------------------------------------------------


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
    total = float(sum(p.weight for p in usable))
    if total <= 0:
        return TagScore(tag, 0.0, 0.0, len(usable), 0.0)
    raw = float(np.average([post_lift(p.rate, p.account_rate) for p in usable], weights=[p.weight for p in usable]))
    return TagScore(tag, raw * total / (total + k), raw, len(usable), total)


def similarity_weights(cosines: np.ndarray, min_images: int = 10) -> np.ndarray:
    """Weights in 0..1 from the photo's cosines with stored images: how far above the typical one.

    The pretrained embedding puts any two photos at a cosine of ~0.3-0.5 and photos of one scene at
    ~0.7-0.8, so raw cosines would barely tell a beach from a plate of food. Measured from the median
    cosine (the typical stored photo) up to 1, half the stored photos get weight 0 and near-copies 1.
    With fewer than `min_images` stored images the median means little, and raw cosines are used.
    """
    cosines = np.asarray(cosines, dtype=float)
    floor = float(np.median(cosines)) if len(cosines) >= min_images else 0.0
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


def normalize_tag(text: str) -> str:
    """'#Beach ' -> 'beach'; Instagram treats tags case-insensitively (lower() as the store does)."""
    return text.strip().lstrip("#").strip().lower()


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

    @property
    def tag(self) -> str:
        return self.score.tag

    @property
    def posts_seen(self) -> int:
        return self.score.posts_seen

    @property
    def expected_value(self) -> float:
        """fit x (1 + lift): the chance the tag suits the post times the engagement it brings, relative to usual."""
        return self.fit * (1.0 + self.score.lift)


RANKINGS: dict[str, Callable[[RankedTag], float]] = {
    "expected": lambda ranked: ranked.expected_value,
    "lift": lambda ranked: ranked.score.lift,
}
# Chosen on the accounts of half "a" of influencers-2017 (split by a hash of the handle): far higher recall
# than lift alone, engagement gaps within noise of each other; reported on half "b". Both written by
# `likepredict evaluate hashtags --half a|b --output inference/hashtag_results/half-a|b.json`.
DEFAULT_RANKING = "expected"


def rank_tags(
    scores: Iterable[Any], n: int, blocked: Iterable[str] = (), key: Callable[[Any], float] = lambda score: score.lift
) -> list[Any]:
    """The top `n` by `key` (a TagScore's lift unless told), then most posts, then alphabetical (ties are stable).

    Items are `TagScore`s or `RankedTag`s. Blocked tags and later case variants of a tag already kept are dropped.
    """
    blocked_set = {normalize_tag(t) for t in blocked}
    ordered = sorted(scores, key=lambda s: (-round(key(s), 12), -s.posts_seen, normalize_tag(s.tag)))
    chosen: list[TagScore] = []
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


# ---- candidates and reasons ----------------------------------------------------------------------


@dataclass
class Candidate:
    """Where a candidate tag came from; the reason line is built from this."""

    tag: str
    own_uses: int = 0
    cooccurs_with: str | None = None
    shared_posts: int = 0
    similar_posts: int = 0
    prior: float = 0.0  # the chance of the tag before counting the account's own uses (see `tag_fit`)
    own_uses_like_photo: int | None = None  # of `own_uses`, posts whose photo is like this one (None: not compared)
    fit: float = 0.0  # `tag_fit` of the account's uses (weighted by their photos' likeness when compared)


@dataclass(frozen=True)
class TagSuggestion:
    tag: str
    lift: float
    posts_seen: int
    reason: str
    fit: float = 0.0  # how likely the account is to use it on this photo (`tag_fit`)


@dataclass(frozen=True)
class HashtagAdvice:
    suggestions: list[TagSuggestion]
    expected_engagement: float  # likes + comments per post with these tags
    expected_rate: float
    account_rate: float
    note: str
    tags_considered: int = 0


def percent(value: float) -> str:
    return f"{abs(value) * 100:.0f}%"


def reason_for(score: TagScore, candidate: Candidate, recent_posts: int) -> str:
    """One line: how the tag's posts did, then why it is a candidate at all."""
    tag = f"#{score.tag}"
    if score.posts_seen == 0:
        performance = f"no stored posts under {tag} to judge it by yet"
    else:
        who = "posts like yours" if score.similarity_weighted else "posts"
        if abs(score.lift) < 0.005:
            trend = "do about as well as their accounts' usual"
        else:
            more = "more" if score.lift > 0 else "fewer"
            trend = f"get {percent(score.lift)} {more} likes+comments than their accounts' usual"
        plural = "post" if score.posts_seen == 1 else "posts"
        few = score.effective_posts < DEFAULT_SHRINKAGE_POSTS / 2
        shrunk = (
            ""
            if not few
            else ", few like yours, so pulled toward 0"
            if score.similarity_weighted
            else ", so pulled toward 0"
        )
        performance = f"{who} under {tag} {trend} ({score.posts_seen} {plural}{shrunk})"
    if candidate.own_uses:
        origin = f"you used it in {candidate.own_uses} of your last {recent_posts} posts"
        if candidate.own_uses_like_photo is not None:
            alike = candidate.own_uses_like_photo
            origin += (
                f", {alike or 'none'} of them on photos like this one"
                if alike < candidate.own_uses
                else (", all on photos like this one")
            )
    elif candidate.similar_posts:
        origin = f"on {candidate.similar_posts} of the stored posts most like your photo"
    elif candidate.cooccurs_with:
        origin = f"used with your #{candidate.cooccurs_with} on {candidate.shared_posts} posts"
    else:
        origin = ""
    return f"{performance}; {origin}" if origin else performance


def reconcile_note(
    followers: int,
    account_rate: float,
    mean_lift: float,
    engagement: float,
    comments_mean: float,
    likes_mean: float,
    likes_prediction: LikesPrediction | None,
) -> str:
    """Say how the expected engagement was made and, beside a likes prediction, why the two differ."""
    basis = (
        f"Expected {engagement:,.0f} likes+comments = {followers:,} followers x your {account_rate:.2%} "
        f"average rate x (1 {'+' if mean_lift >= 0 else '-'} {percent(mean_lift)} mean tag lift)"
    )
    if likes_prediction is None:
        return basis
    tag_likes = max(engagement - comments_mean, 0.0)
    model = (
        f"the likes model predicts {likes_prediction.likes:,.0f} likes "
        f"({likes_prediction.low:,.0f}-{likes_prediction.high:,.0f})"
    )
    if likes_prediction.low <= tag_likes <= likes_prediction.high:
        return f"{basis}; about {tag_likes:,.0f} of them likes, within the range {model}"
    causes = []
    median = likes_prediction.baseline_median
    if median > 0 and abs(likes_mean - median) / median > 0.15:
        pull = "a few big hits pull it up" if likes_mean > median else "a few weak posts pull it down"
        causes.append(
            f"this uses your average ({likes_mean:,.0f} likes; {pull}) where the model starts from "
            f"your median ({median:,.0f})"
        )
    if likes_prediction.photo_effect_modelled and likes_prediction.appeal is not None:
        causes.append(f"the model rates this photo {likes_prediction.appeal:.0f}/100")
    causes.append("the model also weighs posting time and your recent trend")
    return (
        f"{basis}; that is about {tag_likes:,.0f} likes, {'above' if tag_likes > likes_prediction.high else 'below'} "
        f"the range {model}, because {'; '.join(causes)}. Trust the model for the count and this for "
        f"which tags help"
    )


# ---- the engine ---------------------------------------------------------------------------------


@dataclass
class PhotoContext:
    """The user's photo against the stored images: weights per image sha256."""

    weights: dict[str, float] = field(default_factory=dict)
    similar_tags: Counter = field(default_factory=Counter)  # tag -> how many of the posts most like the photo
    similar_share: dict[str, float] = field(default_factory=dict)  # tag -> similarity-weighted share of them
    stored_images: int = 0  # how many stored posts' images there are; `weights` covers those embedded so far

    def weight(self, image_sha256: str | None) -> float:
        """A post without an (embedded) image counts as the average stored photo: it neither pulls nor pushes."""
        if image_sha256 is None or image_sha256 not in self.weights:
            return self.average_weight
        return self.weights[image_sha256]

    @property
    def average_weight(self) -> float:
        return float(np.mean(list(self.weights.values()))) if self.weights else 1.0


class HashtagEngine:
    """Suggests hashtags for an account (and photo) from the posts in the store.

    `similarity` is the image side's `SimilarityModel`; `analyzer` (a `PhotoAnalyzer`) embeds stored
    images not yet in the embedding cache. Without them, every post counts equally.
    """

    def __init__(
        self,
        store: Store,
        similarity: Any | None = None,
        banned: Iterable[str] = (),
        excluded: Iterable[str] = (),
        analyzer: Any | None = None,
        shrinkage: float = DEFAULT_SHRINKAGE_POSTS,
        embed_budget: int | None = EMBED_BUDGET,
        ranking: str = DEFAULT_RANKING,
        prior_posts: float = PRIOR_POSTS,
    ) -> None:
        if ranking not in RANKINGS:
            raise ValueError(f"ranking must be one of {sorted(RANKINGS)}, not {ranking!r}")
        self.store = store
        self.similarity = similarity
        self.analyzer = analyzer
        self.banned = load_banned_tags(extra=banned)
        self.excluded = frozenset(normalize_tag(t) for t in excluded)
        self.shrinkage = shrinkage
        self.embed_budget = embed_budget
        self.ranking = ranking
        self.prior_posts = prior_posts

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, similarity: Any | None = None, analyzer: Any | None = None
    ) -> HashtagEngine:
        return cls(store, similarity, settings.banned_tags, settings.excluded_tags, analyzer)

    def suggest(
        self,
        account: Account,
        photo: PhotoAnalysis | None = None,
        n: int = DEFAULT_COUNT,
        likes_prediction: LikesPrediction | None = None,
    ) -> HashtagAdvice:
        stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
        own_images = self.store.accounts.post_image_shas(account.handle)
        context = self.photo_context(
            photo, first=[own_images[p.shortcode] for p in previous_posts(account.posts) if p.shortcode in own_images]
        )
        candidates = self.candidates(account, context)
        chosen = self.choose(self.assess(candidates, context), n)
        suggestions = [
            TagSuggestion(
                r.tag, r.score.lift, r.posts_seen, reason_for(r.score, candidates[r.tag], stats.n_posts), r.fit
            )
            for r in chosen
        ]
        lifts = [r.score.lift for r in chosen]
        engagement, rate = expected_engagement(account.followers, stats.engagement_rate, lifts)
        if stats.n_posts == 0:
            note = "No previous posts to measure your usual engagement, so no expected figure yet"
        else:
            note = reconcile_note(
                account.followers,
                stats.engagement_rate,
                float(np.mean(lifts)) if lifts else 0.0,
                engagement,
                stats.comments_mean or 0.0,
                stats.likes_mean,
                likes_prediction,
            )
        if context is not None and len(context.weights) < context.stored_images:
            note += (
                f"; your photo was compared with {len(context.weights)} of {context.stored_images} stored "
                f"photos so far (the rest are embedded over the next requests)"
            )
        return HashtagAdvice(suggestions, engagement, rate, stats.engagement_rate, note, len(candidates))

    def assess(self, candidates: Mapping[str, Candidate], context: PhotoContext | None = None) -> dict[str, RankedTag]:
        """Every candidate's lift score beside its fit."""
        scores = self.score_tags(candidates, context)
        return {tag: RankedTag(scores[tag], c.fit) for tag, c in candidates.items()}

    def choose(self, assessed: Mapping[str, RankedTag], n: int, ranking: str | None = None) -> list[RankedTag]:
        """The top `n` (at most Instagram's 30) by the engine's ranking, or `ranking` when given."""
        key = RANKINGS[ranking or self.ranking]
        return rank_tags(assessed.values(), max(1, min(int(n), MAX_COUNT)), self.banned | self.excluded, key)

    def candidates(self, account: Account, context: PhotoContext | None = None) -> dict[str, Candidate]:
        """Own tags, tags co-occurring with them, and tags of stored posts like the photo, each with its fit.

        With a photo compared with the account's own stored photos, each of the account's recent posts
        counts in the fit as much as its photo is like this one (`PhotoContext.weight`): a tag the account
        puts on food photos fits a beach photo less than its beach tags do, however often it is used.
        """
        recent = previous_posts(account.posts)
        weights = self.own_post_weights(account, recent, context)
        # the reasons count posts "like this one" only where some are: else the weights only rank degrees of unlike
        some_alike = any(w >= MIN_SIMILARITY for w in weights)
        found: dict[str, Candidate] = {}
        weighted_uses: Counter = Counter()
        for post, weight in zip(recent, weights or [1.0] * len(recent)):
            for key in {normalize_tag(t) for t in post.hashtags} - {""}:
                candidate = found.setdefault(key, Candidate(key, own_uses_like_photo=0 if some_alike else None))
                candidate.own_uses += 1
                weighted_uses[key] += weight  # type: ignore[assignment]
                if some_alike and weight >= MIN_SIMILARITY:
                    candidate.own_uses_like_photo += 1  # type: ignore[operator]
        own_uses = {tag: c.own_uses for tag, c in found.items()}
        for tag, _, partner, with_partner in self.store.tags.cooccurring_with_partner(
            list(found), COOCCURRING_CANDIDATES, MIN_SHARED_POSTS
        ):
            found.setdefault(tag, Candidate(tag, cooccurs_with=partner, shared_posts=with_partner))
        neighbours = [tag for tag in found if tag not in own_uses]
        cooccurrence = cooccurrence_prior(
            own_uses, self.store.tags.shared_post_counts(neighbours, own_uses), self.store.tags.post_counts(own_uses)
        )
        if context is not None:
            for tag, count in context.similar_tags.items():
                found.setdefault(tag, Candidate(tag)).similar_posts = count
        similar = context.similar_share if context is not None else {}
        posts_counted = sum(weights) if weights else len(recent)
        for tag, candidate in found.items():
            candidate.prior = combine_priors(cooccurrence.get(tag, 0.0), similar.get(tag, 0.0))
            candidate.fit = tag_fit(weighted_uses[tag], posts_counted, candidate.prior, self.prior_posts)
        return found

    def own_post_weights(self, account: Account, recent: Sequence[Post], context: PhotoContext | None) -> list[float]:
        """How alike each recent post's photo is to this one; [] when none of them was compared."""
        if context is None or not context.weights:
            return []
        images = self.store.accounts.post_image_shas(account.handle)
        shas = [images.get(post.shortcode) for post in recent]
        if not any(sha in context.weights for sha in shas):
            return []
        return [context.weight(sha) for sha in shas]

    def score_tags(self, tags: Iterable[str], context: PhotoContext | None = None) -> dict[str, TagScore]:
        """Score each tag from its stored posts (tags with none score 0 on 0 posts)."""
        evidence = self.store.tags.evidence([normalize_tag(t) for t in tags], per_tag=POSTS_PER_TAG)
        weighted = context is not None and bool(context.weights)
        scores = {}
        for tag, posts in evidence.items():
            score = score_tag(tag, [self._evidence(p, context) for p in posts], self.shrinkage)
            scores[tag] = TagScore(
                score.tag,
                score.lift,
                score.raw_lift,
                score.posts_seen,
                score.effective_posts,
                weighted and any(p.image_sha256 in context.weights for p in posts),  # type: ignore[union-attr]
            )
        return scores

    @staticmethod
    def _evidence(post: TagPost, context: PhotoContext | None) -> EvidencePost:
        weight = 1.0 if context is None or not context.weights else context.weight(post.image_sha256)
        return EvidencePost(engagement_rate(post.likes, post.comments, post.followers), post.account_mean_rate, weight)

    # ---- image similarity ----------------------------------------------------------------------

    def photo_context(self, photo: PhotoAnalysis | None, first: Sequence[str] = ()) -> PhotoContext | None:
        """The photo's similarity to every stored image (None without a photo or a similarity model).

        Images not yet embedded are embedded within the budget, those in `first` (the account's own) first.
        """
        vector = getattr(photo, "similarity_vector", None)
        if photo is None or self.similarity is None or vector is None:
            return None
        stored = self.store.accounts.posts_with_images()
        newest_first = list(dict.fromkeys([*first, *(sha for _, sha, _ in reversed(stored))]))
        vectors = self.stored_vectors(newest_first, self.embed_budget)
        if not vectors:
            return PhotoContext(stored_images=len(newest_first))
        shas = sorted(vectors)
        cosines = np.asarray(
            self.similarity.similarity(np.asarray(vector, dtype=np.float32), np.stack([vectors[s] for s in shas])),
            dtype=float,
        )
        weights = dict(zip(shas, (float(w) for w in similarity_weights(cosines))))
        nearest = sorted(
            ((weights[sha], post_id, tags) for post_id, sha, tags in stored if sha in weights),
            key=lambda item: (-item[0], item[1]),
        )[:SIMILAR_POSTS]
        alike = [(w, {normalize_tag(t) for t in tags} - {""}) for w, _, tags in nearest if w >= MIN_SIMILARITY]
        similar_tags = Counter(t for _, tags in alike for t in tags)
        total = sum(w for w, _ in alike)
        share = {tag: sum(w for w, tags in alike if tag in tags) / total for tag in similar_tags} if total else {}
        return PhotoContext(weights, similar_tags, share, len(newest_first))

    def index_stored_images(self, should_stop: Callable[[], bool] | None = None) -> int:
        """Embed every stored image not yet cached (after an import or a fetch); returns how many are cached.

        Works in batches and, when `should_stop` is given, asks it between batches, so a closing service
        is not held up by a long backlog.
        """
        shas = list(dict.fromkeys(sha for _, sha, _ in self.store.accounts.posts_with_images()))
        cached = 0
        for start in range(0, len(shas), EMBED_BATCH):
            if should_stop is not None and should_stop():
                break
            cached += len(self.stored_vectors(shas[start : start + EMBED_BATCH], budget=None))
        return cached

    @property
    def vector_version(self) -> str:
        """The embedding cache key: vectors are only comparable under the same similarity model."""
        return f"hashtag-similarity:{getattr(self.similarity, 'version', 'unversioned')}"

    def stored_vectors(self, shas: Sequence[str], budget: int | None = None) -> dict[str, np.ndarray]:
        """Similarity vectors of stored images: from the cache, else (the first `budget` missing, in the
        order given; all when None) computed with the analyser and cached."""
        vectors = self.store.images.embeddings(shas, self.vector_version)
        paths = self.store.images.paths(sha for sha in shas if sha not in vectors)
        missing = [(sha, paths[sha]) for sha in dict.fromkeys(shas) if sha in paths and paths[sha].is_file()]
        if self.analyzer is not None:
            missing = missing if budget is None else missing[:budget]
            for start in range(0, len(missing), EMBED_BATCH):
                vectors.update(self._embed_and_cache(missing[start : start + EMBED_BATCH]))
        return vectors

    def _embed_and_cache(self, images: list[tuple[str, Path]]) -> dict[str, np.ndarray]:
        try:
            analyses = self.analyzer.analyse([path for _, path in images])  # type: ignore[union-attr]
        except LikepredictError:
            if len(images) == 1:
                return {}  # an unreadable stored image simply counts as a post without one
            return {sha: vector for one in images for sha, vector in self._embed_and_cache([one]).items()}
        vectors = {}
        for (sha, _), analysis in zip(images, analyses):
            vectors[sha] = np.asarray(analysis.similarity_vector, dtype=np.float32)
            self.store.images.save_embedding(sha, self.vector_version, vectors[sha])
        return vectors
