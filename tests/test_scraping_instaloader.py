"""Real instaloader folders: written by the instaloader package itself, then broken in the ways real ones are."""

from __future__ import annotations

import json
import logging
import lzma
import os
from pathlib import Path

import pytest

from core.account_stats import account_stats
from likepredict import cli
from scraping.errors import AccountNotFound, DatasetError
from scraping.instaloader_files import InstaloaderFolder, read_instaloader
from scraping.instaloader_source import InstaloaderSource
from store import Store
from tests.instaloader_folders import (
    iphone_media,
    owner_node,
    post_node,
    save_post,
    save_profile,
    save_resume_file,
)


def accounts_by_handle(root: Path) -> dict:
    return {a.handle: a for a in read_instaloader(root)}


def rewrite(path: Path, change) -> None:
    """Decompress an instaloader file, change its JSON, and write it back the way instaloader does."""
    data = json.loads(lzma.decompress(path.read_bytes()))
    change(data["node"])
    path.write_bytes(lzma.compress(json.dumps(data).encode()))


@pytest.fixture
def root(tmp_path) -> Path:
    """Two targets as `instaloader --no-profile-pic` leaves them: post files only, no profile file."""
    top = tmp_path / "downloads"
    ann, bob = top / "ann.walks", top / "bob"
    ann.mkdir(parents=True)
    bob.mkdir()
    for i in range(5):
        owner = owner_node("ann.walks", followers=1000 + i, following=40 + i, posts=200 + i)
        save_post(ann, post_node(f"a{i}", days_ago=i, likes=100 + i, owner=owner, caption=f"#hills day {i}"))
    save_post(bob, post_node("b0", 1, 30, owner_node("bob", 77), caption="#sea"))
    return top


def test_post_files_alone_give_the_account_and_the_newest_posts_owner_counts(root):
    ann = accounts_by_handle(root)["ann.walks"]
    assert (ann.followers, ann.following, ann.posts_count) == (1000, 40, 200)  # a0 is the newest post
    assert [p.shortcode for p in ann.posts] == ["a0", "a1", "a2", "a3", "a4"]
    assert [p.likes for p in ann.posts] == [100, 101, 102, 103, 104]
    assert ann.posts[2].hashtags == ("hills",) and ann.posts[2].comments == 2
    assert ann.posts[0].image_path is not None and ann.posts[0].image_path.name.endswith("_UTC.jpg")


def test_a_profile_file_gives_the_counts_and_the_posts_give_the_post_count(root):
    save_profile(root / "ann.walks", "ann.walks", followers=5555, following=66)
    ann = accounts_by_handle(root)["ann.walks"]
    assert (ann.followers, ann.following, ann.posts_count) == (5555, 66, 200)  # instaloader's profile omits it


def test_one_profile_folder_given_directly_works_too(root):
    assert list(accounts_by_handle(root / "bob")) == ["bob"]


