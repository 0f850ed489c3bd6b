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

from core.records import Account
from core.settings import DEFAULT_HASHTAG_COUNT, Settings
from core.tags import normalize_tag
from inference.card import MODELS_DIR
from inference.hashtag_basis import AccountBases, AccountBasis, Fingerprint, TagLifts, account_basis, tag_lifts
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
    RankedTag,
    TagScore,
    expected_engagement,
    load_banned_tags,
    rank_tags,
    score_lifts,
)
from store import Store

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
        self._index: tuple[Fingerprint, TagIndex] | None = None
        self._lifts: dict[str, TagLifts] = {}  # of the tags scored under `_index`
        self._bases = AccountBases()

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
        fingerprint = self.store.tags.fingerprint()  # read once per answer: every cache below is keyed by it
        index = self.tag_index(fingerprint)
        basis = self.basis(account, fingerprint)
        stats = basis.stats
        context = self.neighbours.photo_context(photo, basis.first_images, fingerprint)
        candidates = gather_candidates(basis, context, self.prior_posts, concepts, self.concept_tags)
        assessed = self._assess(index, basis, candidates, context, concepts)
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

    def basis(self, account: Account, fingerprint: Fingerprint | None = None) -> AccountBasis:
        """What the account's answer needs that no photo changes, worked out again only when the account
        or the stored tags change (`hashtag_basis`)."""
        fingerprint = self.store.tags.fingerprint() if fingerprint is None else fingerprint
        index = self.tag_index(fingerprint)
        basis = self._bases.get(account, fingerprint)
        if basis is None:
            basis = account_basis(index, fingerprint, account, self.store.accounts.post_image_shas(account.handle))
            self._bases.put(basis)
        return basis

    def assess(
        self,
        candidates: Mapping[str, Candidate],
        context: PhotoContext | None = None,
        account: Account | None = None,
        concepts: frozenset[str] | None = None,
    ) -> dict[str, RankedTag]:
        """Every candidate's lift score beside its fit and (with a ranker and the account) the learned chance."""
        return self._assess(
            self.tag_index(), self.basis(account) if account is not None else None, candidates, context, concepts
        )

    def _assess(
        self,
        index: TagIndex,
        basis: AccountBasis | None,
        candidates: Mapping[str, Candidate],
        context: PhotoContext | None = None,
        concepts: frozenset[str] | None = None,
    ) -> dict[str, RankedTag]:
        scores = self.score_tags(candidates, context, index)
        chances: dict[str, float] = {}
        if self.ranker is not None and basis is not None:
            inputs = self._ranker_inputs(index, basis, candidates, scores, context, concepts)
            tags, features = feature_matrix(inputs)
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
        return self._ranker_inputs(self.tag_index(), self.basis(account), candidates, scores, context, concepts)

    def _ranker_inputs(
        self,
        index: TagIndex,
        basis: AccountBasis,
        candidates: Mapping[str, Candidate],
        scores: Mapping[str, TagScore],
        context: PhotoContext | None = None,
        concepts: frozenset[str] | None = None,
    ) -> RankerInputs:
        return RankerInputs(
            basis.recent,
            candidates,
            scores,
            index.post_counts(candidates),
            basis.last_post_cooccurrence(index, candidates),
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
        return gather_candidates(self.basis(account), context, self.prior_posts, concepts, self.concept_tags)

    def tag_index(self, fingerprint: Fingerprint | None = None) -> TagIndex:
        """The store's hashtag graph in memory, rebuilt only when the stored posts' tags change (`fingerprint`:
        the store's, when the caller has just read it)."""
        fingerprint = self.store.tags.fingerprint() if fingerprint is None else fingerprint
        if self._index is None or self._index[0] != fingerprint:
            tags = self.store.tags
            index = TagIndex.build(tags.post_tags(), tags.account_post_counts(), tags.all_evidence())
            self._index = (fingerprint, index)
            self._lifts = {}
        return self._index[1]

    def score_tags(
        self, tags: Iterable[str], context: PhotoContext | None = None, index: TagIndex | None = None
    ) -> dict[str, TagScore]:
        """Score each tag from its stored posts (tags with none score 0 on 0 posts)."""
        index = index or self.tag_index()
        weights = context.weights if context is not None else {}
        scores = {}
        for tag in sorted({t.lower() for t in map(normalize_tag, tags) if t}):
            if tag not in self._lifts:
                self._lifts[tag] = tag_lifts(index, tag, POSTS_PER_TAG)
            lifts = self._lifts[tag]
            post_weights = [context.weight(sha) for sha in lifts.images] if context and context.weights else None
            score = score_lifts(tag, lifts.lifts, post_weights, self.shrinkage)
            scores[tag] = TagScore(
                score.tag,
                score.lift,
                score.raw_lift,
                score.posts_seen,
                score.effective_posts,
                not lifts.all_images.isdisjoint(weights),
            )
        return scores

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
