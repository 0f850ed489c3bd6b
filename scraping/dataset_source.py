"""Accounts from files a user already has: the bundled demo data or any data file in a known format."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from core.paths import DEMO_DATA
from core.records import Account, Post
from scraping.base import RECENT_POSTS, TAG_TOP_POSTS, FetchedAccount, TagTopPost
from scraping.datasets import read_any
from scraping.errors import AccountNotFound, SourceUnavailable


def with_recent_posts(account: Account, n_posts: int) -> Account:
    """The account with only its `n_posts` newest posts."""
    newest = tuple(account.posts_newest_first()[:n_posts])
    return Account(
        account.handle,
        account.followers,
        account.following,
        account.posts_count,
        newest,
        account.is_private,
        account.fetched_at,
    )


def rank_tag_posts(accounts: Iterable[Account], tag: str, n: int) -> list[TagTopPost]:
    """A tag's "top posts" among these accounts: highest (likes + comments) / followers first.

    Posts that hide their likes cannot be ranked by them and are left out.
    """
    scored: list[tuple[float, str, Post]] = []
    for account in accounts:
        for post in account.posts:
            if post.likes is not None and tag in (t.lower() for t in post.hashtags):
                rate = (post.likes + (post.comments or 0)) / max(account.followers, 1)
                scored.append((rate, account.handle, post))
    scored.sort(key=lambda item: (-item[0], item[1], item[2].shortcode))
    return [TagTopPost(tag=tag, post=post, owner=handle) for _, handle, post in scored[:n]]


async def read_local_image(url: str) -> bytes:
    """File sources name their photos by path; there is nothing to download."""
    path = Path(url)
    try:
        return await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        raise SourceUnavailable(f"cannot read {path.name}: {error.strerror or error}", source="dataset") from None


class DatasetSource:
    """Every account of a likepredict .jsonl, influencers-2017 file or instaloader folder, read once."""

    live = False

    def __init__(self, path: Path | str = DEMO_DATA, name: str = "dataset") -> None:
        self.path = Path(path)
        self.name = name
        self._accounts: dict[str, Account] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def demo(cls) -> DatasetSource:
        return cls(DEMO_DATA, name="demo")

    async def _load(self) -> dict[str, Account]:
        async with self._lock:
            if self._accounts is None:
                accounts = await asyncio.to_thread(lambda: list(read_any(self.path)))
                self._accounts = {a.handle.lower(): a for a in accounts}
            return self._accounts

    async def fetch_account(self, handle: str, n_posts: int = RECENT_POSTS) -> FetchedAccount:
        account = (await self._load()).get(handle)
        if account is None:
            raise AccountNotFound(handle)
        return FetchedAccount(with_recent_posts(account, n_posts))

    async def fetch_recent_posts(self, handle: str, n: int = RECENT_POSTS) -> list[Post]:
        return list((await self.fetch_account(handle, n)).account.posts)

    async def fetch_tag_top_posts(self, tag: str, n: int = TAG_TOP_POSTS) -> list[TagTopPost]:
        return rank_tag_posts((await self._load()).values(), tag, n)

    async def download_image(self, url: str) -> bytes:
        return await read_local_image(url)

    async def aclose(self) -> None:
        self._accounts = None
