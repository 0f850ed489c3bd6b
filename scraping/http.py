"""Good manners over HTTP: one shared session, a per-host rate limit, retries with back-off, Retry-After.

Everything slow is injectable (`sleep`, `clock`, `random`), so tests can run the real client against a
local server without waiting out real back-off delays.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random as random_module
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp

from core.settings import Settings
from scraping.errors import RateLimited, SourceUnavailable

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
MAX_BODY_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `attempts` in all; back-off `base_delay * 2**n` with full jitter, capped."""

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    # A Retry-After longer than this is not slept through: the caller hears RateLimited and when to retry.
    max_retry_after: float = 60.0

    def backoff(self, retry_number: int, rand: Callable[[], float]) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2**retry_number))
        return ceiling * (0.5 + 0.5 * rand())  # jitter, but never less than half the step


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RateLimiter:
    """At most `per_minute` requests per host, evenly spaced; waiters queue in order."""

    def __init__(
        self, per_minute: float, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.interval = 60.0 / per_minute
        self.clock = clock
        self.sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, host: str) -> float:
        """Wait for this host's next slot; returns how long it waited."""
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            now = self.clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self.interval
            delay = slot - now
            if delay > 0:
                await self.sleep(delay)
            return delay

    def push_back(self, host: str, seconds: float) -> None:
        """After a 429 no request goes to that host before `seconds` have passed."""
        self._next_slot[host] = max(self._next_slot.get(host, 0.0), self.clock() + seconds)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    url: str  # after redirects
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class HttpClient:
    """The one HTTP client of a process. `get` returns 2xx-4xx answers; 5xx, 429 and network faults are retried."""

    def __init__(
        self,
        timeout_seconds: float = 15.0,
        requests_per_minute: float = 20.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random_module.random,
        limiter: RateLimiter | None = None,
        media_requests_per_minute: float = 120.0,
        media_limiter: RateLimiter | None = None,
        connections: int = 8,
        connections_per_host: int = 2,
        source_name: str = "Instagram",
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(10.0, timeout_seconds))
        self.limiter = limiter or RateLimiter(requests_per_minute, sleep=sleep)
        # Photos come from CDN hosts built to serve them; 20 a minute would make a first fetch take a minute.
        self.media_limiter = media_limiter or RateLimiter(media_requests_per_minute, sleep=sleep)
        self.retry = retry
        self.sleep = sleep
        self.rand = rand
        self.connections = connections
        self.connections_per_host = connections_per_host
        self.source_name = source_name
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpClient:
        return cls(timeout_seconds=settings.request_timeout_seconds, requests_per_minute=settings.requests_per_minute)

    def session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop, and shared by every request after.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=self.connections_per_host)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, headers={"User-Agent": BROWSER_USER_AGENT}
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        max_bytes: int = MAX_BODY_BYTES,
        media: bool = False,
    ) -> HttpResponse:
        """GET with retries; `media=True` for photo downloads, which have their own rate budget."""
        host = urlsplit(url).netloc
        limiter = self.media_limiter if media else self.limiter
        problem = "no answer"
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            await limiter.wait(host)
            try:
                response = await self._send(url, params, headers, cookies, max_bytes)
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                problem = (
                    "it took too long to answer" if isinstance(error, asyncio.TimeoutError) else "connection failed"
                )
                log.info("GET %s failed (%s: %s), attempt %d", url, type(error).__name__, error, attempt + 1)
                if not last:
                    await self.sleep(self.retry.backoff(attempt, self.rand))
                continue
            if response.status == 429:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is not None and wait > self.retry.max_retry_after:
                    limiter.push_back(host, wait)
                    raise RateLimited(wait, self.source_name)
                if last:
                    raise RateLimited(wait, self.source_name)
                delay = wait if wait is not None else self.retry.backoff(attempt, self.rand)
                limiter.push_back(host, delay)
                log.info("GET %s: 429, retrying in %.1f s", url, delay)
                continue  # the limiter now holds the next request back by `delay`
            if response.status >= 500:
                problem = f"it answered {response.status}"
                log.info("GET %s: %d, attempt %d", url, response.status, attempt + 1)
                if not last:
                    await self.sleep(self.retry.backoff(attempt, self.rand))
                continue
            return response
        raise SourceUnavailable(problem, self.source_name)

    async def _send(
        self,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        cookies: Mapping[str, str] | None,
        max_bytes: int,
    ) -> HttpResponse:
        async with self.session().get(url, params=params, headers=headers, cookies=cookies) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise SourceUnavailable(f"the answer is larger than {max_bytes // 1024} KB", self.source_name)
                chunks.append(chunk)
            return HttpResponse(response.status, b"".join(chunks), str(response.url), response.headers.copy())
