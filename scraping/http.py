"""Good manners over HTTP: one shared session, a per-host pace, a budget per endpoint, back-off, Retry-After.

The endpoint budgets follow instaloader's `RateController`: at most 75 requests of one kind in a sliding
window of 11 minutes, and after a 429 that does not say how long to wait, no request of that kind until
11 minutes after the oldest one in the window (so at least 11 minutes). Nobody waits long for an answer:
a request that would have to wait more than `max_wait` seconds in all is not made, and the caller hears
`RateLimited` with when to try again.

Everything slow is injectable (`sleep`, `clock`, `random`), so tests can run the real client against a
local server without waiting out real delays.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random as random_module
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp

from core.settings import Settings
from scraping.errors import RateLimited, SourceKind, SourceUnavailable

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
CHROME_VERSION = "142"
# A current desktop Chrome, as instaloader sends; the web API refuses a user agent that does not fit the app id.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/{CHROME_VERSION}.0.0.0 Safari/537.36"
)
MAX_BODY_BYTES = 25 * 1024 * 1024
WINDOW_SECONDS = 660.0  # instaloader's per-kind sliding window
WINDOW_REQUESTS = 75  # instaloader's budget for requests that are not GraphQL queries, per window
AFTER_429_SLACK = 6.0  # instaloader waits this much past the window's end after an unexplained 429
MAX_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `attempts` in all; back-off `base_delay * 2**n` with full jitter, capped."""

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    # The most a caller waits in all (pace, back-off, Retry-After) before hearing RateLimited or unavailable.
    max_wait: float = MAX_WAIT_SECONDS

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

    def __init__(self, per_minute: float, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = 60.0 / per_minute
        self.clock = clock
        self.sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, host: str, max_wait: float = float("inf")) -> float:
        """Wait for this host's next slot; returns how long it waited, or raises RateLimited past `max_wait`."""
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            now = self.clock()
            slot = max(now, self._next_slot.get(host, now))
            delay = slot - now
            if delay > max_wait:
                raise RateLimited(delay, endpoint=host)
            self._next_slot[host] = slot + self.interval
            if delay > 0:
                await self.sleep(delay)
            return delay


class EndpointBudget:
    """One endpoint's allowance: `per_window` requests in any `window` seconds, and a pause after a 429."""

    def __init__(
        self, per_window: int = WINDOW_REQUESTS, window: float = WINDOW_SECONDS, clock: Clock = time.monotonic
    ):
        self.per_window = per_window
        self.window = window
        self.clock = clock
        self.sent: deque[float] = deque()
        self.blocked_until = 0.0

    def wait_needed(self) -> float:
        now = self.clock()
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        full = self.sent[0] + self.window - now if len(self.sent) >= self.per_window else 0.0
        return max(0.0, self.blocked_until - now, full)

    def record(self) -> None:
        self.sent.append(self.clock())

    def after_429(self, retry_after: float | None) -> float:
        """Pause this endpoint; returns for how long. Without Retry-After, instaloader's figure (>= 11 minutes)."""
        now = self.clock()
        if retry_after is None:
            oldest = self.sent[0] if self.sent else now
            pause = max(oldest + self.window + AFTER_429_SLACK - now, self.window)
        else:
            pause = retry_after
        self.blocked_until = max(self.blocked_until, now + pause)
        return pause


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
    """The one HTTP client of a process. `get` returns 2xx-4xx answers; 5xx and network faults are retried."""

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
        source: SourceKind = "instagram",
        clock: Clock = time.monotonic,
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(10.0, timeout_seconds))
        self.limiter = limiter or RateLimiter(requests_per_minute, clock=clock, sleep=sleep)
        # Photos come from CDN hosts built to serve them; 20 a minute would make a first fetch take a minute.
        self.media_limiter = media_limiter or RateLimiter(media_requests_per_minute, clock=clock, sleep=sleep)
        self.retry = retry
        self.sleep = sleep
        self.rand = rand
        self.clock = clock
        self.connections = connections
        self.connections_per_host = connections_per_host
        self.source: SourceKind = source
        self.budgets: dict[str, EndpointBudget] = {}
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

    def budget(self, endpoint: str) -> EndpointBudget:
        return self.budgets.setdefault(endpoint, EndpointBudget(clock=self.clock))

    async def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        max_bytes: int = MAX_BODY_BYTES,
        media: bool = False,
        endpoint: str | None = None,
        wait_until: float | None = None,
    ) -> HttpResponse:
        """GET with retries, within `retry.max_wait` seconds of waiting; `media=True` for photo downloads.

        `endpoint` names the budget the request counts against (default: the URL's path). `wait_until` (on
        this client's clock) shares one wait limit among the requests of one answer.
        """
        parts = urlsplit(url)
        host = parts.netloc
        limiter = self.media_limiter if media else self.limiter
        budget = None if media else self.budget(endpoint or parts.path)
        allowance = self.retry.max_wait
        if wait_until is not None:
            allowance = max(0.0, min(allowance, wait_until - self.clock()))
        problem = "no answer"
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            if budget is not None:
                needed = budget.wait_needed()
                if needed > allowance:
                    raise RateLimited(needed, self.source, endpoint or parts.path)
                if needed > 0:
                    await self.sleep(needed)
                    allowance -= needed
                budget.record()
            try:
                allowance -= await limiter.wait(host, allowance)
            except RateLimited:
                if attempt == 0:
                    raise
                break  # retrying would take longer than anyone should wait
            try:
                response = await self._send(url, params, headers, cookies, max_bytes)
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                problem = (
                    "it took too long to answer" if isinstance(error, asyncio.TimeoutError) else "connection failed"
                )
                log.info("GET %s failed (%s: %s), attempt %d", url, type(error).__name__, error, attempt + 1)
                allowance = await self._back_off(attempt, last, allowance)
                if allowance <= 0:
                    break
                continue
            if response.status == 429:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                pause = budget.after_429(wait) if budget is not None else (wait or 60.0)
                log.info("GET %s: 429 (Retry-After %s); endpoint paused %.0f s", url, wait, pause)
                if wait is None or wait > allowance or last or budget is None:
                    raise RateLimited(pause, self.source, endpoint or parts.path)
                continue  # the budget now holds the retry back by `wait`
            if response.status >= 500:
                problem = f"it answered {response.status}"
                log.info("GET %s: %d, attempt %d", url, response.status, attempt + 1)
                allowance = await self._back_off(attempt, last, allowance)
                if allowance <= 0:
                    break
                continue
            return response
        raise SourceUnavailable(problem, self.source)

    async def _back_off(self, attempt: int, last: bool, allowance: float) -> float:
        if last:
            return allowance
        delay = min(self.retry.backoff(attempt, self.rand), max(allowance, 0.0))
        await self.sleep(delay)
        return allowance - delay

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
                    raise SourceUnavailable(f"the answer is larger than {max_bytes // 1024} KB", self.source)
                chunks.append(chunk)
            return HttpResponse(response.status, b"".join(chunks), str(response.url), response.headers.copy())