def test_uncompressed_json_folders_read_the_same(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    path = save_post(folder, post_node("p1", 1, 12, owner_node("plain", 300)), compress=False)
    assert path.suffix == ".json"
    [account] = read_instaloader(folder)
    assert (account.handle, account.followers, [p.likes for p in account.posts]) == ("plain", 300, [12])


def test_carousels_videos_locations_and_both_comment_shapes(tmp_path):
    folder = tmp_path / "mix"
    folder.mkdir()
    owner = owner_node("mix", 900)
    save_post(folder, post_node("car", 1, 50, owner, typename="GraphSidecar", slides=3), photos=3)
    save_post(folder, post_node("vid", 2, 40, owner, typename="GraphVideo"), photos=1)  # the thumbnail
    save_post(folder, post_node("par", 3, 30, owner, comments=9, comment_edge="edge_media_to_parent_comment"))
    save_post(folder, iphone_media("app", 4, 20, "mix", location=True), iphone=True, photos=0)
    posts = {p.shortcode: p for p in read_instaloader(folder)[0].posts}
    assert (posts["car"].slides, posts["car"].is_multi_image) == (3, True)
    assert posts["car"].image_path.name.endswith("_UTC_1.jpg")  # the first slide
    assert posts["vid"].is_video and posts["vid"].image_path.name.endswith("_UTC.jpg")
    assert posts["par"].comments == 9
    assert (posts["app"].has_location, posts["app"].comments, posts["app"].image_path) == (True, 4, None)
    assert not posts["car"].has_location


def test_resume_files_are_ignored_not_taken_for_a_profile(root):
    save_resume_file(root / "bob")
    accounts = accounts_by_handle(root)
    assert set(accounts) == {"ann.walks", "bob"} and accounts["bob"].followers == 77


def test_posts_of_several_owners_in_a_hashtag_folder_go_to_their_owners(root):
    tag = root / "#sunset"
    tag.mkdir()
    save_post(tag, post_node("t1", 1, 500, owner_node("carol", 4000), caption="#sunset"))
    save_post(tag, post_node("t2", 2, 60, owner_node("ann.walks", 999), caption="#sunset"))
    accounts = accounts_by_handle(root)
    assert [p.shortcode for p in accounts["carol"].posts] == ["t1"]
    assert "t2" in {p.shortcode for p in accounts["ann.walks"].posts}


def test_hidden_likes_are_kept_without_a_count_and_never_crash_the_stats(tmp_path):
    folder = tmp_path / "coy"
    folder.mkdir()
    save_post(folder, post_node("h1", 1, -1, owner_node("coy", 500), caption="#tea"))
    media = iphone_media("h2", 2, 3, "coy") | {"like_and_view_counts_disabled": True}  # 3 is a placeholder
    save_post(folder, media, iphone=True, photos=0)
    [account] = read_instaloader(folder)
    assert [p.likes for p in account.posts] == [None, None]
    stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
    assert (stats.n_posts, stats.hidden_likes, stats.likes_median) == (0, 2, 0.0)
    assert dict(stats.hashtags) == {"tea": 1, "iphone": 1}


def test_twenty_accounts_of_post_files_import_with_every_accounts_followers(tmp_path, monkeypatch, capsys):
    top = tmp_path / "twenty"
    for n in range(20):
        folder = top / f"creator{n:02d}"
        folder.mkdir(parents=True)
        for i in range(3):
            node = post_node(f"c{n}p{i}", i + 1, 10 * n + i, owner_node(f"creator{n:02d}", 1000 + n), caption="#x")
            save_post(folder, node)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIKEPREDICT_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["import", str(top)]) == 0
    assert "imported 20 accounts and 60 posts" in capsys.readouterr().out
    store = Store.open(tmp_path / "data" / "likepredict.sqlite3", tmp_path / "data" / "images")
    try:
        for n in range(20):
            cached = store.accounts.get(f"creator{n:02d}")
            assert cached is not None and cached.account.followers == 1000 + n and len(cached.account.posts) == 3
    finally:
        store.close()


# ---- broken files: each skipped and named in one warning line, everything else read -------------------


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # instaloader writes in place


def bomb(path: Path) -> None:
    data = {"node": {"shortcode": "boom", "pad": " " * (21 * 2**20)}, "instaloader": {"node_type": "Post"}}
    path.write_bytes(lzma.compress(json.dumps(data).encode()))


