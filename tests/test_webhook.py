"""Webhook mode: the real bot (built as `python -m bot` builds it) serving its webhook over real HTTP, the local
Bot API server standing in for Telegram. Updates are taken from the stand-in and POSTed to the bot as Telegram
would, with or without the secret token."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest

from bot.app import build_application
from bot.webhook import SECRET_HEADER, HttpServer, webhook_bot
from core.paths import DEMO_DIR, DEMO_HANDLE, DEMO_SAMPLES
from core.settings import Settings, SettingsError
from store import Store
from tests.botapi import LocalBotApi
from tests.test_bot import bot_settings
from tests.test_bot_process import bot_environment

CHAT = 3003
OTHER_CHAT = 4004
SECRET = "webhook-secret_for-tests"
PUBLIC_URL = "https://bot.example.com/telegram/hook"
T = TypeVar("T")
SAMPLE = sorted(DEMO_SAMPLES.glob("*.jpg"))[0]
DRAFT_IMAGES = [DEMO_DIR / "images" / f"brunch_club_0{i}.jpg" for i in range(2)]


@pytest.fixture
def settings(server: LocalBotApi, tmp_path: Path) -> Settings:
    return bot_settings(server, tmp_path, webhook_url=PUBLIC_URL, webhook_port=0, webhook_secret=SECRET)


@asynccontextmanager
async def webhook_running(settings: Settings) -> AsyncIterator[HttpServer]:
    async with webhook_bot(build_application(settings), settings) as http:
        yield http


async def deliver(server: LocalBotApi, http: HttpServer, secret: str | None = SECRET) -> list[int]:
    """POST every update the users made since the last delivery to the bot's webhook; the HTTP statuses."""
    headers = {} if secret is None else {SECRET_HEADER: secret}
    statuses = []
    async with aiohttp.ClientSession() as session:
        for update in server.take_updates():
            url = f"http://127.0.0.1:{http.port}/telegram/hook"
            async with session.post(url, json=update, headers=headers) as response:
                statuses.append(response.status)
    return statuses


async def test_start_sets_the_webhook_with_the_public_url_and_the_secret(
    server: LocalBotApi, settings: Settings
) -> None:
    async with webhook_running(settings):
        assert server.webhook is not None
        assert server.webhook["url"] == PUBLIC_URL
        assert server.webhook["secret_token"] == SECRET
        assert "message" in server.webhook["allowed_updates"]
        assert "getUpdates" not in server.calls  # no polling beside the webhook


async def test_an_update_with_the_right_secret_is_answered(server: LocalBotApi, settings: Settings) -> None:
    async with webhook_running(settings) as http:
        server.send_text(CHAT, "/start")
        assert await deliver(server, http) == [200]
        [welcome] = await server.next_messages(CHAT)
        assert "predict how many likes" in welcome.plain_text


@pytest.mark.parametrize("secret", [None, "wrong-secret", SECRET + "x", ""])
async def test_a_wrong_or_missing_secret_gets_403_and_nothing_is_processed(
    server: LocalBotApi, settings: Settings, secret: str | None
) -> None:
    async with webhook_running(settings) as http:
        server.send_text(CHAT, "/start")
        assert await deliver(server, http, secret) == [403]
        server.send_text(CHAT, "/help")  # the same chat, delivered properly: the bot is up and listening
        assert await deliver(server, http) == [200]
        [reply] = await server.next_messages(CHAT)
        assert "/best" in reply.plain_text and "predict how many likes" not in reply.plain_text
        assert await server.no_more_messages(CHAT) == []


