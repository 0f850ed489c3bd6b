"""The photo answer's time zone (issue #12 item 4): /timezone, the chat's stored zone, the language guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import BadTimezone
from app.timezones import ChatZone, chat_zone, parse_zone
from store import Store
from tests.botapi import LocalBotApi, running_bot
from tests.test_bot import CHAT, OTHER_CHAT, bot_settings, say


def test_a_zone_name_is_read_whatever_its_case_and_anything_else_is_refused():
    assert parse_zone("europe/berlin") == "Europe/Berlin"
    assert parse_zone(" America/New York ") == "America/New_York"
    assert parse_zone("UTC") == "UTC"
    with pytest.raises(BadTimezone):
        parse_zone("Mars/Olympus_Mons")


def test_the_chats_own_zone_wins_and_only_one_zone_languages_are_guessed():
    assert chat_zone("Asia/Tokyo", "de") == ChatZone("Asia/Tokyo")
    assert chat_zone(None, "de") == ChatZone("Europe/Berlin", guessed_from="de")
    assert chat_zone(None, "pt-br") is None  # Portuguese: Brazil and Portugal, hours apart
    assert chat_zone(None, "en") is None and chat_zone(None, "es") is None and chat_zone(None, None) is None


def test_a_chat_keeps_its_zone_until_cleared_or_forgotten(store: Store):
    assert store.chats.timezone(CHAT) is None
    store.chats.set_handle(CHAT, "demo_creator")
    store.chats.set_timezone(CHAT, "Europe/Berlin")
    assert store.chats.timezone(CHAT) == "Europe/Berlin" and store.chats.handle(CHAT) == "demo_creator"
    assert store.chats.timezone(OTHER_CHAT) is None
    store.chats.set_timezone(CHAT, None)
    assert store.chats.timezone(CHAT) is None and store.chats.handle(CHAT) == "demo_creator"
    store.chats.set_timezone(CHAT, "Asia/Tokyo")
    store.chats.forget(CHAT)
    assert store.chats.timezone(CHAT) is None


async def test_timezone_sets_shows_and_clears_the_chats_zone_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    async with LocalBotApi() as server, running_bot(bot_settings(server, tmp_path)):
        [usage] = await say(server, "/timezone")
        assert "UTC" in usage.plain_text and "/timezone Europe/Berlin" in usage.plain_text
        assert "guessed" not in usage.plain_text  # the stand-in's user writes in English: no guess
        [done] = await say(server, "/timezone europe/berlin")
        assert "Europe/Berlin" in done.plain_text
        [shown] = await say(server, "/timezone")
        assert "UTC and Europe/Berlin" in shown.plain_text
        [other] = await say(server, "/timezone", chat=OTHER_CHAT)
        assert "UTC and" not in other.plain_text
        [refused] = await say(server, "/timezone Mars/Olympus_Mons")
        assert "isn't a time zone" in refused.plain_text
        [cleared] = await say(server, "/timezone off")
        assert "UTC only" in cleared.plain_text
