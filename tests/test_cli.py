"""The `likepredict` command line: subcommands, offline demo, clear one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LIKEPREDICT_", "TELEGRAM_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "likepredict.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd or PROJECT,
        timeout=300,
    )


def test_help_lists_the_subcommands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("run", "demo", "import", "evaluate"):
        assert command in result.stdout


def test_demo_prints_the_demo_account_offline(tmp_path):
    result = run_cli("demo", env={"LIKEPREDICT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "@demo_creator" in result.stdout
    assert "followers 5,200" in result.stdout


def test_bad_setting_is_one_line_and_exit_2(tmp_path):
    result = run_cli("demo", env={"LIKEPREDICT_CACHE_HOURS": "tomorrow"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "LIKEPREDICT_CACHE_HOURS" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_data_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    result = run_cli("import", str(bad), env={"LIKEPREDICT_DB": str(tmp_path / "db.sqlite3")})
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_import_loads_accounts_into_the_store(tmp_path):
    db = tmp_path / "db.sqlite3"
    result = run_cli(
        "import",
        str(PROJECT / "demo" / "demo.jsonl"),
        env={"LIKEPREDICT_DB": str(db), "LIKEPREDICT_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "imported 9 accounts and 180 posts" in result.stdout
    from store import Store

    store = Store.open(db, tmp_path / "images")
    assert store.accounts.get("demo_creator").account.followers == 5200
    store.close()


def test_import_loads_an_influencers_2019_file_with_exact_times(tmp_path):
    from tests.likes_data import synthetic_accounts_2019, write_influencers_2019

    data = write_influencers_2019(synthetic_accounts_2019(3, seed=5), tmp_path / "influencers-2019.jsonl")
    db = tmp_path / "db.sqlite3"
    result = run_cli("import", str(data), env={"LIKEPREDICT_DB": str(db), "LIKEPREDICT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "imported 3 accounts and 36 posts" in result.stdout
    from store import Store

    store = Store.open(db, tmp_path / "images")
    posts = store.accounts.get("acct0").account.posts
    store.close()
    assert any(p.taken_at.minute != 0 for p in posts)  # the exact time, not the day
