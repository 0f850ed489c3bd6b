"""The file sources: instaloader folders and data files, read through the same protocol as the web."""

import json
import lzma
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.paths import DEMO_DATA
from scraping.base import AccountSource
from scraping.dataset_source import DatasetSource
from scraping.errors import AccountNotFound
from scraping.instaloader_source import InstaloaderSource
from scraping.service import AccountService
from tests.fake_instagram import graph_node, jpeg_bytes


def write_xz_json(path: Path, data: dict) -> None:
    with lzma.open(path, "wt", encoding="utf-8") as handle:
        json.dump(data, handle)


def write_instaloader_profile(root: Path, username: str, followers: int, posts: list[dict], photo_colours=()) -> Path:
    """A folder as `instaloader PROFILE` writes it: profile metadata, then one .json.xz (+ .jpg) per post."""
    folder = root / username
    folder.mkdir(parents=True)
    profile = {
        "username": username,
        "id": "991",
        "edge_followed_by": {"count": followers},
        "edge_follow": {"count": 77},
        "edge_owner_to_timeline_media": {"count": 140},
        "is_private": False,
    }
    write_xz_json(folder / f"{username}_991.json.xz", {"node": profile, "instaloader": {"node_type": "Profile"}})
    for index, node in enumerate(posts):
        taken = datetime.fromtimestamp(node["taken_at_timestamp"], tz=UTC)
        stem = taken.strftime("%Y-%m-%d_%H-%M-%S_UTC")
        write_xz_json(folder / f"{stem}.json.xz", {"node": node, "instaloader": {"node_type": "Post"}})
        if index < len(photo_colours):
            (folder / f"{stem}.jpg").write_bytes(jpeg_bytes(photo_colours[index]))
    return folder


@pytest.fixture
def instaloader_root(tmp_path):
    root = tmp_path / "instaloader"
    write_instaloader_profile(
        root,
        "hill.walker",
        2500,
        [graph_node(f"h{i}", days_ago=i, likes=60 + i, comments=2, caption=f"#hills walk {i} #fog") for i in range(25)],
        photo_colours=[(10, 200, 10), (200, 10, 10), (10, 200, 10)],
    )
    write_instaloader_profile(
        root,
        "sea.swimmer",
        900,
        [graph_node("w1", 1, 300, caption="#fog #sea"), graph_node("w2", 2, 20, caption="#fog")],
    )
    return root


def test_file_sources_implement_the_source_protocol(instaloader_root):
    assert isinstance(InstaloaderSource(instaloader_root), AccountSource)
    assert isinstance(DatasetSource.demo(), AccountSource)


async def test_an_instaloader_profile_reads_counts_and_the_newest_posts(instaloader_root):
    fetched = await InstaloaderSource(instaloader_root).fetch_account("hill.walker", n_posts=20)
    account = fetched.account
    assert (account.followers, account.following, account.posts_count) == (2500, 77, 140)
    assert [p.shortcode for p in account.posts] == [f"h{i}" for i in range(20)]
    assert account.posts[3].hashtags == ("hills", "fog") and account.posts[3].likes == 63
    assert account.posts[0].image_path is not None and account.posts[0].image_path.suffix == ".jpg"
    assert account.posts[5].image_path is None
    assert fetched.image_urls == {}


async def test_one_profile_folder_given_directly_works_too(instaloader_root):
    source = InstaloaderSource(instaloader_root / "sea.swimmer")
    assert [p.likes for p in await source.fetch_recent_posts("sea.swimmer")] == [300, 20]


async def test_an_instaloader_account_that_is_not_there_is_not_found(instaloader_root):
    with pytest.raises(AccountNotFound):
        await InstaloaderSource(instaloader_root).fetch_account("nobody")


async def test_a_broken_instaloader_file_is_skipped_and_the_account_still_served(instaloader_root):
    broken = instaloader_root / "hill.walker" / "2020-01-01_00-00-00_UTC.json.xz"
    broken.write_bytes(b"this is not xz")
    account = (await InstaloaderSource(instaloader_root).fetch_account("hill.walker")).account
    assert account.followers == 2500 and len(account.posts) == 20


async def test_instaloader_tag_top_posts_rank_by_likes_relative_to_followers(instaloader_root):
    top = await InstaloaderSource(instaloader_root).fetch_tag_top_posts("fog", n=3)
    assert [(t.owner, t.post.shortcode) for t in top] == [
        ("sea.swimmer", "w1"),
        ("hill.walker", "h24"),
        ("hill.walker", "h23"),
    ]


async def test_instaloader_photos_are_stored_once_by_content_hash(instaloader_root, store):
    service = AccountService(InstaloaderSource(instaloader_root), store, cache_hours=24)
    cached = await service.get_account("hill.walker")
    photos = [p.image_path for p in cached.account.posts if p.image_path is not None]
    assert len(photos) == 3 and all(str(p).startswith(str(store.images_dir)) for p in photos)
    assert photos[0] == photos[2]  # the same green picture twice
    assert store.db.execute("SELECT count(*) FROM images").fetchone()[0] == 2


async def test_the_demo_source_serves_demo_creator():
    account = (await DatasetSource.demo().fetch_account("demo_creator")).account
    assert account.followers == 5200 and len(account.posts) == 20
    assert all(p.image_path is not None and p.image_path.is_file() for p in account.posts)
    assert account.posts == tuple(sorted(account.posts, key=lambda p: p.taken_at, reverse=True))


async def test_a_data_file_source_reads_a_jsonl_file_and_keeps_the_newest_posts(tmp_path):
    data = tmp_path / "mine.jsonl"
    posts = [
        {
            "shortcode": f"m{i}",
            "taken_at": f"2026-10-{10 + i:02d}T10:00:00+00:00",
            "likes": 10 * i,
            "hashtags": ["cake"] if i % 2 else [],
        }
        for i in range(8)
    ]
    data.write_text(json.dumps({"handle": "baker", "followers": 100, "posts": posts}) + "\n", encoding="utf-8")
    source = DatasetSource(data)
    recent = await source.fetch_recent_posts("baker", n=3)
    assert [p.shortcode for p in recent] == ["m7", "m6", "m5"]
    top = await source.fetch_tag_top_posts("cake", n=2)
    assert [t.post.shortcode for t in top] == ["m7", "m5"]
    with pytest.raises(AccountNotFound):
        await source.fetch_account("demo_creator")


async def test_the_demo_source_reads_its_file_once(monkeypatch):
    import scraping.dataset_source as module

    reads = []
    real_read_any = module.read_any
    monkeypatch.setattr(module, "read_any", lambda path: reads.append(path) or real_read_any(path))
    source = DatasetSource(DEMO_DATA)
    await source.fetch_account("demo_creator")
    await source.fetch_account("kitchen_notes")
    assert reads == [DEMO_DATA]


async def test_an_imported_account_the_file_source_lacks_is_served_from_the_store(tmp_path, store):
    from scraping.datasets import read_accounts_jsonl

    data = tmp_path / "old.jsonl"
    data.write_text(
        json.dumps(
            {
                "handle": "old.friend",
                "followers": 321,
                "fetched_at": "2020-01-01T00:00:00+00:00",
                "posts": [{"taken_at": "2019-12-30", "likes": 12}],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    for account in read_accounts_jsonl(data):
        store.accounts.save(account)  # what `likepredict import` does
    service = AccountService(DatasetSource.demo(), store, cache_hours=24)
    cached = await service.get_account("old.friend")
    assert cached.account.followers == 321 and cached.stale
    with pytest.raises(AccountNotFound):
        await service.get_account("never.imported")
