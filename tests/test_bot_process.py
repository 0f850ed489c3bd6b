"""`python -m bot` as its own process, pointed at the local Bot API server through the environment."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from core.paths import DEMO_HANDLE, DEMO_SAMPLES
from core.settings import Settings, SourceSetting
from tests.botapi import LocalBotApi, warm_database

CHAT = 3003


def bot_environment(server: LocalBotApi, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LIKEPREDICT_"))}
    env.update(server.env())
    warm_database(Settings(db_path=tmp_path / "bot.sqlite3", data_dir=tmp_path / "data", source=SourceSetting("demo")))
    env.update(
        {
            "LIKEPREDICT_DB": str(tmp_path / "bot.sqlite3"),
            "LIKEPREDICT_DATA_DIR": str(tmp_path / "data"),
            "LIKEPREDICT_SOURCE": "demo",
            "LIKEPREDICT_LOG_LEVEL": "DEBUG",
        }
    )
    return env


async def test_python_m_bot_polls_answers_and_stops_cleanly(tmp_path: Path) -> None:
    async with LocalBotApi(token="777000:process-test-token") as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=bot_environment(server, tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
            [summary] = await server.next_messages(CHAT, timeout=60)
            assert "Followers: 5,200" in summary.plain_text
            server.send_photo(CHAT, (DEMO_SAMPLES / "valley.jpg").read_bytes())
            [answer] = await server.next_messages(CHAT)
            assert "this photo should get about" in answer.plain_text
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    log = stderr.decode()
    assert "getUpdates" in log or "polling" in log  # it did log, at DEBUG
    assert server.token not in log


async def test_python_m_bot_without_a_token_says_how_to_set_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LIKEPREDICT_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in stderr.decode()
