"""The offline demo prints what the bot answers, and `likepredict run` without a token shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.paths import DEMO_SAMPLES


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIKEPREDICT_", "TELEGRAM_"))}
    env["LIKEPREDICT_DATA_DIR"] = str(cwd / "data")
    return subprocess.run(
        [sys.executable, "-m", "likepredict.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_demo_shows_the_bots_answers_for_the_demo_account_and_every_sample(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /handle demo_creator" in out and "Followers: 5,200" in out
    assert "Median likes of the last 20 posts:" in out
    for sample in sorted(DEMO_SAMPLES.glob("*.jpg")):
        assert f"[sends the photo {sample.name}]" in out
    assert out.count("this photo should get about") == 4
    assert out.count("Hashtags to use: #") == 4
    assert "> /best" in out and "Post #1: about" in out
    assert "[button: All hashtags for #1]" in out
    assert "All hashtags for your #1 draft (@demo_creator):" in out
    assert "<b>" not in out  # printed as a Telegram client shows it
    assert not (tmp_path / "data" / "likepredict.sqlite3").exists()  # the bot's own store is not touched


def test_a_second_demo_run_starts_the_demo_chat_afresh(tmp_path: Path) -> None:
    run_cli("demo", cwd=tmp_path)
    second = run_cli("demo", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("this photo should get about") == 4
    assert "[a picture of the 4 drafts side by side" in second.stdout  # not 8: the first run's drafts are gone


def test_run_without_a_token_says_how_to_set_one_and_shows_the_demo(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("TELEGRAM_BOT_TOKEN is not set")
    assert "this photo should get about" in result.stdout
