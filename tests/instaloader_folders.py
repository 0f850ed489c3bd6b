"""Instaloader folders written by the instaloader package itself, offline.

Its `Post` and `Profile` objects are built from node dicts in the shapes it stores, and its own save
functions (`Instaloader.download_post` with pictures and videos off, `save_metadata_json`,
`save_structure_to_file`) write the files, as `instaloader --no-pictures --no-videos` would. Every HTTP
request is refused (`blocked_http`), so nothing here can reach Instagram. Photos, which instaloader would
download, are small JPEGs written beside the posts under the names it gives them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import instaloader
import pytest
import requests
from instaloader.nodeiterator import FrozenNodeIterator
from instaloader.structures import save_structure_to_file

from tests.fake_instagram import BASE_TIME, graph_node, jpeg_bytes


@contextmanager
def blocked_http() -> Iterator[None]:
    """Any request instaloader tries fails the test."""

    def refuse(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"instaloader tried to reach {request.url}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests.adapters.HTTPAdapter, "send", refuse)
        yield


def loader(compress: bool = True) -> instaloader.Instaloader:
    return instaloader.Instaloader(
        quiet=True,
        download_pictures=False,
        download_videos=False,
        download_video_thumbnails=False,
        download_comments=False,
        compress_json=compress,
        sleep=False,
        max_connection_attempts=1,
    )


def owner_node(username: str, followers: int | None, following: int = 50, posts: int | None = 300) -> dict[str, Any]:
    """A post's `owner` as instaloader stores it for posts it fetched by shortcode (the GraphQL media node)."""
    node: dict[str, Any] = {"id": str(zlib.crc32(username.encode())), "username": username, "is_private": False}
    if followers is not None:
        node["edge_followed_by"] = {"count": followers}
        node["edge_follow"] = {"count": following}
    if posts is not None:
        node["edge_owner_to_timeline_media"] = {"count": posts}
    return node


def post_node(
    shortcode: str,
    days_ago: float,
    likes: int | bool,
    owner: dict[str, Any] | None,
    caption: str = "",
    comments: int = 2,
    typename: str = "GraphImage",
    slides: int = 0,
    comment_edge: str = "edge_media_to_comment",
) -> dict[str, Any]:
    """A legacy post node (`xdt_shortcode_media`) with its owner; likes -1 where the owner hides them."""
    node = graph_node(
        shortcode,
        days_ago,
        likes,
        comments=None,
        caption=caption,
        image=f"https://cdn.example/{shortcode}.jpg",
        typename=typename,
        is_video=typename == "GraphVideo",
        like_key="edge_media_preview_like",
        slides=slides,
    )
    node[comment_edge] = {"count": comments}
    if owner is not None:
        node["owner"] = owner
    return node


def iphone_media(code: str, days_ago: float, likes: int, username: str, location: bool = True) -> dict[str, Any]:
    """A v1 item as the logged-in API sends it; instaloader keeps it whole as the post's `iphone_struct`."""
    return {
        "pk": str(zlib.crc32(code.encode())),
        "code": code,
        "media_type": 1,
        "taken_at": int((BASE_TIME - timedelta(days=days_ago)).timestamp()),
        "caption": {"text": "from the app #iphone"},
        "has_liked": False,
        "like_count": likes,
        "comment_count": 4,
        "location": {"pk": 1, "name": "Harbour", "lat": 1.0, "lng": 2.0} if location else None,
        "image_versions2": {"candidates": [{"url": f"https://cdn.example/{code}.jpg"}]},
        "user": {
            "pk": str(zlib.crc32(username.encode())),
            "username": username,
            "is_private": False,
            "full_name": username.title(),
            "profile_pic_url": "https://cdn.example/pic.jpg",
        },
    }


def save_post(folder: Path, node: dict[str, Any], photos: int = 1, compress: bool = True, iphone: bool = False) -> Path:
    """One post as `instaloader --no-pictures` writes it into `folder` (its target), plus `photos` JPEGs.

    Returns the path of its metadata file.
    """
    context = loader(compress).context
    post = instaloader.Post.from_iphone_struct(context, node) if iphone else instaloader.Post(context, node)
    with blocked_http():
        writer = loader(compress)
        writer.dirname_pattern = str(folder.parent / "{target}")
        writer.download_post(post, target=folder.name)
    stem = post.date_utc.strftime("%Y-%m-%d_%H-%M-%S") + "_UTC"
    names = [f"{stem}.jpg"] if photos == 1 else [f"{stem}_{i}.jpg" for i in range(1, photos + 1)]
    for index, name in enumerate(names):
        (folder / name).write_bytes(jpeg_bytes((20 * index, 120, 200)))
    return folder / (stem + (".json.xz" if compress else ".json"))


def save_profile(folder: Path, username: str, followers: int, following: int = 70, compress: bool = True) -> Path:
    """The `{profile}_{id}.json.xz` instaloader writes beside a profile's posts."""
    node = owner_node(username, followers, following)
    profile = instaloader.Profile(loader(compress).context, node)
    with blocked_http():
        loader(compress).save_metadata_json(str(folder / f"{username}_{node['id']}"), profile)
    return folder / f"{username}_{node['id']}.json{'.xz' if compress else ''}"


def save_resume_file(folder: Path) -> Path:
    """The `iterator_*.json.xz` instaloader leaves when a download is interrupted."""
    frozen = FrozenNodeIterator(
        None, {"id": "1"}, None, None, 12, None, {"edges": [], "page_info": {"has_next_page": True}}, None, "1"
    )
    path = folder / "iterator_13371337.json.xz"
    save_structure_to_file(frozen, str(path))  # type: ignore[arg-type]
    return path
