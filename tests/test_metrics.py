"""/healthz and /metrics, scraped over real HTTP from the real bot: on the webhook server, and on
LIKEPREDICT_METRICS_PORT when polling."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_application
from bot.context import state_of
from bot.metrics import Metrics
from bot.webhook import SECRET_HEADER, HttpServer, build_web_app, serve_metrics_while_polling, webhook_bot
from core.paths import DEMO_HANDLE, DEMO_SAMPLES
from core.settings import Settings
from tests.botapi import LocalBotApi, running_bot
from tests.test_bot import bot_settings
from tests.test_bot_process import bot_environment
from tests.test_webhook import free_port

CHAT = 5005
SECRET = "metrics-test-secret"
PUBLIC_URL = "https://bot.example.com/hook"
SAMPLE = sorted(DEMO_SAMPLES.glob("*.jpg"))[0]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@asynccontextmanager
async def polling_with_metrics(server: LocalBotApi, tmp_path: Path) -> AsyncIterator[HttpServer]:
    """The bot polling as `python -m bot` does with LIKEPREDICT_METRICS_PORT set; its HTTP server."""
    async with polling_bot_with_metrics(server, tmp_path) as (_, http):
        yield http


@asynccontextmanager
async def polling_bot_with_metrics(server: LocalBotApi, tmp_path: Path) -> AsyncIterator[tuple[Any, HttpServer]]:
    settings = bot_settings(server, tmp_path, metrics_port=0)
    application = build_application(settings)
    http = serve_metrics_while_polling(application, settings)
    assert http is not None
    async with running_bot(settings, application=application):
        yield application, http


async def get(http: HttpServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{http.port}{path}") as response:
        return response.status, await response.text()


async def scrape(http: HttpServer) -> Samples:
    """Every sample /metrics shows, by name and labels."""
    status, text = await get(http, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape_after(http: HttpServer, updates: int) -> Samples:
    """/metrics once `updates` updates have been timed: the update that sent the last answer may still be
    finishing (storing which message carried the prediction) when the answer arrives."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        samples = await scrape(http)
        if total(samples, "likepredict_answer_seconds_count") >= updates:
            return samples
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {updates} updates timed"
        await asyncio.sleep(0.05)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over the samples whose labels include `labels`."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


async def answer_a_photo(server: LocalBotApi) -> None:
    server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
    await server.next_messages(CHAT)
    server.send_photo(CHAT, SAMPLE.read_bytes())
    [advice] = await server.next_messages(CHAT)
    assert "this photo should get about" in advice.plain_text


async def test_metrics_count_an_answered_photo_and_its_latency(server: LocalBotApi, tmp_path: Path) -> None:
    async with polling_with_metrics(server, tmp_path) as http:
        before = await scrape(http)
        assert total(before, "likepredict_photos_answered_total") == 0
        await answer_a_photo(server)
        after = await scrape_after(http, updates=2)
    assert total(after, "likepredict_photos_answered_total", outcome="answered") == 1
    assert total(after, "likepredict_answer_seconds_count", kind="photo") == 1
    assert total(after, "likepredict_answer_seconds_sum", kind="photo") > 0
    assert total(after, "likepredict_answer_seconds_count", kind="command") == 1  # the /handle
    assert ("likepredict_update_queue_depth", ()) in after
    assert ("likepredict_updates_in_progress", ()) in after


async def test_a_photo_telegram_cannot_serve_counts_a_telegram_failure(server: LocalBotApi, tmp_path: Path) -> None:
    async with polling_with_metrics(server, tmp_path) as http:
        server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
        await server.next_messages(CHAT)
        server.send_photo(CHAT, SAMPLE.read_bytes())
        server.lose_files()
        await server.next_messages(CHAT)  # whatever the bot says about it
        samples = await scrape_after(http, updates=2)
    assert total(samples, "likepredict_telegram_failures_total") == 1
    assert total(samples, "likepredict_photos_answered_total", outcome="answered") == 0
    assert total(samples, "likepredict_photos_answered_total") == 1  # refused or failed, but answered


