"""Albums arrive as separate updates sharing a `media_group_id`: gather them and answer once.

Each photo of a group (re)arms a short timer; when no photo of the group has come for `wait` seconds,
the summary is sent. Timers are plain asyncio tasks, so no job queue is needed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ALBUM_WAIT_SECONDS = 1.0


@dataclass
class PendingAlbum:
    chat_id: int
    media_group_id: str
    saved: int = 0
    refused: list[str] = field(default_factory=list)  # the plain reason for each photo not kept
    timer: asyncio.Task[None] | None = None


AlbumDone = Callable[[PendingAlbum], Awaitable[None]]


class AlbumCollector:
    """Collects the photos of each (chat, media group); calls `on_done` once per album."""

    def __init__(self, on_done: AlbumDone, wait: float = ALBUM_WAIT_SECONDS) -> None:
        self.on_done = on_done
        self.wait = wait
        self._pending: dict[tuple[int, str], PendingAlbum] = {}

    def add(self, chat_id: int, media_group_id: str, saved: bool, refused_reason: str | None = None) -> None:
        key = (chat_id, media_group_id)
        album = self._pending.setdefault(key, PendingAlbum(chat_id, media_group_id))
        if saved:
            album.saved += 1
        if refused_reason:
            album.refused.append(refused_reason)
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.get_running_loop().create_task(self._finish_later(key), name=f"album {key}")

    async def _finish_later(self, key: tuple[int, str]) -> None:
        await asyncio.sleep(self.wait)
        album = self._pending.pop(key, None)
        if album is None:
            return
        try:
            await self.on_done(album)
        except Exception:
            log.exception("answering an album failed")

    def forget_chat(self, chat_id: int) -> None:
        for key in [k for k in self._pending if k[0] == chat_id]:
            album = self._pending.pop(key)
            if album.timer is not None:
                album.timer.cancel()

    async def aclose(self) -> None:
        timers = [a.timer for a in self._pending.values() if a.timer is not None]
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._pending.clear()
