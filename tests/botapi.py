"""A local Telegram Bot API server for tests: aiohttp on 127.0.0.1, speaking the real Bot API JSON.

It queues scripted updates (built in the shape Telegram sends them), serves `getUpdates` with long
polling and offset semantics, serves uploaded and scripted files, and records everything the bot sends.
Long (~670 lines) because it is a small Bot API server in its own right (updates, files, groups, inline
buttons, webhooks, Telegram's own refusals); the tests stay short because it is complete.
The bot under test is pointed at it with

    TELEGRAM_API_BASE_URL=server.base_url   TELEGRAM_FILE_BASE_URL=server.file_base_url

Typical use:

    async with LocalBotApi() as server:
        server.send_text(CHAT, "/start")
        [reply] = await server.next_messages(CHAT, 1)
        assert "likes" in reply.plain_text
"""

from __future__ import annotations

import asyncio
import html
import io
import itertools
import json
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from PIL import Image

DEFAULT_TOKEN = "123456789:TEST-local-bot-api-token"
BOT_USER_ID = 123456789
PHOTO_SIDES = (90, 320, 800, 1280)  # the long sides Telegram keeps of a compressed photo

# Parameters whose value PTB sends JSON-encoded; everything else is a plain string.
JSON_PARAMETERS = {
    "reply_markup",
    "reply_parameters",
    "commands",
    "allowed_updates",
    "link_preview_options",
    "entities",
    "caption_entities",
    "scope",
}
INT_PARAMETERS = {"chat_id", "message_id", "offset", "limit", "reply_to_message_id"}


