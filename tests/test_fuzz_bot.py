"""Fuzzing the real bot through the local Bot API server: over a thousand generated updates from many chats.

Random bytes as photos and files, truncated and corrupt JPEG/PNG/WebP, decompression bombs, files over
20 MB, empty files, videos, stickers, animations, very long texts, commands with odd arguments, hostile
handles, forged buttons, edits and albums, interleaved across chats. Every update that deserves an answer
gets a short plain one, nothing reaches the error handler as unexpected, the bot still answers a normal
photo afterwards, and the database passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import io
import logging
import random
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from bot import texts
from core.paths import DEMO_HANDLE, DEMO_SAMPLES
from store import Store
from tests.botapi import running_bot
from tests.test_bot import bot_settings
from tests.test_telegram_faults import FaultyBotApi

SEED = 7_000_007
CHATS = [9_100_000 + i for i in range(40)]
ROUNDS = 25  # x 40 chats, albums add more: over 1,000 updates
VALID_PHOTOS = sorted(DEMO_SAMPLES.glob("*.jpg"))
MAX_ERROR_ANSWER = 300
MAX_ANY_ANSWER = 1500
HOSTILE_HANDLES = [
    "'; DROP TABLE chats; --",
    "robert'); DELETE FROM drafts; --",
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "@имя_пользователя",
    "@名前",
    'a"b',
    "a'b",
    "@demo_creator/../../x",
    "https://instagram.com/../../x",
    "%00",
    "\u202edemo_creator",
    "demo\u200bcreator",
    "@" + "x" * 300,
    "<b>bold</b>",
    "&amp;",
    "🙂🙂",
    "@",
    "@@",
    "null",
    "None",
    "1 OR 1=1",
    "$(rm -rf /)",
    "`id`",
    "demo_creator\nsecond line",
    "\t",
    "@Demo_Creator",
]
ODD_COMMANDS = [
    "/actual -5",
    "/actual 1e309",
    "/actual 0x10",
    "/actual 1.2.3k",
    "/actual " + "9" * 400,
    "/actual NaN",
    "/actual 12 34",
    "/actual ١٢٣",
    "/best now please",
    "/best " + "x" * 3000,
    "/start@likepredict_test_bot",
    "/start@some_other_bot",
    "/help me",
    "/clear all of them",
    "/forget everything",
    "/stats 7",
    "/",
    "//",
    "/ best",
    "/BEST",
    "/unknown_command_" + "z" * 50,
    "/handle",
    "/actual",
    "/handle@likepredict_test_bot demo_creator",
]


def encoded(image: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


def small_image(rng: random.Random) -> Image.Image:
    return Image.new("RGB", (rng.randint(40, 300), rng.randint(40, 300)), tuple(rng.randrange(256) for _ in range(3)))


def png_declaring(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims `width` x `height` (CRC fixed, so only the size is a lie)."""
    data = bytearray(encoded(Image.new("RGB", (1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims `width` x `height`."""
    data = bytearray(encoded(Image.new("RGB", (16, 16), (200, 10, 10)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def truncated(rng: random.Random) -> bytes:
    data = encoded(small_image(rng), rng.choice(["JPEG", "PNG", "WEBP"]))
    return data[: rng.randint(1, max(2, len(data) - 40))]


def corrupt_header(rng: random.Random) -> bytes:
    data = bytearray(encoded(small_image(rng), rng.choice(["JPEG", "PNG", "WEBP"])))
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(min(len(data), 64))] = rng.randrange(256)
    return bytes(data)


def random_bytes(rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice([1, 7, 100, 2048, 40_000]))


def random_text(rng: random.Random, length: int) -> str:
    alphabet = "abc XYZ 123 <>&\"' \u202e\u200b\u0000ü漢字🙂\n\t#@/\\"
    return "".join(rng.choice(alphabet) for _ in range(length))


@dataclass
class Item:
    """What a simulated user did in one round, and what it deserves: a message, a button answer, nothing."""

    updates: int
    wants_message: bool = True
    wants_button_answer: bool = False


class Fuzzer:
    def __init__(self, server: FaultyBotApi, rng: random.Random) -> None:
        self.server = server
        self.rng = rng
        self.valid_photos_left = 12  # each costs a full analysis: keep the run short
        self.makers: list[Callable[[int], Item]] = [
            self.random_photo,
            self.random_photo,
            self.random_document,
            self.random_document,
            self.bad_image,
            self.bad_image,
            self.bad_image,
            self.bomb,
            self.too_big,
            self.empty,
            self.media,
            self.long_text,
            self.odd_command,
            self.odd_command,
            self.hostile_handle,
            self.hostile_handle,
            self.button,
            self.edit,
            self.album,
            self.valid_photo,
        ]

    def item(self, chat: int) -> Item:
        return self.rng.choice(self.makers)(chat)

    def random_photo(self, chat: int) -> Item:
        side = self.rng.choice([90, 320, 800, 1280])
        self.server.send_photo(
            chat, b"", sizes=[(side, side, self.rng.choice([random_bytes, truncated, corrupt_header])(self.rng))]
        )
        return Item(1)

    def random_document(self, chat: int) -> Item:
        name = self.rng.choice(
            ["photo.jpg", "x.png", "../../etc/passwd", "名前.webp", "", "a" * 200 + ".jpg", "doc.pdf"]
        )
        mime = self.rng.choice(
            ["image/jpeg", "image/png", "image/webp", "application/octet-stream", None, "text/plain", "image/svg+xml"]
        )
        self.server.send_document(chat, random_bytes(self.rng), name, mime)
        return Item(1)

    def bad_image(self, chat: int) -> Item:
        data = self.rng.choice([truncated, corrupt_header])(self.rng)
        if self.rng.random() < 0.5:
            self.server.send_document(chat, data, "broken.jpg", "image/jpeg")
        else:
            self.server.send_photo(chat, b"", sizes=[(800, 600, data)])
        return Item(1)

    def bomb(self, chat: int) -> Item:
        data = self.rng.choice(
            [
                png_declaring(100_000, 100_000),
                png_declaring(30_000, 30_000),
                jpeg_declaring(65_000, 65_000),
                png_declaring(1, 2_000_000_000),
            ]
        )
        if self.rng.random() < 0.5:
            self.server.send_document(chat, data, "bomb.png", "image/png")
        else:
            self.server.send_photo(chat, b"", sizes=[(1280, 1280, data)])
        return Item(1)

    def too_big(self, chat: int) -> Item:
        size = self.rng.choice([20 * 1024 * 1024 + 1, 50 * 1024 * 1024, 2**40])
        self.server.send_document(chat, b"\xff\xd8\xff", "huge.jpg", "image/jpeg", declared_size=size)
        return Item(1)

    def empty(self, chat: int) -> Item:
        if self.rng.random() < 0.5:
            self.server.send_document(chat, b"", "empty.jpg", "image/jpeg")
        else:
            self.server.send_photo(chat, b"", sizes=[(800, 800, b"")])
        return Item(1)

    def media(self, chat: int) -> Item:
        self.rng.choice(
            [self.server.send_video, self.server.send_sticker, self.server.send_animation, self.server.send_voice]
        )(chat)
        return Item(1)

    def long_text(self, chat: int) -> Item:
        self.server.send_text(chat, random_text(self.rng, self.rng.choice([1, 200, 4096])))
        return Item(1)

    def odd_command(self, chat: int) -> Item:
        self.server.send_text(chat, self.rng.choice(ODD_COMMANDS))
        return Item(1)

    def hostile_handle(self, chat: int) -> Item:
        handle = self.rng.choice(HOSTILE_HANDLES)
        self.server.send_text(
            chat, handle if handle.startswith("@") and self.rng.random() < 0.3 else f"/handle {handle}"
        )
        return Item(1)

    def button(self, chat: int) -> Item:
        mine = self.server.messages_to(chat)
        if not mine:
            return self.odd_command(chat)
        data = self.rng.choice(["tags:1", "tags:999999999999", "tags:-1", "tags:", "x" * 64, "", "tags:1 OR 1=1", "🙂"])
        self.server.press_button(chat, mine[-1].message_id, data)
        return Item(1, wants_message=False, wants_button_answer=True)

    def edit(self, chat: int) -> Item:
        self.server.send_edited_text(chat, 1, random_text(self.rng, 50))
        return Item(1, wants_message=False)

    def album(self, chat: int) -> Item:
        photos = [self.rng.choice([random_bytes, truncated])(self.rng) for _ in range(self.rng.randint(2, 4))]
        group = f"album-{chat}-{self.rng.randrange(10**9)}"
        for data in photos:
            self.server.send_photo(chat, b"", media_group_id=group, sizes=[(800, 800, data)])
        return Item(len(photos))  # one answer for the whole album

    def valid_photo(self, chat: int) -> Item:
        if self.valid_photos_left <= 0:
            return self.bad_image(chat)
        self.valid_photos_left -= 1
        self.server.send_photo(chat, self.rng.choice(VALID_PHOTOS).read_bytes())
        return Item(1)


@pytest.fixture
async def server() -> AsyncIterator[FaultyBotApi]:
    async with FaultyBotApi() as local:
        yield local


def unexpected_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("bot", "likepredict", "inference", "telegram.ext"))
    ]


async def test_over_a_thousand_hostile_updates_each_get_a_short_plain_answer(
    server: FaultyBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = bot_settings(server, tmp_path, photos_per_minute=100_000)
    rng = random.Random(SEED)
    fuzzer = Fuzzer(server, rng)
    updates = 0
    async with running_bot(settings):
        for chat in CHATS[::2]:  # half the chats have an account, half do not
            server.send_text(chat, f"/handle {DEMO_HANDLE}")
        await server.wait_until(lambda: all(server.messages_to(c) for c in CHATS[::2]), timeout=120)

        for round_number in range(ROUNDS):
            seen = {chat: len(server.messages_to(chat)) for chat in CHATS}
            buttons_before = len(server.callback_answers)
            items = {chat: fuzzer.item(chat) for chat in rng.sample(CHATS, len(CHATS))}
            updates += sum(item.updates for item in items.values())
            waiting_message = [c for c, item in items.items() if item.wants_message]
            buttons = sum(1 for item in items.values() if item.wants_button_answer)
            await server.wait_until(
                lambda: (
                    all(len(server.messages_to(c)) > seen[c] for c in waiting_message)
                    and len(server.callback_answers) >= buttons_before + buttons
                ),
                timeout=120,
                describe=lambda: (
                    f"round {round_number}: answers to "
                    f"{[c for c in waiting_message if len(server.messages_to(c)) <= seen[c]]}"
                ),
            )
        await server.no_more_messages(CHATS[0], wait=1.5)  # late album answers and anything sent twice

        guides = {texts.help_text(), texts.welcome(None), texts.welcome(DEMO_HANDLE)}  # long by design
        for message in server.sent:
            text = message.plain_text
            assert text.strip() and len(text) <= MAX_ANY_ANSWER, text[:200]
            assert text != texts.WORKING_ON_IT and "Traceback" not in text, text
            informative = "should get about" in text or "Got it:" in text or message.text in guides
            if message.method == "sendMessage" and not informative:
                assert len(text) <= MAX_ERROR_ANSWER, text

        assert fuzzer.valid_photos_left == 0  # the run did reach real predictions too
        assert unexpected_errors(caplog) == []

        normal = CHATS[0]  # has an account; its drafts may be full, so make room first
        for text in ("/clear", f"/handle {DEMO_HANDLE}"):
            before = len(server.messages_to(normal))
            server.send_text(normal, text)
            await server.wait_until(lambda: len(server.messages_to(normal)) > before)
        before = len(server.messages_to(normal))
        server.send_photo(normal, VALID_PHOTOS[0].read_bytes())
        await server.wait_until(lambda: len(server.messages_to(normal)) > before, timeout=60)
        assert "this photo should get about" in server.messages_to(normal)[before].plain_text
    assert updates >= 1000
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        assert store.integrity_check() == "ok"
    finally:
        store.close()
