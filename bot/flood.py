"""Obeying Telegram's flood control: on `RetryAfter`, every request waits the time Telegram asked, then retries.

PTB's own `AIORateLimiter` does this too but needs the `aiolimiter` extra and throttles every request up
front; a bot that answers its users one message at a time only needs to react when Telegram says so.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Waits before retrying a request that never reached Telegram (a 502 from its front end, a dropped connection).
NETWORK_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta; both are handled
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class RetryAfterLimiter(BaseRateLimiter[None]):
    """Retries a request Telegram refused with `RetryAfter`, after the wait it asked for (up to `max_retries`),
    and one that never reached it (502, a dropped connection) after a short pause.

    While one request waits, all others wait too: flood control applies to the bot, not to one call.
    """

    def __init__(self, max_retries: int = 3) -> None:
        self.max_retries = max_retries
        self._resume_at = 0.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        for attempt in range(self.max_retries + 1):
            pause = self._resume_at - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == self.max_retries:
                    raise
                wait = retry_seconds(error)
                log.warning("Telegram flood control on %s: waiting %.1f s before retrying", endpoint, wait)
                self._resume_at = max(self._resume_at, time.monotonic() + wait)
            except (BadRequest, TimedOut):
                # Refused for good, or timed out after sending: Telegram may have acted, a retry could say it twice.
                raise
            except NetworkError as error:
                if attempt == self.max_retries:
                    raise
                wait = NETWORK_RETRY_DELAYS[min(attempt, len(NETWORK_RETRY_DELAYS) - 1)]
                log.warning("Telegram unreachable on %s (%s): retrying in %.1f s", endpoint, error, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")