async def test_a_body_that_is_not_an_update_gets_400(server: LocalBotApi, settings: Settings) -> None:
    async with webhook_running(settings) as http, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{http.port}/telegram/hook"
        async with session.post(url, data=b"not json", headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 400
        async with session.post(url, json=[1, 2], headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 400


async def test_an_update_the_library_cannot_read_is_acknowledged_and_the_next_answered(
    server: LocalBotApi, settings: Settings
) -> None:
    async with webhook_running(settings) as http, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{http.port}/telegram/hook"
        broken = {"update_id": 77, "message": {"message_id": 1}}  # no date, no chat
        async with session.post(url, json=broken, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200  # otherwise Telegram would send it again and again
        server.send_text(CHAT, "/start")
        assert await deliver(server, http) == [200]
        [welcome] = await server.next_messages(CHAT)
        assert "predict how many likes" in welcome.plain_text


async def test_one_chats_updates_are_answered_in_the_order_they_came(server: LocalBotApi, settings: Settings) -> None:
    async with webhook_running(settings) as http:
        server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
        await deliver(server, http)
        await server.next_messages(CHAT)
        server.send_photo(CHAT, SAMPLE.read_bytes())  # slow: download and inference
        server.send_text(CHAT, "/help")  # quick, but after the photo in this chat
        server.send_text(OTHER_CHAT, "/help")  # another chat need not wait
        assert await deliver(server, http) == [200, 200, 200]
        advice, help_reply = await server.next_messages(CHAT, 2)
        assert "this photo should get about" in advice.plain_text
        assert "/best" in help_reply.plain_text
        [other] = await server.next_messages(OTHER_CHAT)
        assert "/best" in other.plain_text


async def test_updates_acknowledged_just_before_a_stop_are_all_answered(
    server: LocalBotApi, settings: Settings
) -> None:
    async with webhook_running(settings) as http:
        server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
        await deliver(server, http)
        await server.next_messages(CHAT)
        for _ in range(3):
            server.send_photo(CHAT, SAMPLE.read_bytes())
        assert await deliver(server, http) == [200, 200, 200]
    answers = server.messages_to(CHAT)[1:]  # the stop waited for them: nothing more will come
    assert len(answers) == 3 and all("this photo should get about" in a.plain_text for a in answers)


async def test_a_best_interrupted_by_a_restart_is_answered_after_it(server: LocalBotApi, settings: Settings) -> None:
    async with webhook_running(settings) as http:
        server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
        server.send_album(CHAT, [path.read_bytes() for path in DRAFT_IMAGES])
        await deliver(server, http)
        _summary, saved = await server.next_messages(CHAT, 2)
        assert "2 drafts saved" in saved.plain_text
    in_store(settings, lambda store: store.best_requests.open(CHAT))  # as if it stopped before answering /best
    async with webhook_running(settings):
        resumed, _progress, picture = await server.next_messages(CHAT, 3)
        assert "I restarted while ranking" in resumed.plain_text and picture.method == "sendPhoto"
    assert in_store(settings, lambda store: store.best_requests.unfinished()) == []


def in_store(settings: Settings, action: Callable[[Store], T]) -> T:
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        return action(store)
    finally:
        store.close()


def test_webhook_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "LIKEPREDICT_WEBHOOK_URL": PUBLIC_URL,
        "LIKEPREDICT_WEBHOOK_LISTEN": "0.0.0.0",
        "LIKEPREDICT_WEBHOOK_PORT": "8088",
        "LIKEPREDICT_WEBHOOK_SECRET": SECRET,
        "LIKEPREDICT_METRICS_PORT": "9100",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(env_file=None)
    assert (settings.webhook_url, settings.webhook_listen, settings.webhook_port) == (PUBLIC_URL, "0.0.0.0", 8088)
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert settings.metrics_port == 9100
    assert SECRET not in repr(settings)


def test_without_a_secret_each_start_gets_a_random_one_telegram_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIKEPREDICT_WEBHOOK_SECRET", raising=False)
    first, second = (Settings.from_env(env_file=None).webhook_secret.get_secret_value() for _ in range(2))
    assert first != second
    assert len(first) >= 32 and all(c.isalnum() or c in "_-" for c in first)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("LIKEPREDICT_WEBHOOK_URL", "http://bot.example.com/hook", "https://"),
        ("LIKEPREDICT_WEBHOOK_PORT", "70000", "at most 65535"),
        ("LIKEPREDICT_WEBHOOK_SECRET", "has spaces in it", "letters, digits"),
    ],
)
def test_bad_webhook_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env_file=None)
    assert name in str(raised.value) and message in str(raised.value)
    if name == "LIKEPREDICT_WEBHOOK_SECRET":
        assert value not in str(raised.value)  # a secret is never echoed


async def test_python_m_bot_in_webhook_mode_answers_posted_updates_and_never_logs_the_secret(tmp_path: Path) -> None:
    async with LocalBotApi(token="777001:webhook-process-token") as server:
        port = free_port()
        env = bot_environment(server, tmp_path) | {
            "LIKEPREDICT_WEBHOOK_URL": PUBLIC_URL,
            "LIKEPREDICT_WEBHOOK_PORT": str(port),
            "LIKEPREDICT_WEBHOOK_SECRET": SECRET,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            await server.wait_until(lambda: server.webhook is not None, timeout=60, describe=lambda: "setWebhook")
            server.send_text(CHAT, "/start")
            async with aiohttp.ClientSession() as session:
                for update in server.take_updates():
                    url = f"http://127.0.0.1:{port}/telegram/hook"
                    async with session.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                        assert response.status == 200
            [welcome] = await server.next_messages(CHAT)
            assert "predict how many likes" in welcome.plain_text
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200 and (await response.json())["status"] == "ok"
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert "likepredict_webhook_requests_total" in await response.text()
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    assert "webhook" in log  # it did log, at DEBUG
    assert SECRET not in log and server.token not in log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
