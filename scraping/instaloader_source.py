"""Accounts from folders written by instaloader (`instaloader --no-videos PROFILE`), read on each fetch."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.records import Account, Post
from scraping.base import RECENT_POSTS, TAG_TOP_POSTS, FetchedAccount, TagTopPost
from scraping.dataset_source import rank_tag_posts, read_local_image, with_recent_posts
from scraping.datasets import DatasetError, read_instaloader, read_instaloader_profile
from scraping.errors import AccountNotFound


class InstaloaderSource:
    """`root` is one profile folder, or a folder holding one folder per profile (instaloader's default)."""

    name = "instaloader"
    live = False

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _read_account(self, handle: str) -> Account:
        try:
            own_folder = self.root / handle
            if own_folder.is_dir():
                account = read_instaloader_profile(own_folder)
                if account.handle == handle:
                    return account
            for account in read_instaloader(self.root):
                if account.handle == handle:
                    return account
        except DatasetError:
            raise
        raise AccountNotFound(handle)

    async def fetch_account(self, handle: str, n_posts: int = RECENT_POSTS) -> FetchedAccount:
        account = await asyncio.to_thread(self._read_account, handle)
        return FetchedAccount(with_recent_posts(account, n_posts))

    async def fetch_recent_posts(self, handle: str, n: int = RECENT_POSTS) -> list[Post]:
        return list((await self.fetch_account(handle, n)).account.posts)

    async def fetch_tag_top_posts(self, tag: str, n: int = TAG_TOP_POSTS) -> list[TagTopPost]:
        accounts = await asyncio.to_thread(lambda: list(read_instaloader(self.root)))
        return rank_tag_posts(accounts, tag, n)

    async def download_image(self, url: str) -> bytes:
        return await read_local_image(url)

    async def aclose(self) -> None:
        return None
