"""What a hashtag answer needs that depends only on the account and the store, worked out once per account.

A photo changes the image neighbours, the concept candidates, the weights of the account's own posts and so
the fits and lifts, and the ranker's run. It does not change the account's engagement stats, its own tags,
the tags co-occurring with them, the tags of the accounts alike it, or what each tag's stored posts did:
those are kept per account (`AccountBases`) until the account or the stored tags (`Tags.fingerprint`) change,
and the lifts of each tag's stored posts (`TagLifts`) until the stored tags do.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.account_stats import AccountStats, account_stats, previous_posts
from core.records import Account, Post
from core.tags import tag_set
from inference.hashtag_accounts import AccountEvidence, top_new_tags
from inference.hashtag_index import TagIndex
from inference.hashtag_scoring import cooccurrence_prior, engagement_rate, post_lift

Fingerprint = int  # `Tags.fingerprint`: the store's change count
# Co-occurring tags widen the choice beyond the account's habits; a tag met on one shared post is a
# coincidence, not a neighbourhood. Ranked by lift alone, more of them trade recall of the tags people really
# use for discovery; ranked by expected value they mostly fill places the account's own tags leave empty.
COOCCURRING_CANDIDATES = 20
MIN_SHARED_POSTS = 2
# Tags the accounts with habits most like this one's use and it has not (`hashtag_accounts`). On half "a" of
# either year about half of a post's tags are new to its account, and most of those are in no stored post at
# all; 100 of them (vs 30, or only tags 2+ alike accounts use) raised the candidate ceiling on half "a" the most.
ACCOUNT_CANDIDATES = 100
ACCOUNTS_KEPT = 32  # accounts whose basis is kept; the evaluation walks thousands of truncated histories


@dataclass(frozen=True)
class AccountBasis:
    """The photo-independent part of one account's hashtag answer, under one state of the store."""

    account: Account
    fingerprint: Fingerprint
    stats: AccountStats
    recent: list[Post]  # the previous posts, newest first
    recent_tags: list[set[str]]  # each recent post's normalised tags
    image_shas: dict[str, str]  # shortcode -> stored image of the account's posts
    own_uses: dict[str, int]  # tag -> recent posts carrying it, in order of first sight
    cooccurring: list[tuple[str, str, int]]  # (tag, strongest own partner, posts shared with it)
    cooccurrence: dict[str, float]  # `cooccurrence_prior` of the co-occurring tags
    alike: dict[str, AccountEvidence]  # tags of the accounts alike this one (`AccountProfiles.tag_evidence`)
    alike_new: list[str]  # the ACCOUNT_CANDIDATES of them the account has not used
    under_last: dict[str, int]  # store posts under each tag of the newest post
    last_cooccurrence: dict[str, float]  # of the tags above: max P(tag | a tag of the newest post)

    @property
    def first_images(self) -> list[str]:
        """The account's own stored images, newest post first: embedded first when a photo is compared."""
        return [self.image_shas[p.shortcode] for p in self.recent if p.shortcode in self.image_shas]

    def last_post_cooccurrence(self, index: TagIndex, tags: Iterable[str]) -> dict[str, float]:
        """max P(tag | a tag of the newest post) over the store, for each of `tags` that shares a post with one."""
        wanted = set(tags)
        known = {tag: chance for tag, chance in self.last_cooccurrence.items() if tag in wanted}
        return known | last_cooccurrence(index, wanted - self.known_tags, self.under_last)

    @property
    def known_tags(self) -> set[str]:
        return {*self.own_uses, *(tag for tag, _, _ in self.cooccurring), *self.alike_new}


def account_basis(
    index: TagIndex, fingerprint: Fingerprint, account: Account, image_shas: dict[str, str]
) -> AccountBasis:
    """Work out the photo-independent part of the account's answer from the store's `index`."""
    stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
    recent = previous_posts(account.posts)
    recent_tags = [tag_set(post.hashtags) for post in recent]
    own_uses: dict[str, int] = {}
    for tags in recent_tags:
        for tag in tags:
            own_uses[tag] = own_uses.get(tag, 0) + 1
    rows = index.cooccurring_with_partner(list(own_uses), COOCCURRING_CANDIDATES, MIN_SHARED_POSTS)
    cooccurring = [(tag, partner, with_partner) for tag, _, partner, with_partner in rows]
    neighbours = [tag for tag in dict.fromkeys([*own_uses, *(tag for tag, _, _ in cooccurring)]) if tag not in own_uses]
    cooccurrence = cooccurrence_prior(
        own_uses, index.shared_post_counts(neighbours, own_uses), index.post_counts(own_uses)
    )
    alike: dict[str, AccountEvidence] = {}
    alike_new: list[str] = []
    if recent:
        shares = {tag: uses / len(recent) for tag, uses in own_uses.items()}
        alike = index.profiles.tag_evidence(index.profiles.similar_accounts(shares, exclude=account.handle))
        alike_new = top_new_tags(alike, own_uses, ACCOUNT_CANDIDATES)
    under_last = index.post_counts(recent_tags[0]) if recent_tags else {}
    known = {*own_uses, *(tag for tag, _, _ in cooccurring), *alike_new}
    return AccountBasis(
        account,
        fingerprint,
        stats,
        recent,
        recent_tags,
        image_shas,
        own_uses,
        cooccurring,
        cooccurrence,
        alike,
        alike_new,
        under_last,
        last_cooccurrence(index, known, under_last),
    )


def last_cooccurrence(index: TagIndex, tags: Iterable[str], under_last: Mapping[str, int]) -> dict[str, float]:
    """For each of `tags`, the strongest share of the posts under a tag of the newest post that also carry it."""
    chances: dict[str, float] = {}
    for (tag, partner), both in index.shared_post_counts(tags, under_last).items():
        if under_last.get(partner):
            chances[tag] = max(chances.get(tag, 0.0), min(both / under_last[partner], 1.0))
    return chances


class AccountBases:
    """The most recently asked accounts' bases, each valid while the account and the stored tags are unchanged."""

    def __init__(self, kept: int = ACCOUNTS_KEPT) -> None:
        self.kept = kept
        self._bases: OrderedDict[str, AccountBasis] = OrderedDict()

    def get(self, account: Account, fingerprint: Fingerprint) -> AccountBasis | None:
        basis = self._bases.get(account.handle)
        if (
            basis is None
            or basis.fingerprint != fingerprint
            or not (basis.account is account or basis.account == account)
        ):
            return None
        self._bases.move_to_end(account.handle)
        return basis

    def put(self, basis: AccountBasis) -> None:
        self._bases[basis.account.handle] = basis
        self._bases.move_to_end(basis.account.handle)
        while len(self._bases) > self.kept:
            self._bases.popitem(last=False)


@dataclass(frozen=True)
class TagLifts:
    """A tag's stored posts as `score_tag` reads them: the lift of each post whose account has engagement."""

    lifts: list[float]
    images: list[str | None]  # the image of each of those posts
    all_images: frozenset[str]  # the images of all its posts (those of accounts without engagement too)


def tag_lifts(index: TagIndex, tag: str, per_tag: int) -> TagLifts:
    posts = index.evidence([tag], per_tag=per_tag).get(tag, [])
    usable = [p for p in posts if p.account_mean_rate > 0]
    return TagLifts(
        [post_lift(engagement_rate(p.likes, p.comments, p.followers), p.account_mean_rate) for p in usable],
        [p.image_sha256 for p in usable],
        frozenset(p.image_sha256 for p in posts if p.image_sha256 is not None),
    )
