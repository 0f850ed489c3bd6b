"""Accounts from folders written by instaloader, read on each fetch (files parsed again only when changed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.records import Account, Post
from scraping.base import RECENT_POSTS, TAG_TOP_POSTS, FetchedAccount, TagTopPost
from scraping.dataset_source import rank_tag_posts, read_local_image, with_recent_posts
from scraping.errors import AccountNotFound
from scraping.instaloader_files import InstaloaderFolder


class InstaloaderSource:
    """`root` is one profile folder, or a folder holding one folder per target (instaloader's default)."""

    name = "instaloader"
    live = False

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.folder = InstaloaderFolder(self.root)
        self._lock = asyncio.Lock()

    async def _accounts(self) -> list[Account]:
        async with self._lock:  # one reader at a time: the parsed-file cache is shared
            return (await asyncio.to_thread(self.folder.read)).accounts

    async def fetch_account(self, handle: str, n_posts: int = RECENT_POSTS) -> FetchedAccount:
        for account in await self._accounts():
            if account.handle == handle:
                return FetchedAccount(with_recent_posts(account, n_posts))
        raise AccountNotFound(handle)

    async def fetch_recent_posts(self, handle: str, n: int = RECENT_POSTS) -> list[Post]:
        return list((await self.fetch_account(handle, n)).account.posts)

    async def fetch_tag_top_posts(self, tag: str, n: int = TAG_TOP_POSTS) -> list[TagTopPost]:
        return rank_tag_posts(await self._accounts(), tag, n)

    async def download_image(self, url: str) -> bytes:
        return await read_local_image(url)

    async def aclose(self) -> None:
        return None
