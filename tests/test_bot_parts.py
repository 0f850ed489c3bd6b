"""The bot's small parts on their own: size choice, limits, per-chat ordering, pictures, texts."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from PIL import Image
from telegram import Chat, Message, Update

from app.errors import BadLikes
from app.service import parse_likes
from bot import pictures, texts
from bot.limits import SlidingWindowLimit
from bot.media import is_image_document, pick_photo_size
from bot.ordering import PerChatUpdateProcessor
from core.paths import DEMO_SAMPLES


@dataclass
class Size:
    width: int
    height: int


def test_photo_size_is_the_smallest_that_reaches_640_pixels() -> None:
    sizes = [Size(90, 60), Size(320, 213), Size(800, 533), Size(1280, 853), Size(2560, 1706)]
    assert pick_photo_size(sizes) == Size(800, 533)
    assert pick_photo_size([Size(320, 240), Size(90, 68)]) == Size(320, 240)  # nothing big enough: the largest


def test_image_documents_are_told_by_type_or_by_name_when_the_type_is_generic() -> None:
    assert is_image_document("image/png", "x.png")
    assert not is_image_document("application/pdf", "x.jpg")
    assert is_image_document("application/octet-stream", "IMG_0001.JPG")
    assert not is_image_document(None, "notes.txt")


def test_sliding_window_allows_the_limit_then_says_how_long_to_wait() -> None:
    now = [0.0]
    limit = SlidingWindowLimit(2, 60.0, clock=lambda: now[0])
    assert limit.try_acquire(1) is None and limit.try_acquire(1) is None
    now[0] = 15.0
    assert limit.try_acquire(1) == pytest.approx(45.0)
    assert limit.try_acquire(2) is None  # per chat
    now[0] = 60.0
    assert limit.try_acquire(1) is None


@pytest.mark.parametrize("text, likes", [("420", 420), ("1,240", 1240), ("1.2k", 1200), ("3M", 3_000_000), (" 7 ", 7)])
def test_actual_likes_are_read_as_people_write_them(text: str, likes: int) -> None:
    assert parse_likes(text) == likes


@pytest.mark.parametrize("text", ["", "lots", "-5", "1,2,3", "12kk"])
def test_what_is_not_a_number_of_likes_is_refused(text: str) -> None:
    with pytest.raises(BadLikes):
        parse_likes(text)


def update_for(chat_id: int, update_id: int) -> Update:
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat, text="x"))


async def test_one_chats_updates_run_in_order_while_other_chats_run_alongside() -> None:
    processor = PerChatUpdateProcessor(8)
    log: list[str] = []
    other_chat_ran = asyncio.Event()

    async def slow_first() -> None:
        log.append("a1 start")
        await asyncio.wait_for(other_chat_ran.wait(), 5)  # only finishes if chat B is not blocked behind it
        log.append("a1 end")

    async def record(name: str, done: asyncio.Event | None = None) -> None:
        log.append(name)
        if done:
            done.set()

    await asyncio.gather(
        processor.process_update(update_for(1, 1), slow_first()),
        processor.process_update(update_for(1, 2), record("a2")),
        processor.process_update(update_for(2, 3), record("b1", other_chat_ran)),
    )
    assert log.index("a1 end") < log.index("a2")
    assert log.index("b1") < log.index("a1 end")


def test_ranking_picture_puts_the_drafts_side_by_side() -> None:
    photos = sorted(DEMO_SAMPLES.glob("*.jpg"))[:3]
    image = Image.open(io.BytesIO(pictures.ranking_picture(photos, ["#1", "#2", "#3"])))
    assert image.format == "JPEG"
    assert image.width == 3 * pictures.TILE + 4 * pictures.GAP
    assert image.height == pictures.TILE + pictures.LABEL_HEIGHT + 2 * pictures.GAP


def test_ranking_picture_wraps_after_five() -> None:
    photos = sorted(DEMO_SAMPLES.glob("*.jpg")) * 2
    image = Image.open(io.BytesIO(pictures.ranking_picture(photos[:7], [f"#{i}" for i in range(1, 8)])))
    assert image.width == 5 * pictures.TILE + 6 * pictures.GAP
    assert image.height == 2 * (pictures.TILE + pictures.LABEL_HEIGHT) + 3 * pictures.GAP


def test_likes_chart_draws_the_median_line_in_the_accent_colour() -> None:
    image = Image.open(io.BytesIO(pictures.likes_chart([100, 300, 200], "likes"))).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20)}
    assert pictures.ACCENT in colours
    assert Image.open(io.BytesIO(pictures.likes_chart([], "none"))).format == "PNG"


def test_texts_format_likes_as_people_say_them_and_escape_user_text() -> None:
    assert [texts.likes(v) for v in (7, 1240, 12_500, 2_300_000)] == ["7", "1,240", "12.5k", "2.3M"]
    assert texts.unknown_command("/<b>") == "I don't know /&lt;b&gt;. Here is what I do: /help"
    assert texts.plain("<b>a</b> &amp; b") == "a & b"
