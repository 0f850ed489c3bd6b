"""`kill -9` in the middle of an album: the photos Telegram counted delivered are all taken after the restart and
the album is answered exactly once (issue #15: only single photos were recorded before the work)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from aiohttp import web

from core.paths import DEMO_HANDLE
from store import Store
from tests.test_bot_process import bot_environment
from tests.test_crash_safety import ALBUM, CHAT, kill_9_while_fetching, replies, start_bot, stop_bot
from tests.test_telegram_faults import FaultyBotApi


class HoldsALaterFile(FaultyBotApi):
    """Answers the first `answered` getFile calls, then holds the next one (once) until released."""

    def __init__(self, answered: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answered_before_hold: int | None = answered

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] == "getFile" and self.answered_before_hold is not None:
            if self.answered_before_hold == 0:
                self.answered_before_hold = None
                self.hold("getFile")
            else:
                self.answered_before_hold -= 1
        return await super()._handle_method(request)


def open_store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "bot.sqlite3", tmp_path / "data" / "images")


async def test_kill_9_mid_album_takes_every_photo_after_restart_and_answers_the_album_once(tmp_path: Path) -> None:
    async with HoldsALaterFile(answered=1, token="888002:crash-album-token") as server:
        env = bot_environment(server, tmp_path) | {"LIKEPREDICT_LOG_LEVEL": "INFO"}
        bot = await start_bot(env, tmp_path, "first.log")
        try:
            server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
            await replies(server, bot, tmp_path / "first.log")
            album = server.send_album(CHAT, [p.read_bytes() for p in ALBUM])
            # The second photo is being fetched, the first is kept, the third waits for its turn in the chat.
            await kill_9_while_fetching(server, bot)
        finally:
            await stop_bot(bot, signal.SIGKILL)
        server.release("getFile")
        store = open_store(tmp_path)
        try:
            assert store.drafts.count(CHAT) == 1
            assert [(r.message_id, r.media_group_id) for r in store.photo_requests.unfinished()] == [
                (message, "album-1") for message in album
            ]
        finally:
            store.close()
        assert await server.no_more_messages(CHAT, wait=0.1) == []  # the album was not answered

        restarted = await start_bot(env, tmp_path, "second.log")
        try:
            [saved] = await replies(server, restarted, tmp_path / "second.log", timeout=120)
            assert "3 drafts saved" in saved.plain_text
            assert await server.no_more_messages(CHAT, wait=2.0) == []  # answered once, not once per photo
        finally:
            await stop_bot(restarted, signal.SIGTERM)
        assert restarted.returncode == 0, (tmp_path / "second.log").read_text()[-2000:]

    store = open_store(tmp_path)
    try:
        assert store.photo_requests.unfinished() == [] and store.drafts.count(CHAT) == len(ALBUM)
    finally:
        store.close()
