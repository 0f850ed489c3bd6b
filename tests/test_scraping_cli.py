"""`likepredict fetch` and `likepredict fetch-tag`, offline through the demo source."""

import os

import pytest

from likepredict import cli


@pytest.fixture
def offline_env(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("LIKEPREDICT_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("LIKEPREDICT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_fetch_prints_the_stats_then_says_they_came_from_the_cache(offline_env, capsys):
    assert cli.main(["fetch", "@demo_creator"]) == 0
    first = capsys.readouterr().out
    assert "@demo_creator  (demo source; Fetched just now.)" in first
    assert "followers 5,200   following 410   posts 92" in first
    assert "previous 20 posts: likes mean 308.9, median 294, min 190, max 468" in first
    assert "engagement rate 6.10% of followers" in first
    assert "#sunset x7" in first and "photos stored: 20/20" in first

    assert cli.main(["fetch", "https://www.instagram.com/demo_creator/"]) == 0
    second = capsys.readouterr().out
    assert "From the cache" in second
    assert second.splitlines()[1:] == first.splitlines()[1:]


def test_fetch_refresh_asks_the_source_again(offline_env, capsys):
    cli.main(["fetch", "demo_creator"])
    capsys.readouterr()
    assert cli.main(["fetch", "demo_creator", "--refresh"]) == 0
    assert "Fetched just now." in capsys.readouterr().out


def test_fetch_errors_are_one_plain_line(offline_env, capsys):
    assert cli.main(["fetch", "no such account"]) == 2
    assert capsys.readouterr().err.strip().startswith("likepredict: 'no such account' is not an Instagram username")
    assert cli.main(["fetch", "not_in_the_demo"]) == 2
    assert "can't find an Instagram account called @not_in_the_demo" in capsys.readouterr().err


def test_fetch_tag_lists_top_posts_with_owner_engagement(offline_env, capsys):
    assert cli.main(["fetch-tag", "#sunset", "-n", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "#sunset: 3 top posts"
    assert all("owner's usual engagement" in line and "%" in line for line in out[1:])
