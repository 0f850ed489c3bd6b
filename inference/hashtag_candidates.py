"""Hashtag candidates: the account's own tags, tags co-occurring with them, tags of stored posts like the photo,
of the photo's concepts, and of the accounts whose tag habits are most like this one's.

Each candidate carries where it came from (the reason line is built from it) and its fit: how likely the
account is to use it on this photo (`tag_fit`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.records import Post
from inference.hashtag_basis import AccountBasis
from inference.hashtag_concepts import ConceptTags
from inference.hashtag_neighbours import PhotoContext
from inference.hashtag_scoring import (
    MIN_SIMILARITY,
    PRIOR_POSTS,
    combine_priors,
    tag_fit,
)

# Tags that go with what the photo shows (food, water, people, ...) across all accounts: a few, since without
# anything of the account's pointing to them they are guesses from other people's habits.
CONCEPT_CANDIDATES = 10


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
    own_uses_compared: int = 0  # of `own_uses`, posts whose photo was compared with this one
    fit: float = 0.0  # `tag_fit` of the account's uses (weighted by their photos' likeness when compared)
    concept_association: float = 0.0  # `ConceptTags.association` with the photo's concepts (0: none or unknown)
    concept: str | None = None  # the photo concept the association comes from
    alike_accounts: int = 0  # of the accounts whose tags are most like this one's, how many use it
    alike_share: float = 0.0  # their similarity-weighted mean share of posts carrying it (`AccountEvidence`)


def gather_candidates(
    basis: AccountBasis,
    context: PhotoContext | None = None,
    prior_posts: float = PRIOR_POSTS,
    concepts: frozenset[str] | None = None,
    concept_tags: ConceptTags | None = None,
) -> dict[str, Candidate]:
    """Own tags, tags co-occurring with them in the store, tags of stored posts like the photo, (given the
    photo's concepts and a `ConceptTags` table) tags that go with what it shows and tags of the accounts
    whose tags are most like this one's, each with its fit. What no photo changes comes from the account's
    `basis` (`hashtag_basis`).

    With a photo compared with the account's own stored photos, each of the account's recent posts
    counts in the fit as much as its photo is like this one (`PhotoContext.weight`): a tag the account
    puts on food photos fits a beach photo less than its beach tags do, however often it is used.
    """
    recent = basis.recent
    weights, compared = own_post_weights(basis.image_shas, recent, context)
    # the reasons count posts "like this one" only where some are: else the weights only rank degrees of unlike
    some_alike = any(w >= MIN_SIMILARITY for w, seen in zip(weights, compared) if seen)
    found: dict[str, Candidate] = {}
    weighted_uses: defaultdict[str, float] = defaultdict(float)
    alike_uses: Counter[str] = Counter()
    for tags, weight, seen in zip(basis.recent_tags, weights or [1.0] * len(recent), compared or [False] * len(recent)):
        for key in tags:
            candidate = found.setdefault(key, Candidate(key))
            candidate.own_uses += 1
            candidate.own_uses_compared += seen
            weighted_uses[key] += weight
            if some_alike and seen and weight >= MIN_SIMILARITY:
                alike_uses[key] += 1
    if some_alike:
        for key, candidate in found.items():
            candidate.own_uses_like_photo = alike_uses[key]
    for tag, partner, with_partner in basis.cooccurring:
        found.setdefault(tag, Candidate(tag, cooccurs_with=partner, shared_posts=with_partner))
    if context is not None:
        for tag, count in context.similar_tags.items():
            found.setdefault(tag, Candidate(tag)).similar_posts = count
    if concepts and concept_tags is not None:
        for tag in concept_tags.top_tags(concepts, CONCEPT_CANDIDATES):
            found.setdefault(tag, Candidate(tag))
        for tag, candidate in found.items():
            candidate.concept_association, candidate.concept = concept_tags.strongest(concepts, tag)
    if recent:
        for tag in basis.alike_new:
            found.setdefault(tag, Candidate(tag))
        for tag, candidate in found.items():
            if tag in basis.alike:
                candidate.alike_accounts, candidate.alike_share = basis.alike[tag].accounts, basis.alike[tag].share
    similar = context.similar_share if context is not None else {}
    posts_counted = sum(weights) if weights else len(recent)
    for tag, candidate in found.items():
        candidate.prior = combine_priors(basis.cooccurrence.get(tag, 0.0), similar.get(tag, 0.0))
        candidate.fit = tag_fit(weighted_uses.get(tag, 0.0), posts_counted, candidate.prior, prior_posts)
    return found


CANDIDATE_SOURCES = ("own", "cooccurring", "similar_posts", "concepts", "alike_accounts")


def candidate_sources(candidate: Candidate) -> set[str]:
    """The sources that point to a candidate; besides "own", only for tags new to the account."""
    if candidate.own_uses:
        return {"own"}
    pointed = {
        "cooccurring": candidate.cooccurs_with is not None,
        "similar_posts": candidate.similar_posts > 0,
        "concepts": candidate.concept_association > 0,
        "alike_accounts": candidate.alike_accounts > 0,
    }
    return {source for source, yes in pointed.items() if yes}


def own_post_weights(
    images: Mapping[str, str], recent: Sequence[Post], context: PhotoContext | None
) -> tuple[list[float], list[bool]]:
    """How alike each recent post's photo is to this one, and whether it was compared at all (a photo not
    embedded yet gets the average weight); ([], []) when none of them was compared."""
    if context is None or not context.weights:
        return [], []
    shas = [images.get(post.shortcode) for post in recent]
    compared = [sha in context.weights for sha in shas]
    if not any(compared):
        return [], []
    return [context.weight(sha) for sha in shas], compared


def photo_supported(candidates: Mapping[str, Candidate]) -> set[str]:
    """The candidates something about this account or photo points to, for this photo.

    Where the account's own photos were compared with this one, an own tag used only on photos unlike it
    (and met on no stored post like it, nor associated with what it shows) is left out, and so is a tag
    that is a candidate only for co-occurring with such a tag: popularity elsewhere is no reason to use it.
    """

    def photo_evidence(candidate: Candidate) -> bool:
        return candidate.similar_posts > 0 or candidate.concept_association > 0

    # a tag brought only by alike accounts' habits needs the photo's support once photos are compared
    compared = any(c.own_uses_compared for c in candidates.values())

    dropped = {
        tag
        for tag, c in candidates.items()
        # every use compared and unlike: a use on a photo not embedded yet is no evidence either way
        if c.own_uses and c.own_uses_compared == c.own_uses and c.own_uses_like_photo == 0 and not photo_evidence(c)
    }
    dropped |= {
        tag for tag, c in candidates.items() if not c.own_uses and c.cooccurs_with in dropped and not photo_evidence(c)
    }
    if compared:
        dropped |= {
            tag
            for tag, c in candidates.items()
            if not c.own_uses and c.cooccurs_with is None and c.alike_accounts and not photo_evidence(c)
        }
    return set(candidates) - dropped
