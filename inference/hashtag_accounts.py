"""Accounts whose hashtag habits are like this account's, and the tags they use (account-to-account
collaborative filtering over the store's accounts).

Each stored account is a tf-idf vector of its tags: the share of its posts carrying the tag times
log(accounts / accounts using it), so a tag every account uses says little about who is alike. Two
accounts are alike by the cosine of their vectors. A tag's score for this account is the
similarity-weighted mean share of the most alike accounts' posts that carry it: a tag only those
accounts use, not one popular everywhere, is what this source brings.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# The accounts most alike count; beyond ~20 the neighbourhood is the whole store and the scores its popularity.
SIMILAR_ACCOUNTS = 20
MIN_ACCOUNT_SIMILARITY = 0.05  # cosine below this: a shared common tag, not a shared habit


@dataclass(frozen=True)
class AccountEvidence:
    """How the accounts most alike this one use a tag."""

    share: float  # similarity-weighted mean share of their posts carrying it
    accounts: int  # how many of them use it


@dataclass(frozen=True)
class AccountProfiles:
    """The tf-idf tag vectors of the store's accounts, with an index from tag to the accounts using it."""

    idf: dict[str, float]
    vectors: dict[str, dict[str, float]]  # handle -> tag -> weight (unit length)
    shares: dict[str, dict[str, float]]  # handle -> tag -> share of the account's posts carrying it
    by_tag: dict[str, list[tuple[str, float]]]  # tag -> (handle, weight) of every account using it

    @classmethod
    def build(cls, uses: Mapping[str, Mapping[str, int]], posts: Mapping[str, int]) -> AccountProfiles:
        """From per-account tag counts and post counts (`Tags.account_tag_counts`)."""
        accounts = [h for h in sorted(uses) if posts.get(h)]
        used_by: defaultdict[str, int] = defaultdict(int)
        for handle in accounts:
            for tag in uses[handle]:
                used_by[tag] += 1
        idf = {tag: math.log((len(accounts) + 1) / (n + 1)) + 1.0 for tag, n in used_by.items()}
        shares = {h: {t: n / posts[h] for t, n in uses[h].items()} for h in accounts}
        vectors = {h: unit_vector(s, idf) for h, s in shares.items()}
        by_tag: defaultdict[str, list[tuple[str, float]]] = defaultdict(list)
        for handle, vector in vectors.items():
            for tag, weight in vector.items():
                by_tag[tag].append((handle, weight))
        return cls(idf, vectors, shares, dict(by_tag))

    def similar_accounts(
        self, own_shares: Mapping[str, float], exclude: str, k: int = SIMILAR_ACCOUNTS
    ) -> list[tuple[str, float]]:
        """The `k` stored accounts (other than `exclude`) most alike an account with these tag shares."""
        vector = unit_vector(own_shares, self.idf)
        cosines: defaultdict[str, float] = defaultdict(float)
        for tag, weight in vector.items():
            for handle, other in self.by_tag.get(tag, ()):
                if handle != exclude:
                    cosines[handle] += weight * other
        ranked = sorted(
            ((h, c) for h, c in cosines.items() if c >= MIN_ACCOUNT_SIMILARITY), key=lambda hc: (-hc[1], hc[0])
        )
        return ranked[:k]

    def tag_evidence(self, neighbours: Sequence[tuple[str, float]]) -> dict[str, AccountEvidence]:
        """Every tag the `neighbours` use, scored by their similarity-weighted mean share."""
        total = sum(c for _, c in neighbours)
        if total <= 0:
            return {}
        weighted: defaultdict[str, float] = defaultdict(float)
        users: defaultdict[str, int] = defaultdict(int)
        for handle, cosine in neighbours:
            for tag, share in self.shares[handle].items():
                weighted[tag] += cosine * share
                users[tag] += 1
        return {tag: AccountEvidence(w / total, users[tag]) for tag, w in weighted.items()}


def unit_vector(shares: Mapping[str, float], idf: Mapping[str, float]) -> dict[str, float]:
    """share x idf per tag the store knows, scaled to unit length ({} when none is known)."""
    raw = {tag: share * idf[tag] for tag, share in shares.items() if tag in idf and share > 0}
    norm = math.sqrt(sum(w * w for w in raw.values()))
    return {tag: w / norm for tag, w in raw.items()} if norm else {}


def top_new_tags(evidence: Mapping[str, AccountEvidence], own: Iterable[str], limit: int) -> list[str]:
    """The `limit` tags the alike accounts use most (by `AccountEvidence.share`) that the account has not used."""
    own_set = set(own)
    kept = [(e.share, tag) for tag, e in evidence.items() if tag not in own_set]
    return [tag for _, tag in sorted(kept, key=lambda item: (-item[0], item[1]))[:limit]]
