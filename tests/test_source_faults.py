"""Instagram misbehaving during `/handle`, through the real bot: 429, 5xx, time-outs and garbage.

The bot's account source is the real Instagram web source pointed at the local fake Instagram. Users get
a short plain answer; a cached copy, when there is one, is served stale and says so; a failed fetch
writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.paths import DEMO_SAMPLES
from core.settings import SourceSetting
from store import Store
from tests.botapi import LocalBotApi, running_bot
from tests.fake_instagram import (
    FakeInstagram,
    Fault,
    RecordedSleep,
    graph_node,
    jpeg_bytes,
    make_client,
    profile_html,
    profile_json,
    running_fake_instagram,
    web_source,
)
from tests.test_bot import bot_settings

CHAT = 6060
HANDLE = "sunny.day"
ATTEMPTS = 3  # the HTTP client's retries: a fault must last this many requests to reach the user

FIRST_FETCH_FAULTS = {
    "429 with Retry-After": ([Fault(status=429, headers={"Retry-After": "30"})] * ATTEMPTS, "asking me to slow down"),
    "500": ([Fault(status=500)] * ATTEMPTS, "can't reach Instagram"),
    "503": ([Fault(status=503)] * ATTEMPTS, "can't reach Instagram"),
    "time-out": ([Fault(hang=True)] * ATTEMPTS, "can't reach Instagram"),
    "garbage": ([Fault(status=200, body=b"\x00\xffnot json{{")] * ATTEMPTS, "don't understand"),
    "truncated JSON": ([Fault(truncate=True)] * ATTEMPTS, "don't understand"),
}


def sunny(fake: FakeInstagram, followers: int) -> None:
    nodes = []
    for i in range(6):
        fake.images[f"s{i}"] = jpeg_bytes((30 * i, 120, 200), size=64)
        nodes.append(
            graph_node(
                f"s{i}", days_ago=2 * i, likes=200 + 10 * i, caption="#sunset #beach", image=fake.image_url(f"s{i}")
            )
        )
    fake.profiles[HANDLE] = profile_json(HANDLE, followers, 150, 90, nodes)
    fake.pages[HANDLE] = profile_html(f"{followers:,}", username=HANDLE)


@pytest.fixture
async def fake() -> AsyncIterator[FakeInstagram]:
    async with running_fake_instagram() as server:
        sunny(server, followers=4000)
        yield server


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as local:
        yield local


@pytest.fixture
async def bot(server: LocalBotApi, fake: FakeInstagram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Every /handle asks the source (cache lifetime 0), so each fault is met; sleeps between retries are skipped.
    monkeypatch.setattr(
        "scraping.service.source_from_settings",
        lambda settings: web_source(fake, make_client(RecordedSleep(), timeout=0.5, attempts=ATTEMPTS)),
    )
    settings = bot_settings(server, tmp_path, source=SourceSetting("instagram"), cache_hours=0.0)
    async with running_bot(settings):
        yield settings


async def handle_reply(server: LocalBotApi) -> str:
    server.send_text(CHAT, f"/handle {HANDLE}")
    [reply] = await server.next_messages(CHAT, timeout=60)
    return reply.plain_text


async def test_faults_on_a_first_fetch_get_a_plain_answer_and_write_nothing(
    server: LocalBotApi, fake: FakeInstagram, bot
) -> None:
    for name, (faults, expected) in FIRST_FETCH_FAULTS.items():
        fake.faults.clear()
        fake.fail("profile", *faults)
        fake.fail("page", Fault(status=200, body=b"<html><head><title>Instagram</title></head></html>"))
        text = await handle_reply(server)
        assert expected in text, (name, text)
        assert len(text) < 200 and "Traceback" not in text, (name, text)
    store = Store.open(bot.db_path, bot.images_dir)
    try:
        assert store.accounts.get(HANDLE) is None
        assert store.accounts.recent_posts(HANDLE) == []
        assert store.chats.handle(CHAT) is None
        assert store.integrity_check() == "ok"
    finally:
        store.close()


async def test_with_a_cached_copy_every_fault_serves_the_stale_figures_and_says_so(
    server: LocalBotApi, fake: FakeInstagram, bot
) -> None:
    assert "Followers: 4,000" in await handle_reply(server)
    sunny(fake, followers=9999)  # what a successful refresh would show
    for name, (faults, _) in FIRST_FETCH_FAULTS.items():
        fake.faults.clear()
        fake.fail("profile", *faults)
        fake.fail("page", Fault(status=500), Fault(status=500), Fault(status=500))
        text = await handle_reply(server)
        assert "Followers: 4,000" in text and "Could not refresh just now" in text, (name, text)

    fake.faults.clear()
    fake.fail("profile", *[Fault(status=502)] * (2 * ATTEMPTS))  # photos are predicted from the stale copy too
    server.send_photo(CHAT, (DEMO_SAMPLES / "valley.jpg").read_bytes())
    [answer] = await server.next_messages(CHAT, timeout=60)
    assert "this photo should get about" in answer.plain_text

    fake.faults.clear()
    text = await handle_reply(server)
    assert "Followers: 9,999" in text and "Fetched just now" in text
    store = Store.open(bot.db_path, bot.images_dir)
    try:
        cached = store.accounts.get(HANDLE)
        assert cached is not None and cached.account.followers == 9999 and len(cached.account.posts) == 6
    finally:
        store.close()
