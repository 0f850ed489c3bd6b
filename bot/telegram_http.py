"""Every HTTP request to Telegram (Bot API calls and file downloads) goes through `TelegramRequest`.

The one place that tries a request again when it did not get through. Flood control (429 with retry_after) is
PTB's `AIORateLimiter`, above this.

The rule, at most once and never silently lost: a call that only reads or whose repeat changes nothing
(`SAFE_TO_REPEAT`: getUpdates, getFile, chat actions, ...) and every file download is tried again whatever
went wrong. Any other call (sendMessage, sendPhoto, edits) is tried again only when Telegram cannot have acted
on it: the connection was never made (connect error or timeout, no free connection in the pool), or Telegram's
front answered 502/503 (the Bot API server behind it was not reached). A connection that dropped, or an answer
that did not come in time, after the request was written is not retried: Telegram may have sent the message,
and a prediction sent twice is worse than asking the user to send the photo again (the error handler does).
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from telegram._utils.types import ODVInput  # the timeout type of do_request's signature, which this overrides
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.errors import FileProblem, FileTooLarge, TelegramFileError

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)  # pauses before each new try
SAFE_TO_REPEAT = {
    "getUpdates",  # the offset makes a repeat return the same updates
    "getFile",
    "getMe",
    "getMyCommands",
    "setMyCommands",
    "getWebhookInfo",
    "deleteWebhook",
    "setWebhook",
    "sendChatAction",
}
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # nothing reached Telegram
NOT_DONE_STATUSES = {502, 503}  # Telegram's front could not hand the request to the Bot API server
# Sends carry photos (an upload of a few MB) and Telegram sometimes takes seconds to answer: a slow success
# must not be taken for a failure (PTB's default read timeout is 5 s), so the bot's requests wait this long.
SEND_TIMEOUT_SECONDS = 25.0


def endpoint_of(url: str, method: str) -> str:
    """What a request was for, fit for a log: the Bot API method, or "file download" (never the URL: it holds
    the token)."""
    return "file download" if method == "GET" else url.rsplit("/", 1)[-1]


def may_retry(endpoint: str, error: NetworkError | None = None, status: int | None = None) -> bool:
    """Whether a failed try of `endpoint` can be made again without risking Telegram acting twice."""
    if endpoint == "file download" or endpoint in SAFE_TO_REPEAT:
        return True
    if error is not None:
        return isinstance(error.__cause__, NOT_SENT_ERRORS)
    return status in NOT_DONE_STATUSES


class TelegramRequest(HTTPXRequest):
    """`HTTPXRequest` that retries, after `RETRY_DELAYS`, a request that did not get through (see the rule above)."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        endpoint = endpoint_of(url, method)
        for pause in (*RETRY_DELAYS, None):
            try:
                status, payload = await super().do_request(
                    url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
                )
            except NetworkError as error:
                if pause is None or not may_retry(endpoint, error=error):
                    raise
                log.warning("Telegram unreachable on %s (%s): retrying in %.1f s", endpoint, error, pause)
            else:
                if status < 500 or pause is None or not may_retry(endpoint, status=status):
                    return status, payload
                log.warning("Telegram answered %s on %s: retrying in %.1f s", status, endpoint, pause)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last try returns or raises")

    async def download(self, url: str, limit: int) -> bytes:
        """GET a file Telegram serves, never more than `limit` bytes whatever the update or getFile declared:
        the stream is dropped as soon as it passes the cap. Tried again, like any GET, when it fails on the way."""
        for pause in (*RETRY_DELAYS, None):
            try:
                status, data = await self._get_capped(url, limit)
            except httpx.TransportError as error:
                if pause is None:
                    kind = TimedOut if isinstance(error, httpx.TimeoutException) else NetworkError
                    raise kind(f"httpx.{type(error).__name__}: {error}") from error
                log.info("file download failed (%s): retrying in %.1f s", type(error).__name__, pause)
            else:
                if status == 200:
                    return data
                if status < 500 or pause is None:
                    raise TelegramFileError(FileProblem.UNAVAILABLE, f"the download answered HTTP {status}")
                log.info("file download answered %s: retrying in %.1f s", status, pause)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last try returns or raises")

    async def _get_capped(self, url: str, limit: int) -> tuple[int, bytes]:
        async with self._client.stream("GET", url, headers={"User-Agent": self.USER_AGENT}) as response:
            if response.status_code != 200:
                return response.status_code, b""
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FileTooLarge(int(declared), limit)
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise FileTooLarge(None, limit)
            return 200, bytes(data)