async def test_an_account_the_source_cannot_find_counts_an_instagram_failure(
    server: LocalBotApi, tmp_path: Path
) -> None:
    async with polling_with_metrics(server, tmp_path) as http:
        server.send_text(CHAT, "/handle nobody_here_at_all")
        [reply] = await server.next_messages(CHAT)
        assert "can't find" in reply.plain_text
        server.send_text(CHAT, "/handle not a handle!")  # a typing mistake, not a failure of the source
        await server.next_messages(CHAT)
        samples = await scrape_after(http, updates=2)
    assert total(samples, "likepredict_instagram_failures_total", kind="AccountNotFound") == 1
    assert total(samples, "likepredict_instagram_failures_total") == 1
    assert total(samples, "likepredict_telegram_failures_total") == 0


async def test_healthz_is_200_with_the_model_when_running_and_503_when_the_store_is_gone(
    server: LocalBotApi, tmp_path: Path
) -> None:
    async with polling_bot_with_metrics(server, tmp_path) as (application, http):
        status, body = await get(http, "/healthz")
        assert status == 200
        assert '"status": "ok"' in body and '"model":' in body
        state_of(application.bot_data).service.store.close()  # the database can no longer be read
        status, body = await get(http, "/healthz")
        assert status == 503 and "store" in body


async def test_healthz_is_503_before_the_services_open(server: LocalBotApi, tmp_path: Path) -> None:
    application = build_application(bot_settings(server, tmp_path))  # built, post_init not run
    http = HttpServer(build_web_app(application))
    await http.start("127.0.0.1", 0)
    try:
        status, body = await get(http, "/healthz")
    finally:
        await http.stop()
    assert status == 503 and "starting" in body


async def test_the_polling_metrics_server_has_no_webhook(server: LocalBotApi, tmp_path: Path) -> None:
    async with polling_with_metrics(server, tmp_path) as http, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{http.port}/"
        async with session.post(url, json={"update_id": 1}, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status in (404, 405)


async def test_webhook_server_serves_metrics_and_counts_refused_requests(server: LocalBotApi, tmp_path: Path) -> None:
    settings: Settings = bot_settings(server, tmp_path, webhook_url=PUBLIC_URL, webhook_port=0, webhook_secret=SECRET)
    async with webhook_bot(build_application(settings), settings) as http, aiohttp.ClientSession() as session:
        server.send_text(CHAT, "/start")
        [update] = server.take_updates()
        url = f"http://127.0.0.1:{http.port}/hook"
        async with session.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as response:
            assert response.status == 403
        async with session.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200
        await server.next_messages(CHAT)
        samples = await scrape_after(http, updates=1)
        status, _ = await get(http, "/healthz")
    assert total(samples, "likepredict_webhook_requests_total", status="403") == 1
    assert total(samples, "likepredict_webhook_requests_total", status="200") == 1
    assert total(samples, "likepredict_answer_seconds_count", kind="command") == 1
    assert status == 200


def test_each_bot_counts_in_its_own_registry() -> None:
    first, second = Metrics(), Metrics()  # the global registry would refuse the second
    first.photos_answered.labels("answered").inc()
    assert b'likepredict_photos_answered_total{outcome="answered"} 1.0' in first.render()
    assert b"likepredict_photos_answered_total{" not in second.render()


async def test_python_m_bot_polling_serves_health_and_metrics_on_the_metrics_port(tmp_path: Path) -> None:
    async with LocalBotApi(token="777002:metrics-process-token") as server:
        port = free_port()
        env = bot_environment(server, tmp_path) | {"LIKEPREDICT_METRICS_PORT": str(port)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            server.send_text(CHAT, "/start")
            await server.next_messages(CHAT, timeout=60)  # polling, so the services are open
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200 and (await response.json())["status"] == "ok"
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert response.status == 200
                    assert "likepredict_answer_seconds_bucket" in await response.text()
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
