"""Prometheus metrics of one running bot: photos answered, answer latency, failures by kind, queue depth.

Each `Metrics` has its own `CollectorRegistry` (not prometheus-client's global one), so two bots in one
process, as in tests, count separately. The bot reaches it through `application.bot_data`, like its services.
Two hooks feed it and nothing else has to know: `MeteredUpdateProcessor` times every update (and job) from
the moment it is handed to the per-chat order until its handler and the error handler are done, and
`count_failure`, an error handler registered next to the bot's own, sorts each error by kind.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update
from telegram.error import TelegramError

from bot.context import BotApplication, BotContext
from bot.errors import TelegramFileError
from bot.jobs import ChatJob
from bot.media import is_image_document
from bot.ordering import PerChatUpdateProcessor
from core.errors import LikepredictError
from scraping.errors import InvalidHandle, InvalidTag, SourceError

METRICS_KEY = "likepredict.metrics"
# Seconds; a photo answer is bounded to ~15 s, a /best of many drafts may take longer.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 15.0, 20.0, 30.0, 60.0, 120.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the text exposition format


class Metrics:
    """The counters; `render()` is the text a Prometheus server scrapes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.photos_answered = Counter(
            "likepredict_photos_answered",
            "Photo updates handled to the end, by outcome (answered, refused with a reason, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.answer_seconds = Histogram(
            "likepredict_answer_seconds",
            "Time from an update entering the per-chat order to its answer being sent, by kind of update.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.instagram_failures = Counter(
            "likepredict_instagram_failures",
            "Failures of the account source (Instagram or its stand-ins), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.telegram_failures = Counter(
            "likepredict_telegram_failures",
            "Failed Telegram requests (polling, downloads, sends), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.webhook_requests = Counter(
            "likepredict_webhook_requests",
            "Requests to the webhook, by HTTP status answered (403: wrong or missing secret).",
            ["status"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "likepredict_update_queue_depth",
            "Updates and jobs waiting in application.update_queue.",
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "likepredict_updates_in_progress",
            "Updates accepted by the per-chat order and not finished (those waiting for their chat included).",
            registry=self.registry,
        )
        self._failed: dict[int, str] = {}  # id(update) -> outcome, while the update is being handled

    def watch(self, application: BotApplication) -> None:
        """Read the queue depth from `application` at each scrape, and make these metrics the bot's."""
        self.queue_depth.set_function(application.update_queue.qsize)
        processor = application.update_processor
        if isinstance(processor, PerChatUpdateProcessor):
            self.in_progress.set_function(lambda: processor.waiting)
        application.bot_data[METRICS_KEY] = self

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def count_failure(self, update: object, error: BaseException | None) -> None:
        telegram_error = _telegram_cause(error)
        if isinstance(error, SourceError) and not isinstance(error, (InvalidHandle, InvalidTag)):
            self.instagram_failures.labels(type(error).__name__).inc()
        elif telegram_error is not None or isinstance(error, TelegramFileError):  # a download 404 has no cause
            # The kind the bot gave it if it wrapped Telegram's error, otherwise Telegram's own.
            wrapper = error if isinstance(error, LikepredictError) else telegram_error
            self.telegram_failures.labels(type(wrapper).__name__).inc()
        if update is not None:
            self._failed[id(update)] = "refused" if isinstance(error, LikepredictError) else "failed"

    def finished(self, update: object, seconds: float) -> None:
        kind = update_kind(update)
        self.answer_seconds.labels(kind).observe(seconds)
        outcome = self._failed.pop(id(update), "answered")
        if kind == "photo":
            self.photos_answered.labels(outcome).inc()


class MeteredUpdateProcessor(PerChatUpdateProcessor):
    """The per-chat order, timing each update until it is answered (the error handler's answer included)."""

    def __init__(self, metrics: Metrics, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self.metrics = metrics

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.perf_counter()
        try:
            await super().do_process_update(update, coroutine)
        finally:
            self.metrics.finished(update, time.perf_counter() - started)


async def count_failure(update: object, context: BotContext) -> None:
    """An error handler beside the bot's own: it only counts."""
    metrics = metrics_of(context.bot_data)
    if metrics is not None:
        metrics.count_failure(update, context.error)


def metrics_of(bot_data: Mapping[Any, Any]) -> Metrics | None:
    metrics = bot_data.get(METRICS_KEY)
    return metrics if isinstance(metrics, Metrics) else None


def update_kind(update: object) -> str:
    """photo, command, button, job or other: the label of an update's latency."""
    if isinstance(update, ChatJob):
        return "job"
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    message = update.message
    if message is None:
        return "other"
    document = message.document
    if message.photo or (document is not None and is_image_document(document.mime_type, document.file_name)):
        return "photo"
    if message.text is not None and message.text.startswith("/"):
        return "command"
    return "other"


def _telegram_cause(error: BaseException | None) -> TelegramError | None:
    """`error` itself or the error it was raised from, if that came from Telegram."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, TelegramError):
            return error
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None
