"""Many chats at once, each chat's own updates in order: a per-chat lock around each update."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import BaseUpdateProcessor

from bot.jobs import chat_of

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates (and jobs) of different chats run concurrently, up to `max_concurrent_updates`; one chat's run one
    at a time, in the order they arrived (asyncio locks are first come, first served).

    The chat's lock is taken before a concurrency slot, so a chat flooding the bot queues on its own lock
    instead of holding every slot. PTB takes its own semaphore before calling `do_process_update`, which
    would be the other way round; it is therefore made unbounded and the slots are counted here.
    """

    def __init__(self, max_concurrent_updates: int = 32) -> None:
        super().__init__(sys.maxsize)
        self.slots = max_concurrent_updates
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        # Run for each update as it arrives, before it waits for its chat (bot.photos.record_arrival).
        self.on_arrival: Callable[[object], Awaitable[None]] | None = None

    @property
    def waiting(self) -> int:
        """Updates accepted but not finished, those running included."""
        return sum(users for _, users in self._locks.values())

    @asynccontextmanager
    async def _turn(self, chat_id: int | None) -> AsyncIterator[None]:
        if chat_id is None:
            yield
            return
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Started before the chat's lock is asked for, and that with no await in between: the chat's order is
        # the order updates arrive in, however long each one's arrival work takes.
        arrived = asyncio.ensure_future(self.on_arrival(update)) if self.on_arrival is not None else None
        async with self._turn(chat_of(update)):
            if arrived is not None:
                try:
                    await arrived
                except Exception:  # a bug in the arrival work must not cost the update its answer
                    log.exception("arrival work for an update failed")
            async with self._slots:
                await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
