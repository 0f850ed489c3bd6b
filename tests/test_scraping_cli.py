"""`likepredict fetch` and `likepredict fetch-tag`: offline through the demo source, and through the web source."""

import asyncio
import json
import os
import threading

import pytest

from likepredict import cli
from store import Store
from tests.fake_instagram import LOGIN_WALL, Fault, graph_node, profile_html, profile_json, running_fake_instagram


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


# ---- `likepredict fetch` through the web source, against the local fake Instagram ----------------------


@pytest.fixture
def instagram_in_a_thread(offline_env, monkeypatch):
    """The fake Instagram on its own event loop in a thread, since the CLI runs its own loop."""
    started = threading.Event()
    holder = {}

    async def serve():
        async with running_fake_instagram() as fake:
            holder["fake"], holder["loop"], holder["stop"] = fake, asyncio.get_running_loop(), asyncio.Event()
            started.set()
            await holder["stop"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    fake = holder["fake"]
    monkeypatch.setenv("LIKEPREDICT_SOURCE", "instagram")
    monkeypatch.setenv("LIKEPREDICT_INSTAGRAM_URL", fake.base_url)
    monkeypatch.setenv("LIKEPREDICT_REQUESTS_PER_MINUTE", "600")
    yield fake
    holder["loop"].call_soon_threadsafe(holder["stop"].set)
    thread.join(10)


def test_fetch_reads_a_legacy_node_answer_and_keeps_the_posts_beside_one_hiding_its_likes(
    instagram_in_a_thread, capsys
):
    fake = instagram_in_a_thread
    nodes = [graph_node(f"p{i}", days_ago=i + 1, likes=100 + 10 * i, caption="#sunset") for i in range(5)]
    nodes[2]["edge_liked_by"]["count"] = -1
    fake.profiles["sunny.day"] = profile_json("sunny.day", 4000, 150, 90, nodes)
    assert cli.main(["fetch", "sunny.day"]) == 0
    out = capsys.readouterr().out
    assert "@sunny.day  (instagram source; Fetched just now.)" in out
    assert "followers 4,000   following 150   posts 90" in out
    assert "1 of the recent posts hide their likes" in out
    assert "previous 4 posts: likes mean 120.0, median 120, min 100, max 140" in out
    assert fake.seen("profile")[0].path == "/api/v1/users/web_profile_info/"


def test_fetch_answers_a_login_wall_plainly_and_caches_nothing(instagram_in_a_thread, capsys, offline_env):
    fake = instagram_in_a_thread
    fake.fail("profile", Fault(status=401, body=LOGIN_WALL))
    fake.pages["sunny.day"] = profile_html("4,000", username="sunny.day")
    assert cli.main(["fetch", "sunny.day"]) == 2
    err = capsys.readouterr().err
    assert "Instagram showed me only @sunny.day's counts (4,000 followers), not its posts: it asks for a login" in err
    assert "LIKEPREDICT_INSTAGRAM_SESSIONID" in err and "likepredict import sunny.day" in err
    assert "Traceback" not in err
    store = Store.open(offline_env / "data" / "likepredict.sqlite3", offline_env / "data" / "images")
    try:
        assert store.accounts.get("sunny.day") is None
    finally:
        store.close()


def write_hider(path, hide_every: int) -> None:
    """A data file whose account hides the likes of every `hide_every`-th post (-1, as Instagram sends it)."""
    posts = [
        {
            "shortcode": f"h{i}",
            "taken_at": f"2026-10-{10 + i:02d}T10:00:00+00:00",
            "likes": -1 if i % hide_every == 0 else 50 + i,
        }
        for i in range(6)
    ]
    path.write_text(json.dumps({"handle": "hider", "followers": 800, "posts": posts}) + "\n", encoding="utf-8")


def test_fetch_of_an_account_with_minus_one_likes_leaves_them_out_and_does_not_crash(offline_env, monkeypatch, capsys):
    write_hider(offline_env / "hider.jsonl", hide_every=2)
    monkeypatch.setenv("LIKEPREDICT_SOURCE", f"dataset:{offline_env / 'hider.jsonl'}")
    assert cli.main(["fetch", "hider"]) == 0
    out = capsys.readouterr().out
    assert "3 of the recent posts hide their likes" in out
    assert "previous 3 posts: likes mean 53.0, median 53, min 51, max 55" in out


def test_fetch_of_an_account_hiding_every_like_count_says_so(offline_env, monkeypatch, capsys):
    write_hider(offline_env / "hider.jsonl", hide_every=1)
    monkeypatch.setenv("LIKEPREDICT_SOURCE", f"dataset:{offline_env / 'hider.jsonl'}")
    assert cli.main(["fetch", "hider"]) == 0
    out = capsys.readouterr().out
    assert "6 of the recent posts hide their likes" in out and "no posts with likes to learn from" in out
