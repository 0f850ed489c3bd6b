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
    CHECKPOINT,
    LOGIN_WALL,
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

# Faults after which the next request is made as usual.
PASSING_FAULTS = {
    "500": ([Fault(status=500)] * ATTEMPTS, "can't reach Instagram"),
    "503": ([Fault(status=503)] * ATTEMPTS, "can't reach Instagram"),
    "time-out": ([Fault(hang=True)] * ATTEMPTS, "can't reach Instagram"),
    "garbage": ([Fault(status=200, body=b"\x00\xffnot json{{")] * ATTEMPTS, "don't understand"),
    "truncated JSON": ([Fault(truncate=True)] * ATTEMPTS, "don't understand"),
}
# Answers that are remembered a while (for the handle; a 429 for the endpoint, so it comes last).
REMEMBERED_FAULTS = {
    "login wall": ([Fault(status=401, body=LOGIN_WALL)], "did not show me @sunny.day5's posts: it asks for a login"),
    "checkpoint": ([Fault(status=400, body=CHECKPOINT)], "it wants a security check (checkpoint) first"),
    "429 with Retry-After": ([Fault(status=429, headers={"Retry-After": "30"})], "try again in about 30 seconds"),
}
FIRST_FETCH_FAULTS = PASSING_FAULTS | REMEMBERED_FAULTS


def sunny(fake: FakeInstagram, followers: int, handle: str = HANDLE) -> None:
    nodes = []
    for i in range(6):
        fake.images[f"s{i}"] = jpeg_bytes((30 * i, 120, 200), size=64)
        nodes.append(
            graph_node(
                f"s{i}", days_ago=2 * i, likes=200 + 10 * i, caption="#sunset #beach", image=fake.image_url(f"s{i}")
            )
        )
    fake.profiles[handle] = profile_json(handle, followers, 150, 90, nodes)
    fake.pages[handle] = profile_html(f"{followers:,}", username=handle)


@pytest.fixture
async def fake() -> AsyncIterator[FakeInstagram]:
    async with running_fake_instagram() as server:
        sunny(server, followers=4000)
        yield server


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


def stored_followers_and_posts(settings) -> tuple[int, int] | None:
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        cached = store.accounts.get(HANDLE)
        return None if cached is None else (cached.account.followers, len(cached.account.posts))
    finally:
        store.close()


async def handle_reply(server: LocalBotApi, handle: str = HANDLE) -> str:
    server.send_text(CHAT, f"/handle {handle}")
    [reply] = await server.next_messages(CHAT, timeout=60)
    return reply.plain_text


async def test_faults_on_a_first_fetch_get_a_plain_answer_and_write_nothing(
    server: LocalBotApi, fake: FakeInstagram, bot
) -> None:
    handles = [f"{HANDLE}{i}" for i in range(len(FIRST_FETCH_FAULTS))]
    for handle, (name, (faults, expected)) in zip(handles, FIRST_FETCH_FAULTS.items()):
        sunny(fake, 4000, handle)
        fake.faults.clear()
        fake.fail("profile", *faults)
        fake.fail("page", Fault(status=200, body=b"<html><head><title>Instagram</title></head></html>"))
        text = await handle_reply(server, handle)
        assert expected in text, (name, text)
        assert len(text) < 400 and "Traceback" not in text, (name, text)
    store = Store.open(bot.db_path, bot.images_dir)
    try:
        assert all(store.accounts.get(handle) is None for handle in handles)
        assert all(store.accounts.recent_posts(handle) == [] for handle in handles)
        assert store.chats.handle(CHAT) is None
        assert store.integrity_check() == "ok"
    finally:
        store.close()


async def test_with_a_cached_copy_every_fault_serves_the_stale_figures_and_says_so(
    server: LocalBotApi, fake: FakeInstagram, bot
) -> None:
    assert "Followers: 4,000" in await handle_reply(server)
    sunny(fake, followers=9999)  # what a successful refresh would show
    for name, (faults, _) in PASSING_FAULTS.items():
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
    assert stored_followers_and_posts(bot) == (9999, 6)


async def test_a_login_wall_after_a_good_fetch_serves_the_good_copy_and_says_why(
    server: LocalBotApi, fake: FakeInstagram, bot
) -> None:
    assert "Followers: 4,000" in await handle_reply(server)
    fake.fail("profile", Fault(status=401, body=LOGIN_WALL))
    fake.pages[HANDLE] = profile_html("9,999", username=HANDLE)  # counts only: not taken for a fresh copy
    text = await handle_reply(server)
    assert "Followers: 4,000" in text
    assert "Could not refresh just now (Instagram showed no posts: it asks for a login)" in text
    assert stored_followers_and_posts(bot) == (4000, 6)  # the good copy, untouched
