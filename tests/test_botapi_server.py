"""The local Bot API server speaks enough real Bot API for python-telegram-bot's own client."""

from __future__ import annotations

from telegram import Bot
from telegram.error import RetryAfter

from core.paths import DEMO_SAMPLES
from tests.botapi import LocalBotApi, telegram_photo_sizes

CHAT = 4242


async def test_get_updates_confirms_with_offset_and_long_polls() -> None:
    async with LocalBotApi() as server:
        async with Bot(server.token, base_url=server.base_url, base_file_url=server.file_base_url) as bot:
            assert (await bot.get_me()).username == server.username
            server.send_text(CHAT, "/start")
            server.send_text(CHAT, "hello")
            first = await bot.get_updates(timeout=1)
            assert [u.message.text for u in first] == ["/start", "hello"]
            assert first[0].message.entities[0].type == "bot_command"
            again = await bot.get_updates(offset=first[0].update_id + 1, timeout=0)
            assert [u.message.text for u in again] == ["hello"]
            assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=1) == ()


async def test_photo_sizes_and_file_download_round_trip() -> None:
    data = (DEMO_SAMPLES / "valley.jpg").read_bytes()
    async with LocalBotApi() as server:
        async with Bot(server.token, base_url=server.base_url, base_file_url=server.file_base_url) as bot:
            server.send_photo(CHAT, data, media_group_id="g1")
            [update] = await bot.get_updates(timeout=1)
            sizes = update.message.photo
            assert [max(s.width, s.height) for s in sizes] == [90, 320, 800, 1080]
            assert update.message.media_group_id == "g1"
            downloaded = await (await bot.get_file(sizes[-1].file_id)).download_as_bytearray()
            assert bytes(downloaded) == telegram_photo_sizes(data)[-1][2]


async def test_records_sent_messages_edits_and_photos() -> None:
    async with LocalBotApi() as server:
        async with Bot(server.token, base_url=server.base_url, base_file_url=server.file_base_url) as bot:
            sent = await bot.send_message(CHAT, "<b>one</b> &amp; two", parse_mode="HTML")
            await bot.edit_message_text("three", chat_id=CHAT, message_id=sent.message_id)
            await bot.send_photo(CHAT, (DEMO_SAMPLES / "valley.jpg").read_bytes(), caption="pic")
            first, second = await server.next_messages(CHAT, 2)
            assert first.plain_text == "three" and first.edits == ["three"]
            assert second.photo is not None and second.text == "pic"


async def test_flood_control_answer_is_a_retry_after() -> None:
    async with LocalBotApi() as server:
        async with Bot(server.token, base_url=server.base_url, base_file_url=server.file_base_url) as bot:
            server.fail_next("sendMessage", retry_after=3)
            try:
                await bot.send_message(CHAT, "hi")
            except RetryAfter as error:
                assert "Retry in 3 seconds" in str(error)
            else:
                raise AssertionError("the server did not refuse the call")
            await bot.send_message(CHAT, "hi")
            assert [m.text for m in server.messages_to(CHAT)] == ["hi"]


async def test_wrong_token_is_refused() -> None:
    async with LocalBotApi() as server, LocalBotApi(token="1:other") as other:
        bot = Bot(server.token, base_url=other.base_url)
        try:
            await bot.initialize()
        except Exception as error:
            assert "Unauthorized" in str(error) or "token" in str(error).lower()
        else:
            raise AssertionError("a wrong token was accepted")
