"""Which hashtags go with which photo concepts ("food", "water", "people", ... from `core.concepts`).

Counted over posts whose image concepts are known (Instagram's descriptions in influencers-2019; at serving
time the concepts detected in the photo). The table is written by `likepredict train` beside the ranker.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.concepts import concepts_from_instagram
from core.records import Account, Post
from core.tags import tag_set

# A tag seen with a concept on fewer posts than this is a coincidence, not an association.
MIN_PAIR_POSTS = 3
TAGS_PER_CONCEPT = 300  # keeps the table small; the rest are far too rare to lead anywhere


def post_concepts(post: Post) -> frozenset[str] | None:
    """The post's concepts in our vocabulary; None where the source had no description of its image."""
    return None if post.image_concepts is None else concepts_from_instagram(post.image_concepts)


@dataclass(frozen=True)
class ConceptTags:
    """Post counts: per concept, per tag (among posts with concepts), and per (concept, tag)."""

    total_posts: int
    concept_posts: dict[str, int]
    tag_posts: dict[str, int]
    pair_posts: dict[str, dict[str, int]]

    def association(self, concepts: Iterable[str], tag: str) -> float:
        """The strongest shrunk log lift of the tag over the concepts: log((n_ct + 1) / (n_c n_t / N + 1)).

        0 = no more common on such photos than anywhere; the +1 keeps a tag seen on few posts from looking decisive.
        """
        return self.strongest(concepts, tag)[0]

    def strongest(self, concepts: Iterable[str], tag: str) -> tuple[float, str | None]:
        """(`association`, the concept it comes from; None when no concept is associated with the tag)."""
        best: tuple[float, str | None] = (0.0, None)
        tag_count = self.tag_posts.get(tag, 0)
        for concept in sorted(concepts):
            together = self.pair_posts.get(concept, {}).get(tag, 0)
            if together < MIN_PAIR_POSTS or not self.total_posts:
                continue
            expected = self.concept_posts.get(concept, 0) * tag_count / self.total_posts
            lift = math.log((together + 1.0) / (expected + 1.0))
            if lift > best[0]:
                best = (lift, concept)
        return best

    def top_tags(self, concepts: Iterable[str], k: int) -> list[str]:
        """The `k` tags most associated with the concepts (positive association only), strongest first."""
        tags = {tag for concept in concepts for tag in self.pair_posts.get(concept, {})}
        scored = [(self.association(concepts, tag), tag) for tag in tags]
        return [tag for score, tag in sorted(scored, key=lambda item: (-item[0], item[1])) if score > 0][:k]

    def to_json(self) -> str:
        return json.dumps(
            {
                "total_posts": self.total_posts,
                "concept_posts": self.concept_posts,
                "tag_posts": self.tag_posts,
                "pair_posts": self.pair_posts,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ConceptTags:
        data = json.loads(text)
        return cls(int(data["total_posts"]), data["concept_posts"], data["tag_posts"], data["pair_posts"])

    @classmethod
    def load(cls, path: Path) -> ConceptTags:
        return cls.from_json(path.read_text(encoding="utf-8"))


def concept_tags_from(accounts: Iterable[Account], per_concept: int = TAGS_PER_CONCEPT) -> ConceptTags:
    """Count tags against concepts over every post with a known image description."""
    concept_posts: Counter[str] = Counter()
    tag_posts: Counter[str] = Counter()
    pairs: defaultdict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    for account in accounts:
        for post in account.posts:
            concepts = post_concepts(post)
            if concepts is None:
                continue
            total += 1
            tags = tag_set(post.hashtags)
            concept_posts.update(concepts)
            tag_posts.update(tags)
            for concept in concepts:
                pairs[concept].update(tags)
    # ties broken by the tag, not by first sight: a post's tags are a set, whose order changes between runs
    kept = {
        concept: {
            tag: n
            for tag, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:per_concept]
            if n >= MIN_PAIR_POSTS
        }
        for concept, counts in sorted(pairs.items())
    }
    used = {tag for counts in kept.values() for tag in counts}
    return ConceptTags(total, dict(sorted(concept_posts.items())), {t: tag_posts[t] for t in sorted(used)}, kept)


def concept_overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> float | None:
    """Jaccard overlap of two posts' concepts; None where either is unknown (1 when both show nothing known)."""
    if a is None or b is None:
        return None
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def concept_weights(recent: Sequence[Post], concepts: frozenset[str] | None) -> list[float | None]:
    """Each recent post's concept overlap with the photo's concepts (None where unknown)."""
    return [concept_overlap(post_concepts(post), concepts) for post in recent]
