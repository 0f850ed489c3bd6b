"""Hashtag suggestions: score tags by how much their posts out-perform their own accounts.

1. Candidates (`hashtag_candidates`): the account's own tags, tags that co-occur with them in the store,
   tags of the accounts whose tag habits are most like this one's (`hashtag_accounts`), tags that go with
   the photo's concepts, and (with a photo and the similarity model, `hashtag_neighbours`) the tags of the
   stored posts whose images are most like the photo. The store's tag graph is read once into memory
   (`hashtag_index`) and again only when the stored posts change.
2. Score (`hashtag_scoring.score_tag`): over a tag's stored posts, the weighted mean relative lift (post
   rate / its account's mean rate - 1), weights = image similarity to the photo, shrunk toward 0 by n/(n+k).
3. Choice: rank by the learned ranker's chance that the account uses the tag here (`hashtag_ranker`,
   when `likepredict train` has made one), else by the expected value of using a tag, fit x (1 + lift),
   where fit is how likely this account is to use the tag on this photo (`tag_fit`); drop banned,
   excluded and case-duplicate tags and those nothing about the account or photo points to
   (`photo_supported`), keep the top N. Ranking by lift alone (`ranking="lift"`, the first version) suggests tags that
   out-perform but that the creator would rarely use; `likepredict evaluate hashtags` measures both.
   With a photo, the account's posts count toward a tag's fit by how alike their photos are to it.
4. Expected engagement = followers x (account rate + account rate x mean lift of the chosen tags).
5. Each tag carries a one-line reason (`hashtag_reasons`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.account_stats import account_stats, previous_posts
from core.records import Account
from core.settings import DEFAULT_HASHTAG_COUNT, Settings
from core.tags import normalize_tag
from inference.card import MODELS_DIR
from inference.hashtag_candidates import Candidate, gather_candidates, photo_supported
from inference.hashtag_concepts import ConceptTags
from inference.hashtag_index import TagIndex
from inference.hashtag_neighbours import (
    EMBED_BUDGET,
    HasSimilarityVector,
    ImageEmbedder,
    ImageNeighbours,
    PhotoContext,
    Similarity,
)
from inference.hashtag_ranker import HashtagRanker, RankerInputs, feature_matrix
from inference.hashtag_reasons import HashtagAdvice, TagSuggestion, reason_for, reconcile_note
from inference.hashtag_scoring import (
    DEFAULT_RANKING,
    DEFAULT_SHRINKAGE_POSTS,
    PRIOR_POSTS,
    RANKINGS,
    EvidencePost,
    RankedTag,
    TagScore,
    engagement_rate,
    expected_engagement,
    load_banned_tags,
    rank_tags,
    score_tag,
)
from store import Store, TagPost

if TYPE_CHECKING:  # the likes side is an optional collaborator
    from inference.predictor import LikesPrediction

POSTS_PER_TAG = 50
DEFAULT_COUNT = DEFAULT_HASHTAG_COUNT
MAX_COUNT = 30  # Instagram's limit per post


class HashtagEngine:
    """Suggests hashtags for an account (and photo) from the posts in the store.

    `similarity` is the image side's `SimilarityModel`; `analyzer` (a `PhotoAnalyzer`) embeds stored
    images not yet in the embedding cache. Without them, every post counts equally.
    """

    def __init__(
        self,
        store: Store,
        similarity: Similarity | None = None,
        banned: Iterable[str] = (),
        excluded: Iterable[str] = (),
        analyzer: ImageEmbedder | None = None,
        shrinkage: float = DEFAULT_SHRINKAGE_POSTS,
        embed_budget: int | None = EMBED_BUDGET,
        ranking: str | None = None,
        prior_posts: float = PRIOR_POSTS,
        ranker: HashtagRanker | None = None,
        concept_tags: ConceptTags | None = None,
    ) -> None:
        ranking = ranking or ("learned" if ranker is not None else DEFAULT_RANKING)
        if ranking not in RANKINGS:
            raise ValueError(f"ranking must be one of {sorted(RANKINGS)}, not {ranking!r}")
        self.store = store
        self.neighbours = ImageNeighbours(store, similarity, analyzer, embed_budget)
        self.banned = load_banned_tags(extra=banned)
        self.excluded = frozenset(normalize_tag(t) for t in excluded)
        self.shrinkage = shrinkage
        self.ranking = ranking
        self.prior_posts = prior_posts
        self.ranker = ranker
        self.concept_tags = concept_tags if concept_tags is not None else ranker.concept_tags if ranker else None
        self._index: tuple[tuple[int, int, str], TagIndex] | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: Store,
        similarity: Similarity | None = None,
        analyzer: ImageEmbedder | None = None,
        models_dir: Path = MODELS_DIR,
    ) -> HashtagEngine:
        """The engine with the learned ranker when the card lists one (a mismatching file fails loudly)."""
        ranker = HashtagRanker(models_dir) if HashtagRanker.available(models_dir) else None
        return cls(store, similarity, settings.banned_tags, settings.excluded_tags, analyzer, ranker=ranker)

    def suggest(
        self,
        account: Account,
        photo: HasSimilarityVector | None = None,
        n: int = DEFAULT_COUNT,
        likes_prediction: LikesPrediction | None = None,
        concepts: frozenset[str] | None = None,
    ) -> HashtagAdvice:
        """The top `n` tags for the account's next post (of `photo`, showing `concepts` when known)."""
        stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
        own_images = self.store.accounts.post_image_shas(account.handle)
        context = self.photo_context(
            photo, first=[own_images[p.shortcode] for p in previous_posts(account.posts) if p.shortcode in own_images]
        )
        candidates = self.candidates(account, context, concepts)
        assessed = self.assess(candidates, context, account, concepts)
        supported = photo_supported(candidates)
        chosen = self.choose({tag: r for tag, r in assessed.items() if tag in supported}, n)
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

    def assess(
        self,
        candidates: Mapping[str, Candidate],
        context: PhotoContext | None = None,
        account: Account | None = None,
        concepts: frozenset[str] | None = None,
    ) -> dict[str, RankedTag]:
        """Every candidate's lift score beside its fit and (with a ranker and the account) the learned chance."""
        scores = self.score_tags(candidates, context)
        chances: dict[str, float] = {}
        if self.ranker is not None and account is not None:
            tags, features = feature_matrix(self.ranker_inputs(account, candidates, scores, context, concepts))
            chances = dict(zip(tags, (float(p) for p in self.ranker.score(features))))
        return {tag: RankedTag(scores[tag], c.fit, chances.get(tag)) for tag, c in candidates.items()}

    def ranker_inputs(
        self,
        account: Account,
        candidates: Mapping[str, Candidate],
        scores: Mapping[str, TagScore],
        context: PhotoContext | None = None,
        concepts: frozenset[str] | None = None,
    ) -> RankerInputs:
        """What the ranker's features are computed from: the account's posts, the candidates, store counts."""
        recent = previous_posts(account.posts)
        index = self.tag_index()
        last_tags = {normalize_tag(t) for t in recent[0].hashtags} - {""} if recent else set()
        under_last = index.post_counts(last_tags)
        last_cooccurrence: dict[str, float] = {}
        for (tag, partner), both in index.shared_post_counts(candidates, last_tags).items():
            if under_last.get(partner):
                chance = min(both / under_last[partner], 1.0)
                last_cooccurrence[tag] = max(last_cooccurrence.get(tag, 0.0), chance)
        return RankerInputs(
            recent,
            candidates,
            scores,
            index.post_counts(candidates),
            last_cooccurrence,
            context.similar_share if context is not None else {},
            concepts,
            self.concept_tags,
        )

    def choose(self, assessed: Mapping[str, RankedTag], n: int, ranking: str | None = None) -> list[RankedTag]:
        """The top `n` (at most Instagram's 30) by the engine's ranking, or `ranking` when given."""
        key = RANKINGS[ranking or self.ranking]
        return rank_tags(assessed.values(), max(1, min(int(n), MAX_COUNT)), self.banned | self.excluded, key)

    def candidates(
        self, account: Account, context: PhotoContext | None = None, concepts: frozenset[str] | None = None
    ) -> dict[str, Candidate]:
        """Own tags, tags co-occurring with them, of stored posts like the photo, of its concepts (`gather_candidates`)."""
        return gather_candidates(
            self.store, self.tag_index(), account, context, self.prior_posts, concepts, self.concept_tags
        )

    def tag_index(self) -> TagIndex:
        """The store's hashtag graph in memory, rebuilt only when the stored posts' tags change."""
        fingerprint = self.store.tags.fingerprint()
        if self._index is None or self._index[0] != fingerprint:
            tags = self.store.tags
            index = TagIndex.build(tags.post_tags(), tags.account_post_counts(), tags.all_evidence())
            self._index = (fingerprint, index)
        return self._index[1]

    def score_tags(self, tags: Iterable[str], context: PhotoContext | None = None) -> dict[str, TagScore]:
        """Score each tag from its stored posts (tags with none score 0 on 0 posts)."""
        evidence = self.tag_index().evidence([normalize_tag(t) for t in tags], per_tag=POSTS_PER_TAG)
        weights = context.weights if context is not None else {}
        scores = {}
        for tag, posts in evidence.items():
            score = score_tag(tag, [self._evidence(p, context) for p in posts], self.shrinkage)
            scores[tag] = TagScore(
                score.tag,
                score.lift,
                score.raw_lift,
                score.posts_seen,
                score.effective_posts,
                any(p.image_sha256 in weights for p in posts),
            )
        return scores

    @staticmethod
    def _evidence(post: TagPost, context: PhotoContext | None) -> EvidencePost:
        weight = 1.0 if context is None or not context.weights else context.weight(post.image_sha256)
        return EvidencePost(engagement_rate(post.likes, post.comments, post.followers), post.account_mean_rate, weight)

    # ---- image similarity (`ImageNeighbours`) --------------------------------------------------

    def photo_context(self, photo: HasSimilarityVector | None, first: Sequence[str] = ()) -> PhotoContext | None:
        """The photo's similarity to every stored image (None without a photo or a similarity model)."""
        return self.neighbours.photo_context(photo, first)

    def index_stored_images(self, should_stop: Callable[[], bool] | None = None) -> int:
        """Embed every stored image not yet cached; returns how many are cached."""
        return self.neighbours.index_stored_images(should_stop)

    @property
    def vector_version(self) -> str:
        return self.neighbours.vector_version

    def stored_vectors(self, shas: Sequence[str], budget: int | None = None) -> dict[str, np.ndarray]:
        return self.neighbours.stored_vectors(shas, budget)
