"""Albums arrive as separate updates sharing a `media_group_id`: gather them and answer once.

Each photo of a group (re)arms a short timer; when no photo of the group has come for `wait` seconds, an
`AlbumComplete` job is handed to `on_done` (the application's update queue), which answers it in the chat's turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.jobs import AlbumComplete
from core.errors import LikepredictError


@dataclass
class PendingAlbum:
    chat_id: int
    media_group_id: str
    saved: int = 0
    refused: list[LikepredictError] = field(default_factory=list)
    request_ids: list[int] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class AlbumCollector:
    """Collects the photos of each (chat, media group); hands one `AlbumComplete` per album to `on_done`."""

    def __init__(self, on_done: Callable[[AlbumComplete], None], wait: float) -> None:
        self.on_done = on_done
        self.wait = wait
        self._pending: dict[tuple[int, str], PendingAlbum] = {}

    def add(
        self, chat_id: int, media_group_id: str, request_id: int | None = None, refused: LikepredictError | None = None
    ) -> None:
        """One photo of the album (its photo request `request_id`): kept as a draft, or `refused` with that error."""
        key = (chat_id, media_group_id)
        album = self._pending.setdefault(key, PendingAlbum(chat_id, media_group_id))
        if request_id is not None:
            album.request_ids.append(request_id)
        if refused is None:
            album.saved += 1
        else:
            album.refused.append(refused)
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.get_running_loop().call_later(self.wait, self._finish, key)

    def _finish(self, key: tuple[int, str]) -> None:
        album = self._pending.pop(key, None)
        if album is not None:
            done = AlbumComplete(
                album.chat_id, album.media_group_id, album.saved, tuple(album.refused), tuple(album.request_ids)
            )
            self.on_done(done)

    def forget_chat(self, chat_id: int) -> None:
        for key in [k for k in self._pending if k[0] == chat_id]:
            album = self._pending.pop(key)
            if album.timer is not None:
                album.timer.cancel()

    def close(self) -> None:
        for album in self._pending.values():
            if album.timer is not None:
                album.timer.cancel()
        self._pending.clear()
