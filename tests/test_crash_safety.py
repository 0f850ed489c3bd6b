"""`kill -9` in the middle of `/best`: every draft the bot acknowledged is still there after a restart,
and the interrupted `/best` is answered by the restarted bot."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from core.paths import DEMO_DIR, DEMO_HANDLE, DEMO_SAMPLES
from store import Store
from tests.test_bot_process import bot_environment
from tests.test_telegram_faults import FaultyBotApi

CHAT = 8080
ALBUM = [DEMO_DIR / "images" / f"brunch_club_0{i}.jpg" for i in range(3)]
SINGLES = sorted(DEMO_SAMPLES.glob("*.jpg"))[:2]


async def start_bot(env: dict[str, str], tmp_path: Path, log_name: str) -> asyncio.subprocess.Process:
    with (tmp_path / log_name).open("wb") as log:  # a file, not a pipe nobody reads while the bot runs
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=log, stderr=log
        )


async def replies(
    server: FaultyBotApi, bot: asyncio.subprocess.Process, log: Path, n: int = 1, timeout: float = 90
) -> list:
    """The bot's next `n` messages to CHAT; fails at once, with the bot's log, if the bot exits instead."""
    waiting = asyncio.ensure_future(server.next_messages(CHAT, n, timeout=timeout))
    exited = asyncio.ensure_future(bot.wait())
    await asyncio.wait([waiting, exited], return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        raise AssertionError(f"the bot exited ({bot.returncode}):\n{log.read_text()[-3000:]}")
    exited.cancel()
    return waiting.result()


async def kill_9_while_fetching(server: FaultyBotApi, bot: asyncio.subprocess.Process) -> None:
    """kill -9 once the bot is fetching a file and Telegram counts every update sent so far as delivered."""
    await asyncio.wait_for(server.arrived["getFile"].wait(), timeout=60)
    await server.wait_until(lambda: server.unconfirmed_updates() == 0, timeout=30)
    bot.send_signal(signal.SIGKILL)
    await asyncio.wait_for(bot.wait(), timeout=30)


async def stop_bot(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    if process.returncode is None:
        process.send_signal(sig)
    await asyncio.wait_for(process.wait(), timeout=60)


async def test_kill_9_mid_best_keeps_every_acknowledged_draft_and_best_completes_after_restart(tmp_path: Path) -> None:
    async with FaultyBotApi(token="888000:crash-test-token") as server:
        # Made once: making it again would put a fresh database in place of the one under test.
        env = bot_environment(server, tmp_path) | {"LIKEPREDICT_LOG_LEVEL": "INFO"}
        bot = await start_bot(env, tmp_path, "first.log")
        first_log = tmp_path / "first.log"
        try:
            server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
            await replies(server, bot, first_log)
            server.send_album(CHAT, [p.read_bytes() for p in ALBUM])
            [album_saved] = await replies(server, bot, first_log)
            assert "3 drafts saved" in album_saved.plain_text
            for path in SINGLES:
                server.send_photo(CHAT, path.read_bytes())
                [answer] = await replies(server, bot, first_log)
                assert "this photo should get about" in answer.plain_text
            acknowledged = len(ALBUM) + len(SINGLES)

            server.hold("sendMessage")  # the bot is inside /best, about to show its progress
            server.send_text(CHAT, "/best")
            await asyncio.wait_for(server.arrived["sendMessage"].wait(), timeout=60)
            await server.wait_until(lambda: server.unconfirmed_updates() == 0, timeout=30)
            bot.send_signal(signal.SIGKILL)
            await asyncio.wait_for(bot.wait(), timeout=30)
            assert bot.returncode == -signal.SIGKILL
        finally:
            await stop_bot(bot, signal.SIGKILL)
        server.release("sendMessage")

        store = Store.open(tmp_path / "bot.sqlite3", tmp_path / "data" / "images")
        try:
            assert store.integrity_check() == "ok"
            assert store.drafts.count(CHAT) == acknowledged
            assert all(d.image_path.is_file() for d in store.drafts.of_chat(CHAT))
            assert [chat for _, chat in store.best_requests.unfinished()] == [CHAT]
        finally:
            store.close()
        assert await server.no_more_messages(CHAT, wait=0.1) == []  # the held progress message was never shown

        restarted = await start_bot(env, tmp_path, "second.log")
        try:
            resumed, progress, picture = await replies(server, restarted, tmp_path / "second.log", 3, timeout=120)
            assert "I restarted while ranking" in resumed.plain_text
            assert progress.plain_text == f"Scored all {acknowledged} drafts. ✅"
            assert picture.method == "sendPhoto" and "Post #1: about" in picture.plain_text
            assert await server.no_more_messages(CHAT, wait=1.0) == []  # answered once, not twice
        finally:
            await stop_bot(restarted, signal.SIGTERM)
        assert restarted.returncode == 0, (tmp_path / "second.log").read_text()[-2000:]

    store = Store.open(tmp_path / "bot.sqlite3", tmp_path / "data" / "images")
    try:
        assert store.best_requests.unfinished() == []
        assert store.drafts.count(CHAT) == acknowledged
    finally:
        store.close()


async def test_kill_9_while_a_photo_downloads_answers_it_once_after_restart(tmp_path: Path) -> None:
    """Issue #15: a photo in flight at kill -9 was never answered (Telegram had counted it delivered)."""
    async with FaultyBotApi(token="888001:crash-photo-token") as server:
        env = bot_environment(server, tmp_path) | {"LIKEPREDICT_LOG_LEVEL": "INFO"}
        bot = await start_bot(env, tmp_path, "first.log")
        try:
            server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
            await replies(server, bot, tmp_path / "first.log")
            server.hold("getFile")  # the bot has the photo's update and is fetching the file
            photo_message = server.send_photo(CHAT, SINGLES[0].read_bytes())
            await kill_9_while_fetching(server, bot)
        finally:
            await stop_bot(bot, signal.SIGKILL)
        server.release("getFile")
        store = Store.open(tmp_path / "bot.sqlite3", tmp_path / "data" / "images")
        try:
            assert [(r.chat_id, r.message_id) for r in store.photo_requests.unfinished()] == [(CHAT, photo_message)]
        finally:
            store.close()

        restarted = await start_bot(env, tmp_path, "second.log")
        try:
            [answer] = await replies(server, restarted, tmp_path / "second.log", timeout=120)
            assert "this photo should get about" in answer.plain_text
            assert answer.reply_to_message_id == photo_message
            assert await server.no_more_messages(CHAT, wait=1.0) == []  # answered once, not twice
        finally:
            await stop_bot(restarted, signal.SIGTERM)

    store = Store.open(tmp_path / "bot.sqlite3", tmp_path / "data" / "images")
    try:
        assert store.photo_requests.unfinished() == [] and store.drafts.count(CHAT) == 1
    finally:
        store.close()
