"""Readers for the likepredict JSON Lines format, instaloader folders and influencers-2017."""

import json
import lzma
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.paths import DEMO_DATA, DEMO_HANDLE
from scraping.datasets import (
    DatasetError,
    hashtags_in,
    read_accounts_jsonl,
    read_any,
    read_influencers,
    read_instaloader,
    write_accounts_jsonl,
)


def write_xz_json(path: Path, node: dict, node_type: str) -> None:
    with lzma.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"node": node, "instaloader": {"version": "4.14", "node_type": node_type}}, handle)


def make_instaloader_profile(root: Path, username: str = "sunny.days", posts: int = 3) -> Path:
    folder = root / username
    folder.mkdir(parents=True)
    write_xz_json(
        folder / f"{username}_123456.json.xz",
        {
            "username": username,
            "id": "123456",
            "edge_followed_by": {"count": 2500},
            "edge_follow": {"count": 180},
            "edge_owner_to_timeline_media": {"count": 77},
            "is_private": False,
        },
        "Profile",
    )
    for index in range(posts):
        stem = f"2024-05-0{index + 1}_18-30-00_UTC"
        write_xz_json(
            folder / f"{stem}.json.xz",
            {
                "shortcode": f"C{index}",
                "taken_at_timestamp": 1714588200 + index * 86400,
                "edge_media_preview_like": {"count": 100 + index},
                "edge_media_to_comment": {"count": 7},
                "edge_media_to_caption": {"edges": [{"node": {"text": f"Golden hour #Sunset #beach @friend {index}"}}]},
                "__typename": "GraphSidecar" if index == 0 else "GraphImage",
                "is_video": False,
            },
            "Post",
        )
        (folder / f"{stem}.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    return folder


def test_demo_data_has_the_demo_account_with_20_posts_and_images():
    accounts = {a.handle: a for a in read_accounts_jsonl(DEMO_DATA)}
    demo = accounts[DEMO_HANDLE]
    assert len(demo.posts) == 20
    assert all(p.image_path is not None and p.image_path.is_file() for p in demo.posts)
    assert [p.taken_at for p in demo.posts] == sorted((p.taken_at for p in demo.posts), reverse=True)
    assert len(accounts) > 1


def test_jsonl_round_trip(tmp_path):
    original = list(read_accounts_jsonl(DEMO_DATA))[:2]
    copy = tmp_path / "copy.jsonl"
    write_accounts_jsonl(original, copy)
    assert list(read_accounts_jsonl(copy)) == original


def test_jsonl_missing_field_names_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"handle": "a", "followers": 1, "posts": [{"taken_at": "2024-01-01"}]}\n')
    with pytest.raises(DatasetError, match=r"bad.jsonl:1 post 1: field 'likes'"):
        list(read_accounts_jsonl(path))


def test_jsonl_garbage_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("{not json\n")
    with pytest.raises(DatasetError, match="not valid JSON"):
        list(read_any(path))
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DatasetError):
        list(read_any(binary))


def test_instaloader_profile_folder(tmp_path):
    make_instaloader_profile(tmp_path)
    [account] = list(read_instaloader(tmp_path / "sunny.days"))
    assert (account.handle, account.followers, account.following, account.posts_count) == ("sunny.days", 2500, 180, 77)
    assert [p.shortcode for p in account.posts] == ["C2", "C1", "C0"]
    newest = account.posts[0]
    assert newest.likes == 102 and newest.comments == 7
    assert newest.hashtags == ("sunset", "beach") and newest.mentions == 1
    assert newest.taken_at == datetime(2024, 5, 3, 18, 30, tzinfo=UTC)
    assert newest.image_path is not None and newest.image_path.name.endswith("_UTC.jpg")
    assert account.posts[-1].is_multi_image


def test_instaloader_folder_of_profiles(tmp_path):
    make_instaloader_profile(tmp_path, "one")
    make_instaloader_profile(tmp_path, "two", posts=1)
    assert [a.handle for a in read_any(tmp_path)] == ["one", "two"]


def test_instaloader_corrupt_metadata_is_skipped_and_the_rest_read(tmp_path):
    folder = make_instaloader_profile(tmp_path)
    sorted(folder.glob("*_UTC.json.xz"))[0].write_bytes(b"not xz at all")
    [account] = list(read_instaloader(folder))
    assert [p.shortcode for p in account.posts] == ["C2", "C1"]


