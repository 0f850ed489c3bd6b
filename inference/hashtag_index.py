"""The store's hashtag graph in memory: which posts carry each tag, and the accounts as tag vectors.

The candidates and the ranker's features ask the same few questions of the graph (posts under a tag, posts
carrying two tags, tags next to the account's) hundreds of times a request; answered from sets built once
per change of the stored tags (`Tags.fingerprint`), not by a query each.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from inference.hashtag_accounts import AccountProfiles
from store import TagPost


@dataclass(frozen=True)
class TagIndex:
    """Posts by tag and tags by post over the store, with the accounts' tag vectors."""

    posts_by_tag: dict[str, frozenset[int]]
    tags_by_post: dict[int, frozenset[str]]
    profiles: AccountProfiles
    evidence_by_tag: dict[str, list[TagPost]]  # each tag's posts with visible likes, newest first

    @classmethod
    def build(
        cls,
        rows: Sequence[tuple[int, str, str]],
        posts_per_account: dict[str, int],
        evidence: Sequence[tuple[str, TagPost]] = (),
    ) -> TagIndex:
        """From (post id, handle, tag) rows (`Tags.post_tags`), each account's stored posts and every tag's
        evidence (`Tags.all_evidence`)."""
        by_tag: defaultdict[str, set[int]] = defaultdict(set)
        by_post: defaultdict[int, set[str]] = defaultdict(set)
        uses: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for post_id, handle, tag in rows:
            by_tag[tag].add(post_id)
            by_post[post_id].add(tag)
            uses[handle][tag] += 1
        evidence_by_tag: defaultdict[str, list[TagPost]] = defaultdict(list)
        for tag, post in evidence:
            evidence_by_tag[tag].append(post)
        return cls(
            {t: frozenset(p) for t, p in by_tag.items()},
            {p: frozenset(t) for p, t in by_post.items()},
            AccountProfiles.build(uses, posts_per_account),
            dict(evidence_by_tag),
        )

    def evidence(self, tags: Iterable[str], per_tag: int = 50) -> dict[str, list[TagPost]]:
        """As `Tags.evidence`: each tag's `per_tag` most recent posts with their accounts' mean rates."""
        return {t: self.evidence_by_tag.get(t, [])[:per_tag] for t in sorted({t.lower() for t in tags if t})}

    def post_counts(self, tags: Iterable[str]) -> dict[str, int]:
        """How many stored posts carry each of `tags` (tags no post carries are left out)."""
        return {t: len(self.posts_by_tag[t]) for t in {t.lower() for t in tags} if t in self.posts_by_tag}

    def shared_post_counts(self, tags: Iterable[str], partners: Iterable[str]) -> dict[tuple[str, str], int]:
        """Posts carrying both tags, for every (tag, partner) pair that shares at least one post."""
        partner_list = sorted({p.lower() for p in partners if p.lower() in self.posts_by_tag})
        shared = {}
        for tag in sorted({t.lower() for t in tags if t.lower() in self.posts_by_tag}):
            posts = self.posts_by_tag[tag]
            for partner in partner_list:
                if partner != tag:
                    both = len(posts & self.posts_by_tag[partner])
                    if both:
                        shared[(tag, partner)] = both
        return shared

    def cooccurring_with_partner(
        self, tags: Iterable[str], limit: int = 50, min_shared: int = 1
    ) -> list[tuple[str, int, str, int]]:
        """As `Tags.cooccurring_with_partner`: tags sharing `min_shared`+ posts with any of `tags`, most first,
        each as (tag, posts shared with any of `tags`, its strongest partner, posts shared with that one)."""
        own = {t.lower() for t in tags if t}
        posts = set().union(*(self.posts_by_tag.get(t, frozenset()) for t in own)) if own else set()
        shared: Counter[str] = Counter()
        pairs: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for post_id in posts:
            carried = self.tags_by_post[post_id]
            partners = carried & own
            for tag in carried - own:
                shared[tag] += 1
                pairs[tag].update(partners)
        ranked = sorted((t for t, n in shared.items() if n >= min_shared), key=lambda t: (-shared[t], t))[:limit]
        rows = []
        for tag in ranked:
            partner, together = min(pairs[tag].items(), key=lambda item: (-item[1], item[0]))
            rows.append((tag, shared[tag], partner, together))
        return rows
