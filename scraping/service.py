"""The cache in front of a source: SQLite within the cache lifetime, one refresh after it, stale on failure.

Only complete answers are stored. An answer without posts (`NoPostsVisible`: a login wall, a checkpoint,
counts only) is never taken for a fresh copy: the previous good copy is served, saying its age and why,
or the user hears what Instagram gave and what they can do. Negative answers (that, rate limits, unknown
accounts) are remembered for a few minutes, so asking again does not hammer the site.

Two simultaneous requests for one handle share one fetch (single-flight), and a photo is downloaded only
when the store has none for that post yet; it is stored once by content hash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.account_stats import AccountStats, account_stats
from core.errors import LikepredictError
from core.records import Account, CachedAccount, Post
from core.settings import Settings
from scraping.base import RECENT_POSTS, TAG_TOP_POSTS, AccountSource, FetchedAccount, TagTopPost
from scraping.dataset_source import DatasetSource
from scraping.errors import (
    AccountNotFound,
    DatasetError,
    MalformedResponse,
    NoPostsVisible,
    PrivateAccount,
    RateLimited,
    SourceUnavailable,
)
from scraping.handles import normalize_handle, parse_tag
from scraping.http import HttpClient
from scraping.instagram import InstagramWebSource
from scraping.instaloader_source import InstaloaderSource
from store import Store

log = logging.getLogger(__name__)

# Failures after which an older copy is better than nothing. From the live site, AccountNotFound and
# PrivateAccount are answers about the account itself, so they are passed on even when a copy exists.
TRANSIENT_FAILURES = (SourceUnavailable, RateLimited, MalformedResponse, NoPostsVisible, DatasetError)
IMAGE_DOWNLOADS_AT_ONCE = 4
REMEMBER_NEGATIVE = timedelta(minutes=10)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TagTopPostWithOwner:
    """A hashtag's top post and how its owner usually does, so its likes can be read relative to that."""

    top: TagTopPost
    owner_followers: int | None
    owner_engagement_rate: float | None  # the owner's mean (likes + comments) / followers
    owner_likes_median: float | None


def source_from_settings(settings: Settings) -> AccountSource:
    """The source named by LIKEPREDICT_SOURCE; callers never need to know which one it is."""
    kind = settings.source.kind
    if kind == "demo":
        return DatasetSource.demo()
    if kind == "dataset":
        return DatasetSource(settings.source.path)  # type: ignore[arg-type]
    if kind == "instaloader":
        return InstaloaderSource(settings.source.path)  # type: ignore[arg-type]
    http = HttpClient.from_settings(settings)
    session = settings.instagram_session_id
    return InstagramWebSource(
        http, base_url=settings.instagram_url, session_id=session.get_secret_value() if session else None
    )


