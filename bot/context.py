"""The bot's services, kept in `application.bot_data` and read by handlers through a typed context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from core.settings import Settings

if TYPE_CHECKING:
    from app.service import Service
    from bot.albums import AlbumCollector
    from bot.limits import SlidingWindowLimit

STATE_KEY = "likepredict"


@dataclass
class BotState:
    settings: Settings
    service: Service
    photo_limit: SlidingWindowLimit
    albums: AlbumCollector
    # (chat, message) -> the photo request recorded as the update arrived, for its handler to take over
    arrived_photos: dict[tuple[int, int], int] = field(default_factory=dict)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The `context` every handler gets: PTB's, plus the services the bot opened in `post_init`."""

    @property
    def state(self) -> BotState:
        return state_of(self.bot_data)

    @property
    def service(self) -> Service:
        return self.state.service

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def photo_limit(self) -> SlidingWindowLimit:
        return self.state.photo_limit

    @property
    def albums(self) -> AlbumCollector:
        return self.state.albums


CONTEXT_TYPES = ContextTypes(context=BotContext)
BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


def state_of(bot_data: Mapping[Any, Any]) -> BotState:
    """The running bot's state, from `application.bot_data` (or a context's)."""
    state = bot_data.get(STATE_KEY)
    if not isinstance(state, BotState):
        raise RuntimeError("the bot's services are not open (post_init has not run)")
    return state
