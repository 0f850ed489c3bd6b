"""Builds and runs the Telegram bot: `build_application(settings)` and `run_bot(settings)`."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)

from app.services import open_services
from bot import handlers, texts
from bot.albums import AlbumCollector, PendingAlbum
from bot.context import STATE_KEY, BotState, bot_state
from bot.flood import RetryAfterLimiter
from bot.limits import SlidingWindowLimit
from bot.ordering import PerChatUpdateProcessor
from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 32
RESUME_KEY = "likepredict.resume"


def build_application(settings: Settings) -> Application:
    """The bot exactly as `python -m bot` runs it; services open in `post_init`, close in `post_shutdown`."""
    token = settings.token
    if not token:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and set it.")
    redact_token_in_logs(token)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs request URLs, which carry the token
    ordering = PerChatUpdateProcessor(MAX_CONCURRENT_UPDATES)

    async def post_init(application: Application) -> None:
        service = await open_services(settings)
        service.index_in_background()

        async def album_done(album: PendingAlbum) -> None:
            await handlers.album_done(application.bot, bot_state(application), album)

        state = BotState(
            settings,
            service,
            SlidingWindowLimit(settings.photos_per_minute),
            AlbumCollector(album_done, settings.album_wait_seconds),
            ordering,
        )
        application.bot_data[STATE_KEY] = state
        await application.bot.set_my_commands([BotCommand(name, about) for name, about in texts.COMMANDS])
        unfinished = await service.unfinished_best_requests()
        if unfinished:
            application.bot_data[RESUME_KEY] = asyncio.create_task(resume_when_running(application, unfinished))

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(ordering)
        .rate_limiter(RetryAfterLimiter())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    register_handlers(application)
    return application


async def resume_when_running(application: Application, requests: list[tuple[int, int]]) -> None:
    """Answer the /best requests a restart interrupted, once the application runs: tasks made with
    `application.create_task` then are awaited by `stop()`, so a clean stop lets them finish."""
    while not application.running:
        await asyncio.sleep(0.05)
    state = bot_state(application)
    for request_id, chat_id in requests:
        log.info("answering /best request %s interrupted by a restart", request_id)
        application.create_task(handlers.resume_best(application.bot, state, request_id, chat_id))


async def post_shutdown(application: Application) -> None:
    resume = application.bot_data.pop(RESUME_KEY, None)
    if resume is not None:
        resume.cancel()
        await asyncio.gather(resume, return_exceptions=True)
    state = application.bot_data.pop(STATE_KEY, None)
    if isinstance(state, BotState):
        await state.albums.aclose()
        await state.service.aclose()


def register_handlers(application: Application) -> None:
    """Handlers in the order they are tried; the first that matches an update handles it."""
    new = filters.UpdateType.MESSAGE  # edits of old messages are not new requests
    commands = [
        ("start", handlers.start),
        ("help", handlers.help_command),
        ("handle", handlers.handle_command),
        ("best", handlers.best),
        ("stats", handlers.stats),
        ("actual", handlers.actual),
        ("clear", handlers.clear),
        ("forget", handlers.forget),
    ]
    for name, callback in commands:
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(CallbackQueryHandler(handlers.hashtags_button, pattern=handlers.HASHTAGS_CALLBACK))
    application.add_handler(CallbackQueryHandler(handlers.unknown_button))
    application.add_handler(MessageHandler(new & filters.PHOTO, handlers.photo))
    application.add_handler(
        MessageHandler(new & filters.ANIMATION, handlers.animation)
    )  # before documents: a GIF is both
    application.add_handler(MessageHandler(new & filters.Document.ALL, handlers.document))
    application.add_handler(MessageHandler(new & (filters.VIDEO | filters.VIDEO_NOTE), handlers.video))
    application.add_handler(MessageHandler(new & filters.Sticker.ALL, handlers.sticker))
    application.add_handler(MessageHandler(new & (filters.VOICE | filters.AUDIO), handlers.voice))
    application.add_handler(MessageHandler(new & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(new & filters.TEXT, handlers.text))
    application.add_handler(MessageHandler(new & filters.ChatType.PRIVATE, handlers.other))  # not group chatter
    application.add_error_handler(handlers.on_error)


_redacted_tokens: set[str] = set()


def redact_token_in_logs(token: str) -> None:
    """Every log record made from now on has `token` replaced, whatever logger or handler it goes to.

    httpx (at WARNING here) and python-telegram-bot (at DEBUG: "Set Bot API URL ...") would otherwise
    write URLs that carry the token. A record factory catches records before any handler sees them,
    including handlers added later.
    """
    if not token or token in _redacted_tokens:
        return
    _redacted_tokens.add(token)
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        # Formatted now, not when a handler asks: PTB logs result dicts it then fills with file URLs.
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed logging call; keep what can be shown
            message = f"{record.msg} {record.args}"
        if record.args or token in message:
            record.msg, record.args = message.replace(token, "<token>"), None
        return record

    logging.setLogRecordFactory(redacting_factory)


def run_bot(settings: Settings) -> None:
    """Long polling until stopped (Ctrl-C or SIGTERM)."""
    application = build_application(settings)
    log.info("bot polling %s", settings.telegram_api_base_url)
    application.run_polling(allowed_updates=Update.ALL_TYPES)