BREAKAGES = {
    "truncated .xz": (truncate, "cut short"),
    "wrong type": (lambda p: rewrite(p, lambda n: n.update(edge_media_to_caption="oops")), "edge_media_to_caption"),
    "negative likes": (lambda p: rewrite(p, lambda n: n.update(edge_media_preview_like={"count": -5})), "negative"),
    "negative followers": (lambda p: rewrite(p, lambda n: n["owner"]["edge_followed_by"].update(count=-3)), "negative"),
    "true as a number": (lambda p: rewrite(p, lambda n: n.update(edge_media_to_comment={"count": True})), "true"),
    "expands past 20 MB": (bomb, "more than 20 MB once decompressed"),
    "not instaloader's layout": (lambda p: p.write_bytes(lzma.compress(b"[1, 2, 3]")), "layout"),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_a_bad_file_is_skipped_and_named_and_the_rest_imports(root, caplog, breakage):
    brake, why = breakage
    victim = sorted((root / "ann.walks").glob("*.json.xz"))[2]  # a2
    brake(victim)
    with caplog.at_level(logging.WARNING, logger="scraping.instaloader_files"):
        accounts = accounts_by_handle(root)
    assert [p.shortcode for p in accounts["ann.walks"].posts] == ["a0", "a1", "a3", "a4"]
    assert accounts["bob"].followers == 77
    [warning] = [r.getMessage() for r in caplog.records]
    assert f"ann.walks/{victim.name} (" in warning and why in warning


def test_a_photo_linked_from_outside_the_folder_is_not_taken_and_named(root, tmp_path, caplog):
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"\xff\xd8 not yours")
    photo = next((root / "ann.walks").glob("*.jpg"))
    photo.unlink()
    photo.symlink_to(outside)
    with caplog.at_level(logging.WARNING, logger="scraping.instaloader_files"):
        ann = accounts_by_handle(root)["ann.walks"]
    assert len(ann.posts) == 5 and all(
        p.image_path is None or p.image_path.parent == root / "ann.walks" for p in ann.posts
    )
    [warning] = [r.getMessage() for r in caplog.records]
    assert f"{photo.name} (a link to outside the folder)" in warning


def test_a_metadata_file_linked_from_outside_the_folder_is_skipped(root, tmp_path, caplog):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    foreign = save_post(elsewhere, post_node("x1", 9, 1, owner_node("ann.walks", 1)))
    (root / "ann.walks" / "2020-01-01_00-00-00_UTC.json.xz").symlink_to(foreign)
    with caplog.at_level(logging.WARNING, logger="scraping.instaloader_files"):
        ann = accounts_by_handle(root)["ann.walks"]
    assert "x1" not in {p.shortcode for p in ann.posts}
    assert "a link to outside the folder" in caplog.records[0].getMessage()


# ---- folder errors and the parsed-file cache -----------------------------------------------------------


def test_folder_errors_say_what_is_wrong_not_try_later(tmp_path):
    with pytest.raises(DatasetError, match="not a folder") as not_folder:
        read_instaloader(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no instaloader metadata \(.json.xz or .json files\)") as empty:
        read_instaloader(tmp_path / "empty")
    assert "try again" not in str(not_folder.value).lower() + str(empty.value).lower()


async def test_the_source_finds_accounts_and_says_when_one_is_not_there(root):
    source = InstaloaderSource(root)
    assert [p.shortcode for p in await source.fetch_recent_posts("ann.walks", n=2)] == ["a0", "a1"]
    with pytest.raises(AccountNotFound):
        await source.fetch_account("nobody")


def test_an_unchanged_folder_is_not_read_again_and_a_changed_file_is(root):
    folder = InstaloaderFolder(root)
    assert folder.read().accounts[0].posts[0].likes == 100
    victim = sorted((root / "ann.walks").glob("*.json.xz"))[-1]  # a0, the newest
    before = victim.stat()
    original = victim.read_bytes()
    rewrite(victim, lambda n: n.update(edge_media_preview_like={"count": 900}))
    victim.write_bytes(victim.read_bytes()[: len(original)].ljust(len(original), b"\0"))  # the same size...
    os.utime(victim, ns=(before.st_atime_ns, before.st_mtime_ns))  # ...and time: the file was not re-read
    assert folder.read().accounts[0].posts[0].likes == 100
    victim.write_bytes(original)
    rewrite(victim, lambda n: n.update(edge_media_preview_like={"count": 900}))
    assert folder.read().accounts[0].posts[0].likes == 900
