"""Chats are isolated: whatever the sequence of updates, a chat never sees another chat's drafts, account
or predictions, and `/forget` leaves no row of that chat in any table."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.paths import DEMO_DIR, DEMO_SAMPLES
from core.settings import Settings
from store import Store
from tests.botapi import BotMessage, running_bot
from tests.test_bot import bot_settings
from tests.test_telegram_faults import FaultyBotApi

# Distinctive ids, so finding one in any column of any table can only mean that chat's row.
HANDLES = {918273645501: "demo_creator", 918273645502: "sandy_toes", 918273645503: "night_walker"}
CHATS = list(HANDLES)
PHOTOS = sorted(DEMO_SAMPLES.glob("*.jpg")) + [DEMO_DIR / "images" / f"brunch_club_0{i}.jpg" for i in range(3)]
STEPS = 30


@pytest.fixture
async def server() -> AsyncIterator[FaultyBotApi]:
    async with FaultyBotApi() as local:
        yield local


def open_store(settings: Settings) -> Store:
    return Store.open(settings.db_path, settings.images_dir)


def rows_mentioning(db_path: Path, value: int) -> dict[str, int]:
    """Rows of every table (every column, as text) that contain `value`; tables with none are left out."""
    connection = sqlite3.connect(db_path)
    try:
        found = {}
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in connection.execute(f"PRAGMA table_info([{table}])")]
            condition = " OR ".join(f"instr(CAST([{c}] AS TEXT), ?) > 0" for c in columns)
            [count] = connection.execute(
                f"SELECT count(*) FROM [{table}] WHERE {condition}", [str(value)] * len(columns)
            ).fetchone()
            if count:
                found[table] = count
        return found
    finally:
        connection.close()


class Conversation:
    """Drives the bot from several chats and checks, after every answer, that no chat saw another's data."""

    def __init__(self, server: FaultyBotApi, settings: Settings) -> None:
        self.server = server
        self.settings = settings
        self.pictures: dict[int, BotMessage] = {}  # each chat's last /best picture
        self.predictions: dict[int, int] = {}  # each chat's last prediction message id
        self.forged: list[str] = []  # the forgeries tried, so the test knows it tried them

    async def answers(self, chat: int, n: int = 1) -> list[BotMessage]:
        messages = await self.server.next_messages(chat, n, timeout=60)
        for message in messages:
            for other, handle in HANDLES.items():
                if other != chat:
                    assert f"@{handle}" not in message.plain_text, (chat, message.plain_text)
        return messages

    def drafts(self, chat: int) -> int:
        store = open_store(self.settings)
        try:
            return store.drafts.count(chat)
        finally:
            store.close()

    async def photo(self, chat: int, rng: random.Random) -> None:
        self.server.send_photo(chat, rng.choice(PHOTOS).read_bytes())
        [answer] = await self.answers(chat)
        if "should get about" in answer.plain_text:
            self.predictions[chat] = answer.message_id

    async def best(self, chat: int, rng: random.Random) -> None:
        drafts = self.drafts(chat)
        self.server.send_text(chat, "/best")
        messages = await self.answers(chat, 2 if drafts > 1 else 1)
        if drafts == 0:
            return
        if drafts > 1:
            assert messages[0].plain_text == f"Scored all {drafts} drafts. ✅"
        picture = messages[-1]
        assert picture.method == "sendPhoto"
        [button] = picture.buttons
        draft_id = int(button["callback_data"].split(":")[1])
        store = open_store(self.settings)
        try:
            assert store.drafts.get(chat, draft_id) is not None  # the winner is one of this chat's drafts
        finally:
            store.close()
        self.pictures[chat] = picture

    async def forged_button(self, chat: int, rng: random.Random) -> None:
        """This chat presses a button carrying another chat's winning draft."""
        others = [c for c in self.pictures if c != chat]
        own = self.server.messages_to(chat)
        if not others or not own:
            return
        data = self.pictures[rng.choice(others)].buttons[0]["callback_data"]
        answered = len(self.server.callback_answers)
        self.server.press_button(chat, own[-1].message_id, data)
        await self.server.wait_until(lambda: len(self.server.callback_answers) > answered)
        assert "gone" in self.server.callback_answers[-1]["text"]
        self.forged.append("button")

    async def forged_actual(self, chat: int, rng: random.Random) -> None:
        """This chat replies to a message whose id is another chat's prediction."""
        others = [c for c in self.predictions if c != chat]
        if not others:
            return
        self.server.send_reply_to_id(chat, "/actual 321", self.predictions[rng.choice(others)])
        [answer] = await self.answers(chat)
        assert "isn't one of my predictions" in answer.plain_text
        self.forged.append("actual")

    async def say(self, chat: int, text: str) -> None:
        self.server.send_text(chat, text)
        await self.answers(chat)


async def test_no_chat_ever_sees_another_chats_drafts_account_or_predictions(
    server: FaultyBotApi, tmp_path: Path
) -> None:
    settings = bot_settings(server, tmp_path, photos_per_minute=1000, max_drafts=4)
    rng = random.Random(20261123)
    talk = Conversation(server, settings)
    async with running_bot(settings):
        for chat, handle in HANDLES.items():
            await talk.say(chat, f"/handle {handle}")
        actions = [
            talk.photo,
            talk.photo,
            talk.photo,
            talk.best,
            talk.forged_button,
            talk.forged_actual,
            lambda chat, _: talk.say(chat, "/stats"),
            lambda chat, _: talk.say(chat, "/clear"),
            lambda chat, _: talk.say(chat, "/actual 150"),
        ]
        for _ in range(STEPS):
            await rng.choice(actions)(rng.choice(CHATS), rng)
        assert {"button", "actual"} <= set(talk.forged)
        for chat in CHATS:  # and every chat still gets its own answers
            await talk.photo(chat, rng)
            await talk.best(chat, rng)

        store = open_store(settings)
        try:
            for chat in CHATS:
                assert store.chats.handle(chat) == HANDLES[chat]
                assert {p.handle for p in store.predictions.of_chat(chat)} == {HANDLES[chat]}
                assert all(p.actual_likes != 321 for p in store.predictions.of_chat(chat))  # no forged /actual landed
            forgotten, kept = CHATS[0], CHATS[1:]
            own_images = {d.image_path for d in store.drafts.of_chat(forgotten)}
            kept_before = {chat: store.chats.row_counts(chat) for chat in kept}
        finally:
            store.close()
        assert rows_mentioning(settings.db_path, forgotten)

        await talk.say(forgotten, "/forget")

    assert rows_mentioning(settings.db_path, forgotten) == {}
    store = open_store(settings)
    try:
        assert {chat: store.chats.row_counts(chat) for chat in kept} == kept_before
        still_used = {d.image_path for chat in kept for d in store.drafts.of_chat(chat)}
        assert all(path.is_file() for path in still_used)
        assert not any(path.exists() for path in own_images - still_used)  # its photos went with it
        assert store.integrity_check() == "ok"
    finally:
        store.close()
