"""Whole conversations with the real bot (built as `python -m bot` builds it) over a local Bot API server.

Each test asserts on what the user sees: the texts, the pictures and the buttons the bot sends.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from core.paths import DEMO_DIR, DEMO_HANDLE, DEMO_SAMPLES
from core.settings import Settings, SourceSetting
from store import Store
from tests.botapi import LocalBotApi, running_bot, warm_database

CHAT = 1001
OTHER_CHAT = 2002
SAMPLES = sorted(DEMO_SAMPLES.glob("*.jpg"))
DRAFT_IMAGES = [DEMO_DIR / "images" / f"brunch_club_0{i}.jpg" for i in range(4)]


def photo_bytes(path: Path) -> bytes:
    return path.read_bytes()


def bot_settings(server: LocalBotApi, tmp_path: Path, **overrides: object) -> Settings:
    settings = Settings(
        telegram_bot_token=server.token,
        telegram_api_base_url=server.base_url,
        telegram_file_base_url=server.file_base_url,
        db_path=tmp_path / "likepredict.sqlite3",
        data_dir=tmp_path / "data",
        source=SourceSetting("demo"),
    )
    settings = settings.replaced(**overrides)
    warm_database(settings)
    return settings


@pytest.fixture
def settings(server: LocalBotApi, tmp_path: Path) -> Settings:
    return bot_settings(server, tmp_path)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[object]:
    async with running_bot(settings) as application:
        yield application


async def say(server: LocalBotApi, text: str, chat: int = CHAT, n: int = 1, reply_to: int | None = None) -> list:
    server.send_text(chat, text, reply_to=reply_to)
    return await server.next_messages(chat, n)


async def set_demo_handle(server: LocalBotApi, chat: int = CHAT) -> None:
    [summary] = await say(server, f"/handle {DEMO_HANDLE}", chat)
    assert f"@{DEMO_HANDLE}" in summary.plain_text


# ---- /start, /help, /handle ---------------------------------------------------------------------


async def test_start_explains_the_bot_and_sets_the_command_menu(server: LocalBotApi, bot: object) -> None:
    [welcome] = await say(server, "/start")
    assert "predict how many likes" in welcome.plain_text
    assert "/handle" in welcome.plain_text
    assert [c["command"] for c in server.commands] == [
        "handle",
        "best",
        "stats",
        "actual",
        "timezone",
        "clear",
        "forget",
        "help",
    ]
    [help_reply] = await say(server, "/help")
    assert "/best" in help_reply.plain_text and "/forget" in help_reply.plain_text


async def test_handle_replies_with_followers_median_likes_and_fetch_date(server: LocalBotApi, bot: object) -> None:
    [summary] = await say(server, "/handle https://www.instagram.com/demo_creator/")
    text = summary.plain_text
    assert "@demo_creator" in text
    assert "Followers: 5,200" in text
    assert "Median likes of the last 20 posts:" in text
    assert "Figures from" in text and "UTC" in text


async def test_unknown_and_invalid_handles_get_plain_answers(server: LocalBotApi, bot: object) -> None:
    [unknown] = await say(server, "/handle nobody_here_at_all")
    assert "can't find an Instagram account called @nobody_here_at_all" in unknown.plain_text
    [invalid] = await say(server, "/handle not a handle!")
    assert "is not an Instagram username" in invalid.plain_text
    [usage] = await say(server, "/handle")
    assert "/handle demo_creator" in usage.plain_text


# ---- photos -------------------------------------------------------------------------------------


async def test_handle_then_photo_answers_likes_range_and_hashtags(server: LocalBotApi, bot: object) -> None:
    await set_demo_handle(server)
    photo_message = server.send_photo(CHAT, photo_bytes(SAMPLES[0]))
    [answer] = await server.next_messages(CHAT)
    text = answer.plain_text
    assert "this photo should get about" in text and "likes" in text
    assert "Likely range:" in text
    assert "Hashtags to use: #" in text
    assert answer.reply_to_message_id == photo_message
    assert (CHAT, "typing") in server.chat_actions


async def test_photo_then_handle_keeps_the_draft_and_answers_it(server: LocalBotApi, bot: object) -> None:
    server.send_photo(CHAT, photo_bytes(SAMPLES[1]))
    [ask] = await server.next_messages(CHAT)
    assert "kept your photo as a draft" in ask.plain_text and "/handle" in ask.plain_text
    summary, answer = await say(server, f"/handle @{DEMO_HANDLE}", n=2)
    assert "Followers: 5,200" in summary.plain_text
    assert "this photo should get about" in answer.plain_text


async def test_image_sent_as_a_file_is_answered_like_a_photo(server: LocalBotApi, bot: object) -> None:
    await set_demo_handle(server)
    server.send_document(CHAT, photo_bytes(SAMPLES[2]), "draft.jpg", "image/jpeg")
    [answer] = await server.next_messages(CHAT)
    assert "this photo should get about" in answer.plain_text


# ---- albums and /best ----------------------------------------------------------------------------


async def test_album_of_four_then_best_sends_one_ranked_picture_with_a_hashtag_button(
    server: LocalBotApi, bot: object
) -> None:
    await set_demo_handle(server)
    server.send_album(CHAT, [photo_bytes(p) for p in DRAFT_IMAGES])
    [saved] = await server.next_messages(CHAT)
    assert "4 drafts saved" in saved.plain_text and "/best" in saved.plain_text
    assert await server.no_more_messages(CHAT, wait=1.5) == []  # one answer for the whole album

    progress, picture = await say(server, "/best", n=2)
    assert progress.plain_text == "Scored all 4 drafts. ✅"
    assert len(progress.edits) == 4  # edited once per draft scored
    assert picture.method == "sendPhoto"
    image = Image.open(io.BytesIO(picture.photo))
    assert image.width > 4 * 300 and image.height < image.width  # four drafts side by side
    assert "Post #1" in picture.plain_text and "#2: about" in picture.plain_text
    [button] = picture.buttons
    assert button["text"] == "All hashtags for #1"

    server.press_button(CHAT, picture.message_id, button["callback_data"])
    [tags] = await server.next_messages(CHAT)
    assert "All hashtags for your #1 draft" in tags.plain_text
    assert tags.plain_text.count("#") > 3
    assert server.callback_answers and server.callback_answers[-1].get("show_alert") in (None, "false", False)


async def test_a_button_from_another_chat_never_shows_this_chats_drafts(server: LocalBotApi, bot: object) -> None:
    await set_demo_handle(server)
    server.send_album(CHAT, [photo_bytes(p) for p in DRAFT_IMAGES[:2]])
    await server.next_messages(CHAT)
    _, picture = await say(server, "/best", n=2)
    winner_data = picture.buttons[0]["callback_data"]

    await set_demo_handle(server, OTHER_CHAT)
    [welcome] = await say(server, "/start", OTHER_CHAT)
    server.press_button(OTHER_CHAT, welcome.message_id, winner_data)  # a forged button in another chat
    await server.wait_until(lambda: len(server.callback_answers) == 1)
    assert "gone" in server.callback_answers[0]["text"]
    assert await server.no_more_messages(OTHER_CHAT) == []


async def test_an_album_over_the_draft_limit_says_how_many_were_kept_and_why(
    server: LocalBotApi, tmp_path: Path
) -> None:
    async with running_bot(bot_settings(server, tmp_path, max_drafts=3)):
        server.send_album(CHAT, [photo_bytes(p) for p in DRAFT_IMAGES])
        [saved] = await server.next_messages(CHAT)
        assert "3 drafts saved (3 in all)." in saved.plain_text
        assert "1 not kept: You have 3 drafts, the most I keep." in saved.plain_text
        assert "Send /handle yourname, then /best" in saved.plain_text


async def test_a_handle_typed_as_plain_text_sets_the_account(server: LocalBotApi, bot: object) -> None:
    [summary] = await say(server, "@demo_creator")
    assert "Got it: @demo_creator" in summary.plain_text


async def test_best_without_drafts_or_handle_says_what_to_do(server: LocalBotApi, bot: object) -> None:
    [nothing] = await say(server, "/best")
    assert "No drafts yet" in nothing.plain_text
    server.send_photo(CHAT, photo_bytes(SAMPLES[0]))
    await server.next_messages(CHAT)
    [ask] = await say(server, "/best")
    assert "/handle" in ask.plain_text


async def test_clear_empties_the_drafts(server: LocalBotApi, bot: object) -> None:
    server.send_album(CHAT, [photo_bytes(p) for p in DRAFT_IMAGES[:3]])
    await server.next_messages(CHAT)
    [cleared] = await say(server, "/clear")
    assert cleared.plain_text == "Deleted 3 drafts."
    [nothing] = await say(server, "/best")
    assert "No drafts yet" in nothing.plain_text


# ---- /actual, /stats, /forget --------------------------------------------------------------------


async def test_actual_by_reply_and_for_the_last_prediction_then_stats_shows_the_record(
    server: LocalBotApi, bot: object
) -> None:
    await set_demo_handle(server)
    server.send_photo(CHAT, photo_bytes(SAMPLES[0]))
    [first] = await server.next_messages(CHAT)
    server.send_photo(CHAT, photo_bytes(SAMPLES[1]))
    await server.next_messages(CHAT)

    [noted] = await say(server, "/actual 450", reply_to=first.message_id)
    assert noted.plain_text.startswith("Noted: 450 real likes against")
    [noted_last] = await say(server, "/actual 1.2k")
    assert noted_last.plain_text.startswith("Noted: 1,200 real likes against")
    [bad] = await say(server, "/actual lots")
    assert "isn't a number of likes" in bad.plain_text
    [not_prediction] = await say(server, "/actual 10", reply_to=noted.message_id)
    assert "isn't one of my predictions" in not_prediction.plain_text

    [chart] = await say(server, "/stats")
    assert chart.method == "sendPhoto" and Image.open(io.BytesIO(chart.photo)).format == "PNG"
    assert "2 predictions checked" in chart.plain_text
    assert "Last 20 posts: median" in chart.plain_text


async def test_forget_deletes_everything_for_the_chat(server: LocalBotApi, bot: object, settings: Settings) -> None:
    await set_demo_handle(server)
    server.send_photo(CHAT, photo_bytes(SAMPLES[0]))
    await server.next_messages(CHAT)
    await set_demo_handle(server, OTHER_CHAT)
    photos_on_disk = {p for p in settings.images_dir.rglob("*") if p.is_file()}
    assert len(photos_on_disk) == 1

    [done] = await say(server, "/forget")
    assert "deleted everything" in done.plain_text and "1 drafts" in done.plain_text
    assert [p for p in settings.images_dir.rglob("*") if p.is_file()] == []  # the photo file too, not only its rows
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        assert set(store.chats.row_counts(CHAT).values()) == {0}
        assert store.chats.handle(OTHER_CHAT) == DEMO_HANDLE  # other chats keep theirs
    finally:
        store.close()
    [usage] = await say(server, "/handle")
    assert "Your account here" not in usage.plain_text


# ---- bad input ----------------------------------------------------------------------------------


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 160, 200)).save(buffer, "JPEG", quality=60)
    return buffer.getvalue()


async def test_every_bad_input_gets_a_short_helpful_reply(server: LocalBotApi, tmp_path: Path) -> None:
    settings = bot_settings(server, tmp_path, max_image_pixels=1_000_000)
    whole = photo_bytes(DRAFT_IMAGES[0])
    truncated = whole[: len(whole) // 2]
    async with running_bot(settings):
        cases = [
            (lambda: server.send_text(CHAT, "hello there"), "I work with photos"),
            (lambda: server.send_text(CHAT, "/nonsense"), "I don't know /nonsense"),
            (lambda: server.send_video(CHAT), "not videos"),
            (lambda: server.send_sticker(CHAT), "sticker"),
            (lambda: server.send_voice(CHAT), "can't listen"),
            (lambda: server.send_animation(CHAT), "animation"),
            (lambda: server.send_document(CHAT, b"%PDF-1.4 ...", "cv.pdf", "application/pdf"), "isn't a photo"),
            (
                lambda: server.send_document(CHAT, b"x", "huge.jpg", "image/jpeg", declared_size=50 * 1024 * 1024),
                "up to 20 MB",
            ),
            (lambda: server.send_document(CHAT, truncated, "cut.jpg", "image/jpeg"), "damaged or incomplete"),
            (
                lambda: server.send_document(CHAT, b"not an image at all", "fake.png", "image/png"),
                "not a photo I can read",
            ),
            (lambda: server.send_photo(CHAT, b"", sizes=[(800, 800, truncated)]), "damaged or incomplete"),
            (lambda: server.send_document(CHAT, jpeg(2000, 1500), "big.jpg", "image/jpeg"), "too large"),
        ]
        for send, expected in cases:
            send()
            [reply] = await server.next_messages(CHAT)
            assert expected in reply.plain_text, (expected, reply.plain_text)
            assert len(reply.plain_text) < 300
        files_fetched = server.calls.count("getFile")
        [still_alive] = await say(server, "/start")
        assert "predict how many likes" in still_alive.plain_text
    assert files_fetched == 4  # the huge file was refused before any download
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        assert store.drafts.count(CHAT) == 0
    finally:
        store.close()


async def test_photo_rate_and_draft_limits_answer_plainly(server: LocalBotApi, tmp_path: Path) -> None:
    settings = bot_settings(server, tmp_path, photos_per_minute=3, max_drafts=2)
    async with running_bot(settings):
        for path in SAMPLES[:2]:
            server.send_photo(CHAT, photo_bytes(path))
            await server.next_messages(CHAT)
        server.send_photo(CHAT, photo_bytes(SAMPLES[2]))
        [full] = await server.next_messages(CHAT)
        assert "You have 2 drafts, the most I keep" in full.plain_text
        server.send_photo(CHAT, photo_bytes(SAMPLES[3]))
        [slow] = await server.next_messages(CHAT)
        assert "I take 3 a minute" in slow.plain_text
        server.send_photo(OTHER_CHAT, photo_bytes(SAMPLES[3]))  # limits are per chat
        [other] = await server.next_messages(OTHER_CHAT)
        assert "kept your photo" in other.plain_text


# ---- restarts, flood control, the token ---------------------------------------------------------


async def test_drafts_survive_a_restart_between_sending_and_best(server: LocalBotApi, settings: Settings) -> None:
    async with running_bot(settings):
        await set_demo_handle(server)
        server.send_album(CHAT, [photo_bytes(p) for p in DRAFT_IMAGES[:3]])
        [saved] = await server.next_messages(CHAT)
        assert "3 drafts saved" in saved.plain_text
    async with running_bot(settings):
        _, picture = await say(server, "/best", n=2)
        assert picture.method == "sendPhoto" and "Post #1" in picture.plain_text
        assert "#3: about" in picture.plain_text


async def test_a_best_interrupted_by_a_restart_is_answered_after_it(server: LocalBotApi, settings: Settings) -> None:
    async with running_bot(settings):
        await set_demo_handle(server)
        server.send_album(CHAT, [photo_bytes(p) for p in DRAFT_IMAGES[:2]])
        await server.next_messages(CHAT)
    store = Store.open(settings.db_path, settings.images_dir)
    store.best_requests.open(CHAT)  # as if the bot stopped between receiving /best and answering it
    store.close()
    async with running_bot(settings):
        resumed, _progress, picture = await server.next_messages(CHAT, 3)
        assert "I restarted while ranking" in resumed.plain_text
        assert picture.method == "sendPhoto"
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        assert store.best_requests.unfinished() == []
    finally:
        store.close()


async def test_flood_control_is_obeyed(server: LocalBotApi, bot: object) -> None:
    server.fail_next("sendMessage", retry_after=1)
    [reply] = await say(server, "/help")
    assert "/best" in reply.plain_text
    assert server.calls.count("sendMessage") == 2  # refused once, sent again after the wait


async def test_token_never_reaches_a_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    token = "555000111:SECRET-token-that-must-not-leak"
    async with LocalBotApi(token=token) as server:
        settings = bot_settings(server, tmp_path)
        async with running_bot(settings):
            await set_demo_handle(server)
            server.send_photo(CHAT, photo_bytes(SAMPLES[0]))
            await server.next_messages(CHAT)
            server.send_document(CHAT, b"junk", "x.jpg", "image/jpeg")
            await server.next_messages(CHAT)
    assert len(caplog.records) > 10  # the bot did log, at DEBUG
    assert [r.getMessage() for r in caplog.records if token in r.getMessage()] == []
    assert token not in caplog.text
