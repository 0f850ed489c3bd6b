"""Telegram's limits, kept by the real bot against the Bot API stand-in (which refuses what Telegram refuses):
texts fit 4,096 characters and captions 1,024, every callback query is answered, and in a group the bot
answers only what is addressed to it."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from PIL import Image

from bot import texts
from tests import test_bot
from tests.botapi import LocalBotApi
from tests.test_bot import CHAT, SAMPLES, say

GROUP = -5001  # a group chat, as Telegram numbers them
settings, bot = test_bot.settings, test_bot.bot  # the fixtures: a running bot (`server` comes from conftest.py)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_a_4081_character_unknown_command_is_answered_with_the_echo_cut(server: LocalBotApi, bot: Any) -> None:
    command = "/" + "x" * 4080
    [answer] = await say(server, command)
    assert answer.plain_text.startswith("I don't know /xxx") and "…" in answer.plain_text
    assert len(answer.plain_text) < 200


async def test_a_document_with_a_5000_character_type_is_answered_with_the_type_cut(
    server: LocalBotApi, bot: Any
) -> None:
    server.send_document(CHAT, b"%PDF-1.4", "report.pdf", "application/" + "x" * 5000)
    [answer] = await server.next_messages(CHAT)
    assert "isn't a photo" in answer.plain_text and len(answer.plain_text) < 200


async def test_any_text_the_bot_sends_is_cut_to_4096_characters_with_its_markup_closed(
    server: LocalBotApi, bot: Any
) -> None:
    await bot.bot.send_message(CHAT, "<b>" + "é" * 3000 + "</b> and <i>" + "😀" * 3000 + "</i>")
    [sent] = server.messages_to(CHAT)
    assert utf16_length(sent.plain_text) <= 4096 and sent.plain_text.endswith("…")
    assert sent.text.endswith("…</i>") and sent.text.count("<b>") == sent.text.count("</b>") == 1
    await bot.bot.send_message(CHAT, "&lt;" * 5000)  # an entity is one character, never cut in half
    assert server.messages_to(CHAT)[-1].text.endswith("&lt;…")


async def test_a_caption_is_cut_to_1024_characters(server: LocalBotApi, bot: Any) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(picture, "PNG")
    await bot.bot.send_photo(CHAT, picture.getvalue(), caption="<b>caption</b> " + "y" * 2000)
    [sent] = server.messages_to(CHAT)
    assert sent.method == "sendPhoto" and utf16_length(sent.plain_text) == 1024 and sent.plain_text.endswith("…")


@pytest.mark.parametrize(("data", "game"), [("tags:5", None), ("something else", None), (None, "game"), (None, None)])
async def test_a_button_under_an_inline_message_without_a_chat_is_answered(
    server: LocalBotApi, bot: Any, data: str | None, game: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue #15: a query with neither `data` nor `game_short_name` (PTB's CallbackQueryHandler matches it even
    with a pattern) reached the hashtag button's `assert query.data is not None`: AssertionError, and the error
    handler, finding no chat, never answered it."""
    with caplog.at_level(logging.INFO):
        query_id = server.press_inline_button(CHAT, "inline-message-1", data, game)
        await server.wait_until(lambda: any(a["callback_query_id"] == query_id for a in server.callback_answers))
    [answer] = [a for a in server.callback_answers if a["callback_query_id"] == query_id]
    assert answer.get("text") == texts.DRAFT_GONE
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert server.messages_to(CHAT) == []


async def test_in_a_group_commands_for_other_bots_chatter_and_stickers_get_no_answer(
    server: LocalBotApi, bot: Any
) -> None:
    for text in ["/best@otherbot", "/start@otherbot", "/help@OtherBot now", "I work with photos, you?", "/unknown"]:
        server.send_text(GROUP, text)
    server.send_sticker(GROUP)
    server.send_photo(GROUP, SAMPLES[0].read_bytes())  # a photo someone shares with the group
    [answer] = await say(server, "/help", GROUP)  # handled after all of the above: the chat's order
    assert "/best" in answer.plain_text
    assert await server.no_more_messages(GROUP) == []


async def test_in_a_group_commands_addressed_to_the_bot_and_photos_for_it_are_answered(
    server: LocalBotApi, bot: Any
) -> None:
    [welcome] = await say(server, f"/start@{server.username}", GROUP)
    assert "predict how many likes" in welcome.plain_text
    [unknown] = await say(server, f"/nonsense@{server.username}", GROUP)
    assert unknown.plain_text.startswith("I don't know /nonsense")
    server.send_photo(GROUP, SAMPLES[0].read_bytes(), caption=f"@{server.username} how is this?")
    [kept] = await server.next_messages(GROUP)
    assert "I kept your photo as a draft" in kept.plain_text
    server.send_photo(GROUP, SAMPLES[1].read_bytes(), reply_to=kept.message_id)
    [second] = await server.next_messages(GROUP)
    assert "I kept your 2 photos as drafts" in second.plain_text
    assert await server.no_more_messages(GROUP) == []


async def test_in_a_group_an_album_whose_caption_names_the_bot_is_answered_whole(server: LocalBotApi, bot: Any) -> None:
    photos = [path.read_bytes() for path in SAMPLES[:3]]
    server.send_photo(GROUP, photos[0], media_group_id="group-album", caption=f"@{server.username} rank these")
    for data in photos[1:]:  # Telegram puts an album's caption on one photo only
        server.send_photo(GROUP, data, media_group_id="group-album")
    [saved] = await server.next_messages(GROUP)
    assert "3 drafts saved" in saved.plain_text