def test_a_folder_where_nothing_can_be_read_is_a_clear_error(tmp_path):
    folder = make_instaloader_profile(tmp_path, posts=0)
    next(folder.glob("*.json.xz")).write_bytes(b"not xz at all")
    with pytest.raises(DatasetError, match="no account could be read"):
        list(read_instaloader(folder))


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no instaloader metadata"):
        list(read_instaloader(tmp_path))


def test_influencers_format(tmp_path):
    path = tmp_path / "influencers.jsonl"
    path.write_text(
        json.dumps(
            {
                "account": "acct_1",
                "followers": 1000,
                "following": 10,
                "posts_total": 50,
                "crawled": "2017-05-01",
                "posts": [
                    {
                        "date": "2017-04-20",
                        "likes": 80,
                        "hashtags": ["Food"],
                        "mentions": 1,
                        "caption_chars": 12,
                        "multiple_images": True,
                        "is_video": False,
                        "has_location": True,
                    },
                    {
                        "date": "2017-04-28",
                        "likes": 90,
                        "hashtags": [],
                        "mentions": 0,
                        "caption_chars": 0,
                        "multiple_images": False,
                        "is_video": False,
                        "has_location": False,
                    },
                ],
            }
        )
        + "\n"
    )
    [account] = list(read_any(path))
    assert account.handle == "acct_1" and account.posts_count == 50
    assert [p.likes for p in account.posts] == [90, 80]
    assert account.posts[1].hashtags == ("food",) and account.posts[1].comments is None
    assert account.posts[1].is_multi_image and account.posts[1].caption_length == 12
    assert list(read_influencers(path)) == [account]


def influencers_2019_line(**post_changes) -> str:
    post = {
        "taken_at": "2019-04-16T05:47:29Z",
        "likes": 5230,
        "comments": 87,
        "comments_disabled": False,
        "type": "carousel",
        "video_views": None,
        "hashtags": ["Boombap"],
        "mentions": 2,
        "caption_chars": 42,
        "has_location": True,
        "width": 1080,
        "height": 1350,
        "image_concepts": ["2 people", "outdoor"],
    }
    post.update(post_changes)
    record = {
        "account": "acct_1",
        "followers": 9000,
        "following": 300,
        "posts_total": 120,
        "is_verified": True,
        "is_business": False,
        "crawled": "2019-04-20T00:00:00Z",
        "posts": [post],
    }
    return json.dumps(record) + "\n"


def test_influencers_2019_format_is_detected_with_exact_times_types_and_concepts(tmp_path):
    path = tmp_path / "influencers-2019.jsonl"
    path.write_text(influencers_2019_line())
    [account] = list(read_any(path))
    [post] = account.posts
    assert account.is_verified and not account.is_business and account.posts_count == 120
    assert post.taken_at == datetime(2019, 4, 16, 5, 47, 29, tzinfo=UTC) and post.time_known
    assert post.comments == 87 and post.is_multi_image and not post.is_video
    assert (post.width, post.height) == (1080, 1350)
    assert post.image_concepts == ("2 people", "outdoor") and post.hashtags == ("boombap",)
    # The same pseudonym names the account in 2017 too: its 2019 posts must not take the 2017 posts' codes.
    assert post.shortcode == "acct_1-2019-00"


def test_influencers_2017_posts_say_their_hour_is_unknown(tmp_path):
    path = tmp_path / "influencers.jsonl"
    line = {"account": "a", "followers": 1, "posts": [{"date": "2017-04-20", "likes": 3}]}
    path.write_text(json.dumps(line) + "\n")
    [account] = list(read_influencers(path))
    assert not account.posts[0].time_known


def test_influencers_2019_video_and_missing_concepts(tmp_path):
    path = tmp_path / "influencers-2019.jsonl"
    path.write_text(influencers_2019_line(type="video", video_views=700, image_concepts=None))
    [post] = next(read_influencers(path)).posts
    assert post.is_video and post.video_views == 700 and post.image_concepts is None


def test_influencers_2019_unknown_post_type_is_a_clear_error(tmp_path):
    path = tmp_path / "influencers-2019.jsonl"
    path.write_text(influencers_2019_line(type="reel"))
    with pytest.raises(DatasetError, match="'type' must be one of"):
        list(read_influencers(path))


def test_hashtags_in_caption_are_lowercased_and_deduplicated():
    assert hashtags_in("Hello #Beach and #beach, #sunset_2024!") == ("beach", "sunset_2024")
