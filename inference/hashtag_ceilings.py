"""How far any ranking could go: the candidate sets a hidden post's tags could be found in, widest first.

`likepredict evaluate hashtags` measures the oracle recall@N (a perfect ordering of a set) of each, so a
target can be checked against what is reachable before any ranker is tuned:

* **widest honest set** (`widest_candidates`): every tag the account used before, every tag sharing a stored
  post (of any account, at any count) with one of them, and every tag of the accounts whose tag habits are
  most like this one's (`hashtag_accounts`), besides today's candidates (`gather_candidates`). Something
  about the account points to each of them; a tag outside it is one only other people's habits suggest.
* **vocabulary**: every tag of any stored post. Reaching the hidden tags outside the widest set would mean
  suggesting tags nothing about the account points to (the issue's rule 3 forbids it).
* **unseen**: the hidden tags no stored post carries: no engine over the store can suggest them.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.records import Account
from core.tags import tag_set
from inference.hashtag_basis import AccountBasis
from inference.hashtag_index import TagIndex


def own_tags(history: Account) -> set[str]:
    """Every tag of the account's earlier posts (all of them, not only the recent ones the engine counts)."""
    return set().union(*(tag_set(post.hashtags) for post in history.posts))


def cooccurring_any(index: TagIndex, tags: Iterable[str]) -> set[str]:
    """Every tag sharing at least one stored post with one of `tags` (themselves left out)."""
    wanted = set(tags)
    found: set[str] = set()
    for tag in wanted:
        for post_id in index.posts_by_tag.get(tag, frozenset()):
            found |= index.tags_by_post[post_id]
    return found - wanted


def widest_candidates(index: TagIndex, basis: AccountBasis, history: Account, today: Iterable[str]) -> set[str]:
    """Own tags, every tag co-occurring with them in the store, every tag of the alike accounts, and `today`'s."""
    own = own_tags(history)
    return own | cooccurring_any(index, own) | set(basis.alike) | set(today)


def unseen_share(index: TagIndex, actual: set[str]) -> float:
    """The share of `actual` that no stored post carries."""
    return len({tag for tag in actual if tag not in index.posts_by_tag}) / len(actual) if actual else 0.0
