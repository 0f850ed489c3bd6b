"""The learned hashtag ranker: features of a candidate tag (training and serving both call `feature_matrix`)
and the ONNX model that turns them into the chance the account puts the tag on this post.

The model only orders the candidates; what a tag is worth (its lift, the expected engagement) and why it
is there (its reason) still come from `hashtag_scoring` and `hashtag_reasons`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.records import Post
from core.tags import tag_set
from inference.card import CARD_JSON, MODELS_DIR, load_card, sha256_of
from inference.hashtag_candidates import Candidate
from inference.hashtag_concepts import ConceptTags, concept_weights
from inference.hashtag_scoring import TagScore
from inference.onnx_model import ModelMismatchError, OnnxModel

RANKER_NAME = "hashtag_ranker"
RANKER_FILE = "hashtag_ranker.onnx"
CONCEPT_TAGS_FILE = "hashtag_concepts.json"
FEATURES_VERSION = "hashtag-ranker-v3"
# A post's weight in the recency-weighted share halves every ~2 posts back: habits drift, campaigns end.
RECENCY_DECAY = 0.7
FEATURE_NAMES: tuple[str, ...] = (
    "own_share",  # share of the account's recent posts that carry the tag
    "recency_share",  # the same with each post weighted RECENCY_DECAY ** (posts back)
    "used_last_post",
    "used_in_last_3",
    "posts_since_last_use_log",  # log1p(posts back to the newest use); log1p(recent posts + 1) when never
    "never_used",
    "own_uses_log",
    "recent_posts_log",
    "prior",  # the store's chance of the tag next to the account's tags (and photos like this one)
    "fit",  # `tag_fit`: the Beta-posterior share of the account's posts
    "own_cooccurrence_last_post",  # of the account's posts with a tag of its newest post, the share with this tag
    "store_cooccurrence_last_post",  # the strongest P(tag | a tag of the newest post) over the store's posts
    "others_posts_log",  # popularity: log1p(store posts with the tag, the account's own left out)
    "lift",  # the shrunk lift (`score_tag`)
    "lift_posts_log",
    "similar_share",  # similarity-weighted share of the stored posts most like the photo that carry it
    "own_share_like_photo",  # of the account's uses, the share on photos like this one (0 when not compared)
    "concepts_known",
    "concept_association",  # `ConceptTags.association` with the photo's concepts
    "concept_own_share",  # the account's share, each post weighted by how much its concepts overlap the photo's
    "from_cooccurrence_only",
    "from_concepts_only",
    "own_rank_log",  # log1p of the tag's place among the account's tags by uses (ties: more recent first); 0 = first
    "recency_rank_log",  # log1p of its place by the recency-weighted share
    "tags_per_post_log",  # the account's habit: log1p(mean tags per recent post)
    "own_tags_log",  # log1p(distinct tags over the recent posts)
    "alike_share",  # the accounts with tags most like this one's: their weighted share of posts with the tag
    "alike_accounts_log",  # log1p(how many of them use it)
    "from_alike_accounts_only",
)


@dataclass(frozen=True)
class RankerInputs:
    """Everything the features of one account's candidates are computed from."""

    recent: Sequence[Post]  # the account's previous posts, newest first
    candidates: Mapping[str, Candidate]
    scores: Mapping[str, TagScore]
    post_counts: Mapping[str, int]  # store posts under each candidate
    last_post_cooccurrence: Mapping[str, float]  # candidate -> max P(candidate | a tag of the newest post)
    similar_share: Mapping[str, float] = field(default_factory=dict)
    concepts: frozenset[str] | None = None  # the photo's concepts; None when unknown
    concept_tags: ConceptTags | None = None


