"""The one interface every account source implements, and the records it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from core.records import Account, Post

RECENT_POSTS = 20
TAG_TOP_POSTS = 9


@dataclass(frozen=True)
class FetchedAccount:
    """What a source returned for a handle: the account (posts newest first) and where its photos are.

    Posts from a file source already carry `image_path`; posts from the web carry an URL in `image_urls`
    (shortcode -> URL) which the service downloads once and stores by content hash.
    """

    account: Account
    image_urls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TagTopPost:
    """One of a hashtag's top posts, with its owner's handle when the source says it."""

    tag: str
    post: Post
    owner: str | None
    image_url: str | None = None


@runtime_checkable
class AccountSource(Protocol):
    """Where accounts come from. Handles and tags given to it are already normalised."""

    name: str
    # True when the source sees the live site: its "not found" then means the account is gone. A file
    # source not having a handle says nothing about a copy imported into the store from elsewhere.
    live: bool

    async def fetch_account(self, handle: str, n_posts: int = RECENT_POSTS) -> FetchedAccount:
        """The profile and its newest `n_posts` posts; raises AccountNotFound, SourceUnavailable, ..."""
        ...

    async def fetch_recent_posts(self, handle: str, n: int = RECENT_POSTS) -> list[Post]: ...

    async def fetch_tag_top_posts(self, tag: str, n: int = TAG_TOP_POSTS) -> list[TagTopPost]: ...

    async def download_image(self, url: str) -> bytes: ...

    async def aclose(self) -> None: ...
