"""Work for one chat that is not a Telegram update (an album's timer firing, a /best resumed after a restart).

Each is a small record put on `application.update_queue` and handled by a `TypeHandler`, as PTB's
customwebhookbot example does with its own updates, so per-chat ordering and the error handler treat it
like any update.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from core.errors import LikepredictError


@dataclass(frozen=True)
class ChatJob:
    chat_id: int


@dataclass(frozen=True)
class AlbumComplete(ChatJob):
    """No photo of the album has arrived for the album wait: answer it once."""

    media_group_id: str
    saved: int
    refused: tuple[LikepredictError, ...]  # why each photo not kept was refused
    request_ids: tuple[int, ...] = ()  # the album's photo requests, finished once the album is answered


@dataclass(frozen=True)
class ResumeBest(ChatJob):
    """A /best the store still holds open: the bot stopped before answering it."""

    request_id: int


@dataclass(frozen=True)
class AnswerPhoto(ChatJob):
    """A photo to answer, recorded in the store as request `request_id` until answered: made from a photo as it
    arrives, or at start-up from one a restart interrupted. An album's photo (`media_group_id`) is kept as a
    draft and answered with its album."""

    request_id: int
    message_id: int
    file_id: str
    file_unique_id: str
    suffix: str
    resumed: bool = False
    language: str | None = None  # the sender's Telegram language (a resumed request has none: times in UTC)
    media_group_id: str | None = None


def chat_of(update: object) -> int | None:
    """The chat an update or job belongs to (its turn in the per-chat order), if any."""
    if isinstance(update, ChatJob):
        return update.chat_id
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None