class AccountService:
    """Accounts by handle, through the SQLite cache. One per process; close with `aclose()`."""

    def __init__(
        self,
        source: AccountSource,
        store: Store,
        cache_hours: float,
        n_posts: int = RECENT_POSTS,
        clock: Callable[[], datetime] = utcnow,
        download_images: bool = True,
    ) -> None:
        self.source = source
        self.store = store
        self.cache_lifetime = timedelta(hours=cache_hours)
        self.n_posts = n_posts
        self.clock = clock
        self.download_images = download_images
        self._in_flight: dict[str, asyncio.Task[CachedAccount]] = {}
        # handle -> (the negative answer, until when it stands): asking again sooner would get the same.
        self._negative: dict[str, tuple[LikepredictError, datetime]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, store: Store, source: AccountSource | None = None) -> AccountService:
        return cls(source or source_from_settings(settings), store, cache_hours=settings.cache_hours)

    async def aclose(self) -> None:
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.source.aclose()

    # ---- accounts -----------------------------------------------------------------------------

    async def get_account(self, handle: str, refresh: bool = False, photos: bool = True) -> CachedAccount:
        """The account and its recent posts; fresh from the cache, else fetched (or stale if fetching fails).

        `photos=False` skips downloading post photos (for accounts only their engagement is wanted from).
        """
        handle = normalize_handle(handle)
        if not refresh and handle not in self._in_flight:
            cached = await asyncio.to_thread(self.store.accounts.get, handle, self.n_posts)
            if cached is not None and self.clock() - cached.fetched_at < self.cache_lifetime:
                return self._checked(CachedAccount(cached.account, cached.fetched_at, from_cache=True))
        task = self._in_flight.get(handle)
        if task is None:
            task = asyncio.create_task(self._refresh(handle, photos), name=f"fetch @{handle}")
            self._in_flight[handle] = task
            task.add_done_callback(lambda _: self._in_flight.pop(handle, None))
        # Shielded: one caller giving up must not cancel the fetch the others are waiting for.
        return self._checked(await asyncio.shield(task))

    def _checked(self, cached: CachedAccount) -> CachedAccount:
        if cached.account.is_private and not cached.account.posts:
            raise PrivateAccount(cached.account.handle)
        return cached

    async def _refresh(self, handle: str, photos: bool) -> CachedAccount:
        failure = self._remembered(handle)
        if failure is None:
            try:
                fetched = await self.source.fetch_account(handle, self.n_posts)
            except (*TRANSIENT_FAILURES, AccountNotFound) as error:
                failure = self._remember(handle, error)
            else:
                self._negative.pop(handle, None)
                fetched_at = self.clock()
                account = await self._with_local_images(fetched, handle) if photos else fetched.account
                await asyncio.to_thread(self.store.accounts.save, _renamed(account, handle, fetched_at), fetched_at)
                stored = await asyncio.to_thread(self.store.accounts.get, handle, self.n_posts)
                assert stored is not None  # just written in one transaction
                return CachedAccount(stored.account, stored.fetched_at, from_cache=False)
        cached = await asyncio.to_thread(self.store.accounts.get, handle, self.n_posts)
        if cached is None or (isinstance(failure, AccountNotFound) and self.source.live):
            raise failure
        log.warning("refreshing @%s failed (%s); serving the copy from %s", handle, failure, cached.fetched_at)
        return CachedAccount(cached.account, cached.fetched_at, from_cache=True, stale=True, stale_reason=failure)

    def _remember(self, handle: str, error: LikepredictError) -> LikepredictError:
        """Keep a negative answer for a few minutes (a rate limit: as long as it lasts); returns it as told."""
        now = self.clock()
        if isinstance(error, RateLimited):
            self._negative[handle] = (error, now + timedelta(seconds=error.retry_after or 600.0))
        elif isinstance(error, NoPostsVisible):
            error = error.until(now + REMEMBER_NEGATIVE)
            self._negative[handle] = (error, now + REMEMBER_NEGATIVE)
        elif isinstance(error, AccountNotFound):
            self._negative[handle] = (error, now + REMEMBER_NEGATIVE)
        return error  # a network fault or a broken file says nothing about the next try: not remembered

    def _remembered(self, handle: str) -> LikepredictError | None:
        """The negative answer still standing for this handle, as of now; None if there is none."""
        remembered = self._negative.get(handle)
        if remembered is None:
            return None
        error, until = remembered
        left = (until - self.clock()).total_seconds()
        if left <= 0:
            del self._negative[handle]
            return None
        if isinstance(error, RateLimited):
            return RateLimited(left, error.source, error.endpoint)
        return error

    async def _with_local_images(self, fetched: FetchedAccount, handle: str) -> Account:
        """Posts with a local photo: the stored copy if there is one, else downloaded once and stored."""
        if not fetched.image_urls or not self.download_images:
            return fetched.account
        known = {
            p.shortcode: p.image_path
            for p in await asyncio.to_thread(self.store.accounts.recent_posts, handle, 1000)
            if p.image_path is not None
        }
        gate = asyncio.Semaphore(IMAGE_DOWNLOADS_AT_ONCE)

        async def local_copy(post: Post) -> Post:
            if post.image_path is not None:
                return post
            if post.shortcode in known:
                return _with_image(post, known[post.shortcode])
            url = fetched.image_urls.get(post.shortcode)
            if url is None:
                return post
            async with gate:
                try:
                    data = await self.source.download_image(url)
                except LikepredictError as error:
                    log.info("photo of %s not downloaded: %s", post.shortcode, error)
                    return post
            sha = await asyncio.to_thread(self.store.images.save, data, ".jpg")
            path = await asyncio.to_thread(self.store.images.path, sha)
            return _with_image(post, path)

        posts = await asyncio.gather(*(local_copy(p) for p in fetched.account.posts))
        a = fetched.account
        return Account(a.handle, a.followers, a.following, a.posts_count, tuple(posts), a.is_private, a.fetched_at)

    def stats(self, cached: CachedAccount, at: datetime | None = None) -> AccountStats:
        """The derived stats (likes mean, median, trend, engagement rate, ...) of a cached account."""
        a = cached.account
        return account_stats(a.posts, a.followers, a.following, a.posts_count, at=at, n=self.n_posts)

    # ---- hashtags -----------------------------------------------------------------------------

    async def fetch_tag_top_posts(
        self, tag: str, n: int = TAG_TOP_POSTS, with_owners: bool = True
    ) -> list[TagTopPostWithOwner]:
        """A hashtag's top posts; with `with_owners`, each owner's usual engagement (owners are cached too)."""
        tag = parse_tag(tag)
        top_posts = await self.source.fetch_tag_top_posts(tag, n)
        owner_stats: dict[str, AccountStats | None] = {}
        if with_owners:
            for owner in dict.fromkeys(t.owner for t in top_posts if t.owner):
                try:
                    owner_stats[owner] = self.stats(await self.get_account(owner, photos=False))
                except RateLimited:
                    break  # asking for more owners now would only make it worse
                except LikepredictError as error:
                    log.info("owner @%s of a #%s top post skipped: %s", owner, tag, error)
                    owner_stats[owner] = None
        result = []
        for top in top_posts:
            stats = owner_stats.get(top.owner) if top.owner else None
            result.append(
                TagTopPostWithOwner(
                    top=top,
                    owner_followers=stats.followers if stats else None,
                    owner_engagement_rate=stats.engagement_rate if stats and stats.has_history else None,
                    owner_likes_median=stats.likes_median if stats and stats.has_history else None,
                )
            )
        return result


def _with_image(post: Post, path: Path | None) -> Post:
    return Post(
        post.shortcode,
        post.taken_at,
        post.likes,
        post.comments,
        post.hashtags,
        post.mentions,
        post.caption_length,
        post.is_multi_image,
        post.is_video,
        post.has_location,
        path,
    )


def _renamed(account: Account, handle: str, fetched_at: datetime) -> Account:
    # Stored under the handle that was asked for, so the next request finds it whatever case the source used.
    return Account(
        handle, account.followers, account.following, account.posts_count, account.posts, account.is_private, fetched_at
    )
