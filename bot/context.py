"""The bot's services, kept in `application.bot_data` and read back through one typed accessor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.settings import Settings

if TYPE_CHECKING:
    from app.service import Service
    from bot.albums import AlbumCollector
    from bot.limits import SlidingWindowLimit
    from bot.ordering import PerChatUpdateProcessor

STATE_KEY = "likepredict"


@dataclass
class BotState:
    settings: Settings
    service: Service
    photo_limit: SlidingWindowLimit
    albums: AlbumCollector
    ordering: PerChatUpdateProcessor


def bot_state(context: Any) -> BotState:
    """The state of a running bot, from a handler's `context` (or an `Application`)."""
    bot_data = context.bot_data
    state = bot_data.get(STATE_KEY)
    if not isinstance(state, BotState):
        raise RuntimeError("the bot's services are not open (post_init has not run)")
    return state