def feature_matrix(inputs: RankerInputs) -> tuple[list[str], np.ndarray]:
    """(candidate tags in a fixed order, float32 matrix of FEATURE_NAMES per tag)."""
    tags = sorted(inputs.candidates)
    recent_tags = [tag_set(post.hashtags) for post in inputs.recent]
    n_recent = len(recent_tags)
    decay = [RECENCY_DECAY**i for i in range(n_recent)]
    overlaps = concept_weights(inputs.recent, inputs.concepts)
    known = [(w, used) for w, used in zip(overlaps, recent_tags) if w is not None]
    overlap_total = sum(w for w, _ in known)
    last_tags = recent_tags[0] if recent_tags else set()
    uses_of = {tag: sum(tag in post_tags for post_tags in recent_tags) for tag in tags}
    recency_of = {tag: sum(d for d, post_tags in zip(decay, recent_tags) if tag in post_tags) for tag in tags}
    by_uses = {tag: i for i, tag in enumerate(sorted(tags, key=lambda t: (-uses_of[t], -recency_of[t], t)))}
    by_recency = {tag: i for i, tag in enumerate(sorted(tags, key=lambda t: (-recency_of[t], -uses_of[t], t)))}
    own_tags = set().union(*recent_tags) if recent_tags else set()
    tags_per_post = sum(len(t) for t in recent_tags) / n_recent if n_recent else 0.0
    rows = []
    for tag in tags:
        candidate = inputs.candidates[tag]
        used = [tag in post_tags for post_tags in recent_tags]
        uses = sum(used)
        newest_use = used.index(True) if uses else n_recent + 1
        partners = last_tags - {tag}
        with_partner = [post_tags for post_tags in recent_tags if post_tags & partners]
        score = inputs.scores.get(tag)
        concept_share = sum(w for w, post_tags in known if tag in post_tags) / overlap_total if overlap_total else 0.0
        association = (
            inputs.concept_tags.association(inputs.concepts, tag)
            if inputs.concept_tags is not None and inputs.concepts is not None
            else 0.0
        )
        rows.append(
            [
                uses / n_recent if n_recent else 0.0,
                sum(d for d, u in zip(decay, used) if u) / sum(decay) if n_recent else 0.0,
                float(bool(used) and used[0]),
                float(any(used[:3])),
                math.log1p(newest_use),
                float(uses == 0),
                math.log1p(uses),
                math.log1p(n_recent),
                candidate.prior,
                candidate.fit,
                sum(tag in post_tags for post_tags in with_partner) / len(with_partner) if with_partner else 0.0,
                inputs.last_post_cooccurrence.get(tag, 0.0),
                math.log1p(max(inputs.post_counts.get(tag, 0) - uses, 0)),
                score.lift if score is not None else 0.0,
                math.log1p(score.posts_seen) if score is not None else 0.0,
                inputs.similar_share.get(tag, 0.0),
                (candidate.own_uses_like_photo or 0) / uses if uses else 0.0,
                float(inputs.concepts is not None),
                association,
                concept_share,
                float(uses == 0 and candidate.cooccurs_with is not None),
                float(uses == 0 and candidate.cooccurs_with is None and candidate.concept_association > 0),
                math.log1p(by_uses[tag]),
                math.log1p(by_recency[tag]),
                math.log1p(tags_per_post),
                math.log1p(len(own_tags)),
                candidate.alike_share,
                math.log1p(candidate.alike_accounts),
                float(
                    uses == 0
                    and candidate.cooccurs_with is None
                    and candidate.concept_association <= 0
                    and not candidate.similar_posts
                    and candidate.alike_accounts > 0
                ),
            ]
        )
    return tags, np.asarray(rows, dtype=np.float32).reshape(len(tags), len(FEATURE_NAMES))


class HashtagRanker:
    """The ONNX ranker of the card entry `hashtag_ranker`, with the concept table trained beside it."""

    def __init__(self, models_dir: Path = MODELS_DIR, card: dict[str, Any] | None = None) -> None:
        self.model = OnnxModel(RANKER_NAME, models_dir, card=card)
        self.model.check_schema(FEATURE_NAMES, FEATURES_VERSION)
        table = self.model.entry.get("concept_tags")
        self.concept_tags: ConceptTags | None = None
        if table is not None:
            path = models_dir / table["file"]
            if not path.is_file() or sha256_of(path) != table["sha256"]:
                raise ModelMismatchError(f"{path} is missing or differs from the card; re-run `likepredict train`")
            self.concept_tags = ConceptTags.load(path)

    @staticmethod
    def available(models_dir: Path = MODELS_DIR) -> bool:
        """Whether the card lists a ranker (loading it then checks file and schema, and fails loudly)."""
        return RANKER_NAME in load_card(models_dir / CARD_JSON.name).get("models", {})

    @property
    def version(self) -> str:
        return self.model.version

    def score(self, features: np.ndarray) -> np.ndarray:
        """The chance of each row's tag being used (rows of FEATURE_NAMES)."""
        if len(features) == 0:
            return np.zeros(0)
        probabilities = self.model.run(features, output=1)
        return np.asarray(probabilities, dtype=float)[:, 1]
