"""The bot's own HTTP server (aiohttp): Telegram's webhook in webhook mode; /healthz and /metrics in both modes.

Webhook mode follows python-telegram-bot's `examples/customwebhookbot`: the Application is initialised and
started by hand and each update Telegram POSTs is put on `application.update_queue` (`Update.de_json`), so
the same per-chat update processor, handlers and error handler run as when polling, and jobs (an album
answered, a /best resumed after a restart) share that queue. PTB's `run_webhook` serves only the webhook;
this server also answers /healthz and /metrics.

Telegram counts an update as delivered when the webhook answers 200, as it does when polling once the next
`getUpdates` moves the offset past it; the bot answers 200 as soon as the update is queued.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.context import STATE_KEY, BotApplication, BotState
from bot.metrics import CONTENT_TYPE, metrics_of
from core.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is JSON of a few kB; photos come as file ids
DRAIN_SECONDS = 30.0  # at a stop, how long updates already acknowledged may take to leave the queue
HEALTH_TIMEOUT_SECONDS = 5.0  # a store that cannot answer a one-page read in this long is not healthy
APPLICATION: web.AppKey[BotApplication] = web.AppKey("application")
SECRET: web.AppKey[bytes] = web.AppKey("secret")


def build_web_app(application: BotApplication, webhook_path: str | None = None, secret: str = "") -> web.Application:
    """/healthz and /metrics; with `webhook_path`, also the webhook, which needs `secret` in every request."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[APPLICATION] = application
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if webhook_path is not None:
        if not secret:
            raise ValueError("a webhook needs a secret token")
        app[SECRET] = secret.encode()
        app.router.add_post(webhook_path, webhook)
    return app


async def webhook(request: web.Request) -> web.Response:
    """One update from Telegram: checked, parsed and queued; 403 without the right secret token."""
    application = request.app[APPLICATION]
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
    if not hmac.compare_digest(given, request.app[SECRET]):
        return _counted(application, web.Response(status=403, text="wrong or missing secret token"))
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        return _counted(application, web.Response(status=400, text="expected an update as a JSON object"))
    try:
        update = Update.de_json(data, application.bot)
    except Exception as error:  # acknowledged and skipped: a 5xx would make Telegram send it again forever
        log.warning("skipped update %s that python-telegram-bot cannot read: %r", data.get("update_id"), error)
        return _counted(application, web.Response(status=200))
    await application.update_queue.put(update)
    return _counted(application, web.Response(status=200))


def _counted(application: BotApplication, response: web.Response) -> web.Response:
    counters = metrics_of(application.bot_data)
    if counters is not None:
        counters.webhook_requests.labels(str(response.status)).inc()
    return response


async def healthz(request: web.Request) -> web.Response:
    """200 when the services are open (models loaded) and the store answers a read; 503 otherwise."""
    application = request.app[APPLICATION]
    state = application.bot_data.get(STATE_KEY)
    if not isinstance(state, BotState):
        return _health(503, status="starting")
    database = state.service.store.database
    try:
        await asyncio.wait_for(
            asyncio.to_thread(database.rows, "SELECT count(*) AS n FROM sqlite_master"), HEALTH_TIMEOUT_SECONDS
        )
    except (sqlite3.Error, TimeoutError) as error:
        log.warning("health check: the store did not answer: %r", error)
        return _health(503, status="store unavailable")
    return _health(
        200,
        status="ok",
        store="ok",
        model=state.service.predictor.model_version,
        queue=application.update_queue.qsize(),
    )


def _health(http_status: int, /, **body: Any) -> web.Response:
    return web.Response(status=http_status, text=json.dumps(body), content_type="application/json")


async def metrics(request: web.Request) -> web.Response:
    counters = metrics_of(request.app[APPLICATION].bot_data)
    if counters is None:
        return web.Response(status=404, text="metrics are off")
    return web.Response(body=counters.render(), headers={"Content-Type": CONTENT_TYPE})


class HttpServer:
    """An aiohttp app on `host:port` (port 0: a free one, then `port` says which)."""

    def __init__(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        self.port = 0
        self._started = False

    async def start(self, host: str, port: int) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._started = True
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self._runner.cleanup()


def webhook_path(url: str) -> str:
    """The path Telegram will POST to: that of the public URL (a reverse proxy passes it on unchanged)."""
    return urlsplit(url).path or "/"


@asynccontextmanager
async def webhook_bot(application: BotApplication, settings: Settings) -> AsyncIterator[HttpServer]:
    """The bot in webhook mode, in the order PTB's `run_webhook` uses (initialize, post_init, setWebhook, start;
    then the reverse, and post_shutdown), the server up from before the models load (/healthz says 503)."""
    if not settings.webhook_url:
        raise ValueError("webhook mode needs LIKEPREDICT_WEBHOOK_URL")
    secret = settings.webhook_secret.get_secret_value()
    server = HttpServer(build_web_app(application, webhook_path(settings.webhook_url), secret))
    await application.initialize()
    try:
        await server.start(settings.webhook_listen, settings.webhook_port)
        try:
            if application.post_init:
                await application.post_init(application)
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
            await application.start()
            try:
                yield server
            finally:
                await server.stop()  # no more updates accepted...
                await _drained(application)  # ...and those acknowledged taken from the queue, which stop() drops
                await application.stop()
        finally:
            await server.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


async def _drained(application: BotApplication) -> None:
    deadline = asyncio.get_running_loop().time() + DRAIN_SECONDS
    while not application.update_queue.empty() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)


def run_webhook(application: BotApplication, settings: Settings) -> None:
    """Webhook mode until SIGINT or SIGTERM."""
    asyncio.run(_serve_until_signal(application, settings))


async def _serve_until_signal(application: BotApplication, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with webhook_bot(application, settings) as server:
        log.info("bot webhook %s, listening on %s:%s", settings.webhook_url, settings.webhook_listen, server.port)
        await stop.wait()
    log.info("bot stopped")


def serve_metrics_while_polling(application: BotApplication, settings: Settings) -> HttpServer | None:
    """Make `run_polling` also serve /healthz and /metrics on `LIKEPREDICT_METRICS_PORT`: up before the
    services open (so /healthz says 503 while they load), down after they close. None without that port."""
    port = settings.metrics_port
    if port is None:
        return None
    server = HttpServer(build_web_app(application))
    open_services, close_services = application.post_init, application.post_shutdown

    async def post_init(app: BotApplication) -> None:
        await server.start(settings.webhook_listen, port)
        log.info("health and metrics on %s:%s", settings.webhook_listen, server.port)
        if open_services:
            await open_services(app)

    async def post_shutdown(app: BotApplication) -> None:
        try:
            if close_services:
                await close_services(app)
        finally:
            await server.stop()

    application.post_init = post_init
    application.post_shutdown = post_shutdown
    return server
