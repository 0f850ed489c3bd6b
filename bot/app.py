"""Builds and runs the Telegram bot: `build_application(settings)` and `run_bot(settings)`."""

from __future__ import annotations

import logging
import sys
from functools import partial
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from app.services import open_services
from bot import handlers, photos, texts
from bot.addressing import to_this_bot
from bot.albums import AlbumCollector
from bot.context import CONTEXT_TYPES, STATE_KEY, BotApplication, BotState
from bot.jobs import AlbumComplete, AnswerPhoto, ResumeBest
from bot.limits import SlidingWindowLimit
from bot.metrics import MeteredUpdateProcessor, Metrics, count_failure
from bot.ordering import PerChatUpdateProcessor
from bot.telegram_bot import build_bot
from bot.webhook import run_webhook, serve_metrics_while_polling
from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 32
# The event loop shares the GIL with the CPU workers (bot analysis runs in threads). Each socket call the loop
# makes (httpcore checks every pooled connection on each request) gives the GIL up, and taking it back waits up
# to this long while a worker runs Python code: at Python's default 5 ms, one request could stall the loop for
# 50-100 ms under load (benchmarks/load.py). The workers' heavy parts (onnxruntime, OpenCV) run without the GIL.
GIL_SWITCH_SECONDS = 0.001
NEW = filters.UpdateType.MESSAGE  # edits of old messages are not new requests


def build_application(settings: Settings) -> BotApplication:
    """The bot exactly as `python -m bot` runs it; services open in `post_init`, close in `post_shutdown`."""
    token = settings.token
    if not token:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and set it.")
    redact_token_in_logs(token)
    if settings.webhook_url:  # PTB logs setWebhook's parameters, the secret token too, at DEBUG
        redact_token_in_logs(settings.webhook_secret.get_secret_value())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs request URLs, which carry the token
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
    for_us = NEW & to_this_bot(name for name, _ in texts.COMMANDS)  # in groups: only what is addressed to the bot

    async def post_init(application: BotApplication) -> None:
        service = await open_services(settings)
        service.index_in_background()
        albums = AlbumCollector(application.update_queue.put_nowait, settings.album_wait_seconds)
        application.bot_data[STATE_KEY] = BotState(
            settings, service, SlidingWindowLimit(settings.photos_per_minute), albums
        )
        processor = application.update_processor
        if isinstance(processor, PerChatUpdateProcessor):
            processor.on_arrival = partial(photos.record_arrival, application, for_us)
        await application.bot.set_my_commands([BotCommand(name, about) for name, about in texts.COMMANDS])
        for request_id, chat_id in await service.unfinished_best_requests():
            application.update_queue.put_nowait(ResumeBest(chat_id, request_id))
        for r in await service.unfinished_photo_requests():  # album photos too: each album is answered again
            job = AnswerPhoto(
                r.chat_id, r.id, r.message_id, r.file_id, r.file_unique_id, r.suffix, True, None, r.media_group_id
            )
            application.update_queue.put_nowait(job)

    metrics = Metrics()
    application = (
        ApplicationBuilder()
        .bot(build_bot(token, settings))  # requests, defaults, flood control and Telegram's limits: bot/telegram_bot.py
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(MeteredUpdateProcessor(metrics, MAX_CONCURRENT_UPDATES))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    metrics.watch(application)
    register_handlers(application, for_us)
    return application


async def post_shutdown(application: BotApplication) -> None:
    state = application.bot_data.pop(STATE_KEY, None)
    if isinstance(state, BotState):
        state.albums.close()
        await state.service.aclose()


def register_handlers(application: BotApplication, for_us: filters.BaseFilter) -> None:
    """Handlers in the order they are tried; the first that matches an update handles it. `for_us`: the
    messages addressed to the bot (its own filter: it remembers albums addressed to it)."""
    application.add_handler(TypeHandler(AlbumComplete, photos.album_complete))
    application.add_handler(TypeHandler(ResumeBest, handlers.resume_best))
    application.add_handler(TypeHandler(AnswerPhoto, photos.resume_photo))
    commands: list[tuple[str, Any]] = [
        ("start", handlers.start),
        ("help", handlers.help_command),
        ("handle", handlers.handle_command),
        ("best", handlers.best),
        ("stats", handlers.stats),
        ("timezone", handlers.timezone),
        ("actual", handlers.actual),
        ("clear", handlers.clear),
        ("forget", handlers.forget),
    ]
    for name, callback in commands:
        application.add_handler(CommandHandler(name, callback, filters=NEW))
    application.add_handler(CallbackQueryHandler(handlers.hashtags_button, pattern=handlers.HASHTAGS_CALLBACK))
    application.add_handler(CallbackQueryHandler(handlers.unknown_button))
    application.add_handler(MessageHandler(for_us & filters.PHOTO, photos.photo))
    application.add_handler(
        MessageHandler(for_us & filters.ANIMATION, handlers.animation)
    )  # before documents: a GIF is both
    application.add_handler(MessageHandler(for_us & filters.Document.ALL, photos.document))
    application.add_handler(MessageHandler(for_us & (filters.VIDEO | filters.VIDEO_NOTE), handlers.video))
    application.add_handler(MessageHandler(for_us & filters.Sticker.ALL, handlers.sticker))
    application.add_handler(MessageHandler(for_us & (filters.VOICE | filters.AUDIO), handlers.voice))
    application.add_handler(MessageHandler(for_us & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(for_us & filters.TEXT, handlers.text))
    application.add_handler(MessageHandler(NEW & filters.ChatType.PRIVATE, handlers.other))  # not group chatter
    application.add_error_handler(count_failure)  # only counts, for /metrics
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
    """Long polling until stopped (Ctrl-C or SIGTERM); webhook mode when `LIKEPREDICT_WEBHOOK_URL` is set."""
    application = build_application(settings)
    if settings.webhook_url:
        run_webhook(application, settings)
        return
    serve_metrics_while_polling(application, settings)
    log.info("bot polling %s", settings.telegram_api_base_url)
    application.run_polling(allowed_updates=Update.ALL_TYPES)