@dataclass
class BotMessage:
    """A message the bot sent, as the user sees it now (edits applied)."""

    message_id: int
    chat_id: int
    method: str  # sendMessage, sendPhoto, ...
    text: str  # the text, or the caption of a photo
    photo: bytes | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    edits: list[str] = field(default_factory=list)  # every text it was edited to, in order
    deleted: bool = False

    @property
    def plain_text(self) -> str:
        """The text without HTML markup, as a Telegram client renders it."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.text))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        if not self.reply_markup:
            return []
        return [button for row in self.reply_markup.get("inline_keyboard", []) for button in row]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str


class LocalBotApi:
    """One fake Telegram for one bot token. Use as `async with LocalBotApi() as server:`."""

    def __init__(self, token: str = DEFAULT_TOKEN, username: str = "likepredict_test_bot") -> None:
        self.token = token
        self.username = username
        self.sent: list[BotMessage] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.webhook: dict[str, Any] | None = None  # the last setWebhook's parameters; None after deleteWebhook
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._files: dict[str, StoredFile] = {}
        self._failures: dict[str, list[int]] = {}
        self._read_cursor: dict[int, int] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> LocalBotApi:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalBotApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def env(self) -> dict[str, str]:
        """The environment variables that point a bot at this server."""
        return {
            "TELEGRAM_BOT_TOKEN": self.token,
            "TELEGRAM_API_BASE_URL": self.base_url,
            "TELEGRAM_FILE_BASE_URL": self.file_base_url,
        }

    # ---- scripting what users do ----------------------------------------------------------------

    def send_text(self, chat_id: int, text: str, reply_to: int | None = None) -> int:
        """A user types `text` (a leading /command gets its bot_command entity); returns its message id."""
        message = self._user_message(chat_id, text=text)
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.group(0))}]
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(self._find(chat_id, reply_to))
        return self._queue_message(message)

    def send_photo(
        self,
        chat_id: int,
        data: bytes,
        media_group_id: str | None = None,
        caption: str | None = None,
        sizes: list[tuple[int, int, bytes]] | None = None,
        reply_to: int | None = None,
    ) -> int:
        """A user sends a compressed photo; Telegram keeps it in several sizes, each its own file."""
        photo_sizes = sizes if sizes is not None else telegram_photo_sizes(data)
        message = self._user_message(chat_id, photo=[self._photo_size(w, h, b) for w, h, b in photo_sizes])
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(self._find(chat_id, reply_to))
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        if caption is not None:
            message["caption"] = caption
        return self._queue_message(message)

    def send_album(self, chat_id: int, photos: list[bytes], media_group_id: str = "album-1") -> list[int]:
        """An album: one update per photo, sharing a media_group_id, as Telegram delivers it."""
        return [self.send_photo(chat_id, data, media_group_id=media_group_id) for data in photos]

    def send_document(
        self, chat_id: int, data: bytes, file_name: str, mime_type: str | None, declared_size: int | None = None
    ) -> int:
        """A user sends a file; `declared_size` lets a test claim a size without sending the bytes."""
        stored = self.add_file(data, f"documents/{file_name}")
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "file_size": declared_size if declared_size is not None else len(data),
        }
        if mime_type is not None:
            document["mime_type"] = mime_type
        return self._queue_message(self._user_message(chat_id, document=document))

    def send_video(self, chat_id: int) -> int:
        stored = self.add_file(b"\x00\x00\x00\x18ftypmp42", "videos/clip.mp4")
        video = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 640,
            "height": 360,
            "duration": 3,
            "mime_type": "video/mp4",
            "file_size": len(stored.data),
        }
        return self._queue_message(self._user_message(chat_id, video=video))

    def send_sticker(self, chat_id: int) -> int:
        stored = self.add_file(b"RIFF\x00\x00\x00\x00WEBP", "stickers/file.webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._queue_message(self._user_message(chat_id, sticker=sticker))

    def send_voice(self, chat_id: int) -> int:
        stored = self.add_file(b"OggS\x00", "voice/file.oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": 2,
            "mime_type": "audio/ogg",
        }
        return self._queue_message(self._user_message(chat_id, voice=voice))

    def send_animation(self, chat_id: int) -> int:
        stored = self.add_file(b"GIF89a", "animations/file.mp4")
        animation = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 320,
            "height": 240,
            "duration": 2,
            "file_name": "a.mp4",
            "mime_type": "video/mp4",
        }
        # Telegram sends an animation with a `document` field too.
        message = self._user_message(chat_id, animation=animation, document=dict(animation))
        return self._queue_message(message)

    def press_button(self, chat_id: int, message_id: int, data: str) -> str:
        """A user presses an inline button with `data` under the bot's message `message_id`."""
        return self._press(chat_id, data, message=self._message_json(self._find(chat_id, message_id)))

    def press_inline_button(
        self, chat_id: int, inline_message_id: str, data: str | None, game: str | None = "game"
    ) -> str:
        """A user presses a button under an inline message (sent via the bot in another chat): the query has
        an `inline_message_id` and no `message`; with no `data` it is a game's button (`game`), or, with
        neither, a query carrying neither field (both are optional in the Bot API)."""
        return self._press(chat_id, data, game, inline_message_id=inline_message_id)

    def _press(self, chat_id: int, data: str | None, game: str | None = None, **where: Any) -> str:
        query_id = f"cq{next(self._update_ids)}"
        query = {"id": query_id, "from": self._user(chat_id), "chat_instance": f"ci{chat_id}", **where}
        query.update({"data": data} if data is not None else {"game_short_name": game} if game is not None else {})
        self._queue({"callback_query": query})
        return query_id

    def fail_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` get Telegram's flood-control answer (HTTP 429)."""
        self._failures.setdefault(method, []).extend([retry_after] * times)

    def lose_files(self) -> None:
        """Every file sent so far is gone: `getFile` answers 400, as Telegram does for a stale file id."""
        self._files.clear()

    def take_updates(self) -> list[dict[str, Any]]:
        """The updates queued so far, removed from `getUpdates`: for a test to deliver them to a webhook."""
        updates, self._updates = self._updates, []
        return updates

    def add_file(self, data: bytes, file_path: str) -> StoredFile:
        number = next(self._file_ids)
        stored = StoredFile(f"file-{number}", f"unique-{number}", data, f"{number}/{file_path}")
        self._files[stored.file_id] = stored
        return stored

    # ---- what the bot did -----------------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[BotMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    async def next_messages(self, chat_id: int, n: int = 1, timeout: float = 30.0) -> list[BotMessage]:
        """The next `n` messages the bot sends to `chat_id` (after those returned before); waits for them."""
        start = self._read_cursor.get(chat_id, 0)
        await self.wait_until(
            lambda: len(self.messages_to(chat_id)) >= start + n,
            timeout,
            lambda: f"{n} message(s) to chat {chat_id}; got {self._describe(chat_id, start)}",
        )
        self._read_cursor[chat_id] = start + n
        return self.messages_to(chat_id)[start : start + n]

    async def no_more_messages(self, chat_id: int, wait: float = 0.5) -> list[BotMessage]:
        """Messages to `chat_id` beyond those already read, after letting the bot run for `wait` seconds."""
        await asyncio.sleep(wait)
        return self.messages_to(chat_id)[self._read_cursor.get(chat_id, 0) :]

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 30.0, describe: Callable[[], str] = lambda: "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {describe()}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    def _describe(self, chat_id: int, start: int) -> str:
        return repr([m.plain_text[:80] for m in self.messages_to(chat_id)[start:]])

    # ---- the Bot API ------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        params = await _read_params(request)
        failures = self._failures.get(method)
        if failures:
            retry_after = failures.pop(0)
            return _error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except ApiError as error:
            return _error(400, str(error))
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.Response(status=404)

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_USER_ID,
            "is_bot": True,
            "first_name": "Likepredict",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates") in ("true", "True", True):
            self._updates.clear()
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        async with self._changed:
            while True:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or self._closing:
                    return self._updates[:limit]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_length(params["text"], TEXT_LIMIT, "message is too long")
        return self._record(params, "sendMessage", params["text"])

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_length(params.get("caption", ""), CAPTION_LIMIT, "message caption is too long")
        photo = params["photo"]
        data = photo if isinstance(photo, bytes) else self._files[photo].data
        return self._record(params, "sendPhoto", params.get("caption", ""), photo=data)

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_length(params["text"], TEXT_LIMIT, "message is too long")
        message = self._find(params["chat_id"], params["message_id"])
        if message.text == params["text"] and message.reply_markup == params.get("reply_markup"):
            raise ApiError("Bad Request: message is not modified")
        message.text = params["text"]
        message.edits.append(params["text"])
        message.reply_markup = params.get("reply_markup")
        return self._message_json(message)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params["chat_id"], params["message_id"])
        message.reply_markup = params.get("reply_markup")
        return self._message_json(message)

    async def _api_deletemessage(self, params: dict[str, Any]) -> bool:
        self._find(params["chat_id"], params["message_id"]).deleted = True
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        self.chat_actions.append((params["chat_id"], params["action"]))
        return True

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        _check_length(params.get("text", ""), POPUP_LIMIT, "MESSAGE_TOO_LONG")
        self.callback_answers.append(params)
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        self.commands = list(params["commands"])
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands

    async def _api_getfile(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise ApiError("Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ---- internals ------------------------------------------------------------------------------

    def _record(self, params: dict[str, Any], method: str, text: str, photo: bytes | None = None) -> dict[str, Any]:
        reply_to = params.get("reply_to_message_id")
        if reply_to is None and isinstance(params.get("reply_parameters"), dict):
            reply_to = params["reply_parameters"].get("message_id")
        message = BotMessage(
            next(self._message_ids), params["chat_id"], method, text, photo, params.get("reply_markup"), reply_to
        )
        self.sent.append(message)
        return self._message_json(message)

    def _find(self, chat_id: int, message_id: int) -> BotMessage:
        for message in self.sent:
            if message.chat_id == chat_id and message.message_id == message_id:
                return message
        raise ApiError("Bad Request: message to edit not found")

    def _message_json(self, message: BotMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": "private", "first_name": "Tester"},
            "from": {"id": BOT_USER_ID, "is_bot": True, "first_name": "Likepredict", "username": self.username},
        }
        if message.method == "sendPhoto":
            body["caption"] = message.text
            width, height = _image_size(message.photo or b"")
            body["photo"] = [
                {
                    "file_id": f"sent-{message.message_id}",
                    "file_unique_id": f"sent-{message.message_id}",
                    "width": width,
                    "height": height,
                }
            ]
        else:
            body["text"] = message.text
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Tester", "language_code": "en"}

    def _user_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        """A message a user sends; a negative `chat_id` is a group (as in Telegram), the sender user -chat_id."""
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "Tester"}
        if chat_id < 0:
            chat = {"id": chat_id, "type": "group", "title": "Testers"}
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(abs(chat_id)),
            **content,
        }

    def _photo_size(self, width: int, height: int, data: bytes) -> dict[str, Any]:
        stored = self.add_file(data, f"photos/file_{width}x{height}.jpg")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(data),
        }

    def _queue_message(self, message: dict[str, Any]) -> int:
        self._queue({"message": message})
        return message["message_id"]

    def _queue(self, content: dict[str, Any]) -> None:
        self._updates.append({"update_id": next(self._update_ids), **content})
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


TEXT_LIMIT, CAPTION_LIMIT, POPUP_LIMIT = 4096, 1024, 200  # what Telegram takes, in UTF-16 units after parsing


def _check_length(text: str, limit: int, description: str) -> None:
    shown = html.unescape(re.sub(r"<[^>]+>", "", text))
    if len(shown.encode("utf-16-le")) // 2 > limit:
        raise ApiError(f"Bad Request: {description}")


class ApiError(Exception):
    """A Bot API call Telegram would refuse with 400."""


def telegram_photo_sizes(data: bytes) -> list[tuple[int, int, bytes]]:
    """The sizes Telegram keeps of a compressed photo: 90, 320, 800, 1280 px long side (those not larger
    than the original), each re-encoded as JPEG, smallest first."""
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        sizes = []
        for side in PHOTO_SIDES:
            scale = min(1.0, side / max(image.size))
            resized = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
            if sizes and resized.size == (sizes[-1][0], sizes[-1][1]):
                continue
            buffer = io.BytesIO()
            resized.save(buffer, "JPEG", quality=87)
            sizes.append((resized.width, resized.height, buffer.getvalue()))
    return sizes


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return (0, 0)


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        raw: dict[str, Any] = await request.json()
        return raw
    form = await request.post()
    params: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            params[name] = value.file.read()
        elif name in JSON_PARAMETERS:
            params[name] = json.loads(value)
        elif name in INT_PARAMETERS:
            params[name] = int(value)
        else:
            params[name] = value
    return params


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


@asynccontextmanager
async def running_bot(settings: Any, poll_timeout: int = 2, application: Any = None) -> AsyncIterator[Any]:
    """The bot built as `python -m bot` builds it (or `application`, built so), polling in this event loop, in
    the order `run_polling` uses (initialize, post_init, polling, start; then the reverse, and post_shutdown),
    polling errors going to the error handlers as `run_polling` sends them."""
    from telegram import Update

    from bot.app import build_application

    application = build_application(settings) if application is None else application
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=poll_timeout,
            allowed_updates=Update.ALL_TYPES,
            error_callback=lambda error: application.create_task(application.process_error(None, error)),
        )
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


_warm_template: Path | None = None


def warm_database(settings: Any) -> None:
    """Put at `settings.db_path` a store that already holds the demo accounts and the similarity vectors
    of their photos, as a bot that has run a while has.

    Built once per test process with the real models: embedding the ~180 demo photos takes the hashtag
    engine a while, and a fresh store per test would pay that every time. Stored image paths point into
    the template's folder, which lives as long as the process; each test's own photos go to its own.
    """
    global _warm_template
    if _warm_template is None:
        with ThreadPoolExecutor(1) as thread:  # its own event loop, whatever loop the caller runs in
            _warm_template = thread.submit(asyncio.run, _build_warm_template(settings)).result()
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_warm_template, settings.db_path)


async def _build_warm_template(settings: Any) -> Path:
    from app.services import open_services

    directory = Path(tempfile.mkdtemp(prefix="likepredict-warm-"))
    template = settings.replaced(db_path=directory / "warm.sqlite3", data_dir=directory / "data")
    service = await open_services(template)
    try:
        await asyncio.to_thread(service.hashtags.index_stored_images)
    finally:
        await service.aclose()
    return template.db_path
