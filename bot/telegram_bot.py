"""The bot's `ExtBot`: every call to Telegram passes `_do_post`, so Telegram's limits are kept there, once.

- Texts over 4,096 characters and captions over 1,024 (pop-up answers over 200) are cut, markup kept whole,
  so no handler can forget and no user sees "Something went wrong" for a long echo.
- An update this python-telegram-bot cannot parse (say, an old-shape poll from an older self-hosted Bot API
  server) would make PTB refuse the whole getUpdates batch, and the Updater fetch it again forever. PTB offers
  no hook between the answer and its parsing, so the answer is checked here, update by update: one that does
  not parse is logged once and handed on as a bare update with only its id. No handler matches it, and the
  Updater's next offset acknowledges it, so Telegram does not send it again and the rest of the batch is handled.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram._utils.types import JSONDict, ODVInput  # the types of `_do_post`'s signature, which this overrides
from telegram.constants import MessageLimit, ParseMode
from telegram.ext import AIORateLimiter, Defaults, ExtBot
from telegram.request import BaseRequest

from bot.telegram_http import SEND_TIMEOUT_SECONDS, TelegramRequest
from core.settings import Settings

log = logging.getLogger(__name__)

POPUP_LIMIT = 200  # answerCallbackQuery's text
_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>|&#?\w+;|[^<&]")


def shown_length(text: str) -> int:
    """Characters as Telegram counts them against its limits: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def cut_html(text: str, limit: int) -> str:
    """Telegram HTML showing at most `limit` characters: cut with an ellipsis, tags left open closed again."""
    if shown_length(text) <= limit:  # markup only adds characters: shown, it is shorter still (the usual case)
        return text
    tokens = [(m.group(0), m.group(1), m.group(2)) for m in _HTML_TOKEN.finditer(text)]
    widths = [0 if tag else (1 if token.startswith("&") else shown_length(token)) for token, _, tag in tokens]
    if sum(widths) <= limit:
        return text
    kept: list[str] = []
    open_tags: list[str] = []
    room = limit - 1  # for the ellipsis
    for (token, closing, tag), width in zip(tokens, widths):
        if tag:
            if closing and tag.lower() in open_tags:
                del open_tags[len(open_tags) - 1 - open_tags[::-1].index(tag.lower())]
            elif not closing:
                open_tags.append(tag.lower())
        elif width > room:
            break
        room -= width
        kept.append(token)
    return "".join(kept) + "…" + "".join(f"</{tag}>" for tag in reversed(open_tags))


def cut_plain(text: str, limit: int) -> str:
    if shown_length(text) <= limit:
        return text
    kept = []
    room = limit - 1
    for char in text:
        room -= shown_length(char)
        if room < 0:
            break
        kept.append(char)
    return "".join(kept) + "…"


def within_limits(endpoint: str, data: JSONDict) -> JSONDict:
    """`data` of a Bot API call with its text or caption cut to what Telegram takes."""
    limits = {"text": POPUP_LIMIT if endpoint == "answerCallbackQuery" else MessageLimit.MAX_TEXT_LENGTH}
    limits["caption"] = MessageLimit.CAPTION_LENGTH
    cut = cut_html if str(data.get("parse_mode", "")).upper() == "HTML" else cut_plain
    changed = {key: cut(data[key], limit) for key, limit in limits.items() if isinstance(data.get(key), str)}
    return {**data, **changed} if changed else data


class LikepredictBot(ExtBot[Any]):
    """`ExtBot` keeping Telegram's limits on what is sent and skipping updates that cannot be parsed."""

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        result = await super()._do_post(
            endpoint,
            within_limits(endpoint, data),
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if endpoint == "getUpdates" and isinstance(result, list):
            return [self._parsable(raw) for raw in result]
        return result

    def _parsable(self, raw: JSONDict) -> JSONDict:
        try:
            Update.de_json(raw, self)
        except Exception as error:  # whatever PTB raises on a shape it does not know
            update_id = raw.get("update_id")
            kinds = sorted(key for key in raw if key != "update_id")
            log.warning("skipped update %s (%s): cannot parse it: %s", update_id, ", ".join(kinds), error)
            return {"update_id": update_id}
        return raw


CONNECTION_POOL_SIZE = 256  # PTB's default for the bot's requests (getUpdates has its own connection)
FLOOD_RETRIES = 3  # times a request Telegram refused with 429 is sent again, after the wait it asked for


def build_bot(token: str, settings: Settings) -> LikepredictBot:
    """The bot as `python -m bot` talks to Telegram: its requests, HTML by default, flood control."""
    return LikepredictBot(
        token,
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_base_url,
        request=TelegramRequest(
            connection_pool_size=CONNECTION_POOL_SIZE,
            read_timeout=SEND_TIMEOUT_SECONDS,
            write_timeout=SEND_TIMEOUT_SECONDS,
            media_write_timeout=SEND_TIMEOUT_SECONDS,
        ),
        get_updates_request=TelegramRequest(),
        defaults=Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)),
        rate_limiter=AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=FLOOD_RETRIES),
    )
