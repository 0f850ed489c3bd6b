"""Folders written by instaloader: a profile folder, or a folder of them (one per `{target}`).

What instaloader writes, and what is read of it:

* `{date}_UTC.json.xz` (`.json` with `--no-compress-json`) per post: `{"node": ..., "instaloader": {...}}`.
  The node is the legacy post node or, for posts from the logged-in API, has the v1 item in `iphone_struct`
  (where the location is). Its `owner` carries `edge_followed_by`, `edge_follow` and usually
  `edge_owner_to_timeline_media`: post files alone give the account's counts (the newest post's win).
* `{date}_UTC.jpg`, or `_1.jpg`, `_2.jpg`... for a carousel (the first slide is the photo); a video's
  thumbnail is its `.jpg`. Photos are followed only when they stay inside the folder.
* `{profile}_{id}.json.xz`, when there is one: the profile's counts (it omits the post count).
* resume files (`iterator_*.json.xz`), comments (`*_comments.json`), captions and locations as `.txt`:
  not needed, ignored.

A bad file (truncated, not instaloader's layout, wrong types, negative counts, `true` as a number, a link
out of the folder, more than 20 MB once decompressed) is skipped and named in one warning line; the rest
is read. Each file is parsed once while its size and modification time stay the same.
"""

from __future__ import annotations

import json
import logging
import lzma
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.records import Account, Post
from scraping.captions import hashtags_in, mentions_in
from scraping.errors import DatasetError
from scraping.handles import HANDLE_PATTERN

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 20 * 1024 * 1024  # per file, once decompressed
PHOTO_SUFFIXES = (".jpg", "_1.jpg", ".jpeg", "_1.jpeg", ".png", ".webp")
HIDDEN_FLAGS = ("like_and_view_counts_disabled", "hide_like_and_view_counts")
IGNORED_NODE_TYPES = {"FrozenNodeIterator", "StoryItem", "Hashtag", "TitlePic"}


class BadFile(Exception):
    """Why one file cannot be used (internal: the file is skipped and named)."""


@dataclass(frozen=True)
class Counts:
    """An account's counts as one file gives them; None where that file does not say."""

    username: str | None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    is_private: bool | None = None


@dataclass(frozen=True)
class ParsedFile:
    """What one metadata file holds: a post (with its owner's counts), a profile's counts, or nothing we use."""

    post: Post | None = None
    owner: Counts | None = None
    profile: Counts | None = None
    bad_photo: str | None = None  # a photo beside the post that was refused (a link out of the folder)


@dataclass
class FolderRead:
    accounts: list[Account] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why), relative to the root


def read_json_file(path: Path, cap: int = MAX_JSON_BYTES) -> Any:
    """A `.json` or `.json.xz` file's JSON, read with a cap on its (decompressed) size."""
    with path.open("rb") as handle:
        if path.name.endswith(".xz"):
            decompressor = lzma.LZMADecompressor()
            out = bytearray()
            while not decompressor.eof:
                block = b""
                if decompressor.needs_input:
                    block = handle.read(64 * 1024)
                    if not block:
                        raise BadFile("cut short (an unfinished or truncated .xz)")
                out += decompressor.decompress(block, max_length=cap + 1 - len(out))
                if len(out) > cap:
                    raise BadFile(f"more than {cap // 2**20} MB once decompressed")
            raw = bytes(out)
        else:
            raw = handle.read(cap + 1)
            if len(raw) > cap:
                raise BadFile(f"larger than {cap // 2**20} MB")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadFile("not complete JSON") from None


def _get(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _count(data: Any, *paths: str, hidden_at: int | None = None) -> int | None:
    """The first count present at `paths`; `hidden_at` (-1) means hidden (None); anything else odd is a BadFile."""
    for path in paths:
        value = _get(data, path)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadFile(f"{path} is {json.dumps(value)[:20]}, not a whole number")
        if hidden_at is not None and value == hidden_at:
            return None
        if value < 0:
            raise BadFile(f"{path} is negative ({value})")
        return value
    return None


def _text(data: Any, path: str) -> str:
    value = _get(data, path)
    if value is not None and not isinstance(value, str):
        raise BadFile(f"{path} is not text")
    return value or ""


def _caption(node: dict[str, Any], iphone: dict[str, Any]) -> str:
    edges = node.get("edge_media_to_caption")
    if edges is not None:
        if not isinstance(edges, dict) or not isinstance(edges.get("edges", []), list):
            raise BadFile("edge_media_to_caption is not a list of captions")
        first = (edges.get("edges") or [None])[0]
        return _text(first, "node.text") if first is not None else ""
    return _text(node, "caption") or _text(iphone, "caption.text")


def _slides(node: dict[str, Any], iphone: dict[str, Any]) -> int:
    children = _get(node, "edge_sidecar_to_children.edges")
    if isinstance(children, list) and children:
        return len(children)
    carousel = iphone.get("carousel_media")
    count = _count(iphone, "carousel_media_count") or (len(carousel) if isinstance(carousel, list) else 0)
    if count:
        return count
    return 2 if node.get("__typename") == "GraphSidecar" or iphone.get("media_type") == 8 else 1


def _owner(node: dict[str, Any], iphone: dict[str, Any]) -> Counts | None:
    owner = node.get("owner") if isinstance(node.get("owner"), dict) else iphone.get("user")
    if not isinstance(owner, dict):
        return None
    username = owner.get("username")
    valid = isinstance(username, str) and HANDLE_PATTERN.fullmatch(username.lower()) is not None
    return Counts(
        username.lower() if valid and isinstance(username, str) else None,
        _count(owner, "edge_followed_by.count", "follower_count"),
        _count(owner, "edge_follow.count", "following_count"),
        _count(owner, "edge_owner_to_timeline_media.count", "media_count"),
        owner.get("is_private") if isinstance(owner.get("is_private"), bool) else None,
    )


def _iphone_struct(node: dict[str, Any]) -> dict[str, Any]:
    """The v1 item instaloader keeps beside posts and profiles from the logged-in API ({} if none)."""
    value = node.get("iphone_struct")
    return value if isinstance(value, dict) else {}


def parse_post(node: dict[str, Any], photo: Path | None) -> tuple[Post, Counts | None]:
    iphone = _iphone_struct(node)
    shortcode = node.get("shortcode") or node.get("code") or iphone.get("code")
    if not isinstance(shortcode, str) or not shortcode:
        raise BadFile("the post has no shortcode")
    seconds = _count(node, "taken_at_timestamp", "date") or _count(iphone, "taken_at")
    if not seconds:
        raise BadFile("the post has no time")
    hidden = any(node.get(flag) is True or iphone.get(flag) is True for flag in HIDDEN_FLAGS)
    likes = _count(node, "edge_media_preview_like.count", "edge_liked_by.count", "likes", hidden_at=-1)
    if likes is None:
        likes = _count(iphone, "like_count", hidden_at=-1)
    caption = _caption(node, iphone)
    is_video = node.get("is_video")
    if is_video is None:
        is_video = iphone.get("media_type") == 2 or node.get("__typename") == "GraphVideo"
    if not isinstance(is_video, bool):
        raise BadFile("is_video is not true or false")
    slides = _slides(node, iphone)
    comments = _count(node, "edge_media_to_comment.count", "edge_media_to_parent_comment.count", "comments")
    post = Post(
        shortcode=shortcode,
        taken_at=datetime.fromtimestamp(seconds, tz=UTC),
        likes=None if hidden else likes,
        comments=comments if comments is not None else _count(iphone, "comment_count"),
        hashtags=hashtags_in(caption),
        mentions=mentions_in(caption),
        caption_length=len(caption),
        is_multi_image=slides > 1,
        is_video=is_video,
        has_location=isinstance(node.get("location"), dict) or isinstance(iphone.get("location"), dict),
        image_path=photo,
        slides=slides,
    )
    return post, _owner(node, iphone)


def parse_profile(node: dict[str, Any]) -> Counts:
    username = node.get("username")
    if not isinstance(username, str) or not HANDLE_PATTERN.fullmatch(username.lower()):
        raise BadFile("the profile has no username")
    iphone = _iphone_struct(node)
    return Counts(
        username.lower(),
        _count(node, "edge_followed_by.count", "follower_count") or _count(iphone, "follower_count"),
        _count(node, "edge_follow.count", "following_count") or _count(iphone, "following_count"),
        _count(node, "edge_owner_to_timeline_media.count", "media_count") or _count(iphone, "media_count"),
        node.get("is_private") if isinstance(node.get("is_private"), bool) else None,
    )


def is_metadata_file(name: str) -> bool:
    return name.endswith((".json", ".json.xz")) and not name.endswith(("_comments.json", "_comments.json.xz"))


def stem_of(name: str) -> str:
    return name[: -len(".json.xz")] if name.endswith(".json.xz") else name[: -len(".json")]


class InstaloaderFolder:
    """One instaloader output folder, read on demand; a file is parsed again only once it has changed."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._parsed: dict[Path, tuple[tuple[int, int], ParsedFile | BadFile]] = {}
        self._warned: list[tuple[Path, str]] = []

    def read(self) -> FolderRead:
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: not a folder (give the folder instaloader wrote, or the one above it)")
        root = self.root.resolve()
        result = FolderRead()
        files = self._metadata_files(root)
        if not files:
            raise DatasetError(
                f"{self.root}: no instaloader metadata (.json.xz or .json files) in it or its subfolders"
            )
        posts: dict[str, list[tuple[Post, Counts | None]]] = {}
        profiles: dict[str, Counts] = {}
        for path in files:
            parsed = self._parse_cached(path, root)
            where = path.relative_to(root)
            if isinstance(parsed, BadFile):
                result.skipped.append((where, str(parsed)))
                continue
            if parsed.bad_photo:
                result.skipped.append((where.parent / parsed.bad_photo, "a link to outside the folder"))
            if parsed.profile is not None and parsed.profile.username:
                profiles[parsed.profile.username] = parsed.profile
            if parsed.post is not None:
                owner = parsed.owner.username if parsed.owner and parsed.owner.username else _folder_handle(where, root)
                if owner is None:
                    result.skipped.append((where, "no owner: the post names none and its folder is not a username"))
                    continue
                posts.setdefault(owner, []).append((parsed.post, parsed.owner))
        for handle in sorted(set(posts) | set(profiles)):
            account = _account(handle, profiles.get(handle), posts.get(handle, []))
            if account is None:
                result.skipped.append((Path(handle), "no follower count for this account in any of its files"))
            else:
                result.accounts.append(account)
        if result.skipped and result.skipped != self._warned:
            self._warned = list(result.skipped)
            shown = ", ".join(f"{path} ({why})" for path, why in result.skipped[:20])
            more = f" and {len(result.skipped) - 20} more" if len(result.skipped) > 20 else ""
            log.warning("skipped %d instaloader files under %s: %s%s", len(result.skipped), self.root, shown, more)
        if not result.accounts:
            raise DatasetError(f"{self.root}: no account could be read ({len(result.skipped)} files skipped)")
        return result

    def _metadata_files(self, root: Path) -> list[Path]:
        found = []
        for folder, subfolders, names in os.walk(root):
            depth = len(Path(folder).relative_to(root).parts)
            if depth >= 1:
                subfolders.clear()  # instaloader writes one level: {target}/
            found += [Path(folder) / name for name in names if is_metadata_file(name)]
        return sorted(found)

    def _parse_cached(self, path: Path, root: Path) -> ParsedFile | BadFile:
        try:
            stat = path.stat()
        except OSError as error:
            return BadFile(f"cannot be read ({error.strerror or error})")
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            parsed: ParsedFile | BadFile = _parse_file(path, root)
        except BadFile as bad:
            parsed = bad
        except OSError as error:
            parsed = BadFile(f"cannot be read ({error.strerror or error})")
        except (lzma.LZMAError, EOFError):
            parsed = BadFile("not a readable .xz file")
        self._parsed[path] = (key, parsed)
        return parsed


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _parse_file(path: Path, root: Path) -> ParsedFile:
    if not _inside(path, root):
        raise BadFile("a link to outside the folder")
    data = read_json_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("node"), dict):
        raise BadFile("not instaloader's {node, instaloader} layout")
    node_type = _get(data, "instaloader.node_type") or "Post"
    if node_type in IGNORED_NODE_TYPES:
        return ParsedFile()
    if node_type == "Profile":
        return ParsedFile(profile=parse_profile(data["node"]))
    if node_type != "Post":
        raise BadFile(f"an instaloader {node_type!r}, not a post or a profile")
    stem = stem_of(path.name)
    photo, bad_photo = None, None
    for suffix in PHOTO_SUFFIXES:
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            if _inside(candidate, root):
                photo = candidate.resolve()
            else:
                bad_photo = candidate.name
            break
    post, owner = parse_post(data["node"], photo)
    return ParsedFile(post=post, owner=owner, bad_photo=bad_photo)


def _folder_handle(where: Path, root: Path) -> str | None:
    name = (where.parent.name if len(where.parts) > 1 else root.name).lower()
    return name if HANDLE_PATTERN.fullmatch(name) else None


def _account(handle: str, profile: Counts | None, posts: list[tuple[Post, Counts | None]]) -> Account | None:
    """The account's counts from its profile file, then from its newest posts' owner; None without followers."""
    newest_first = sorted(posts, key=lambda item: item[0].taken_at, reverse=True)
    sources = ([profile] if profile else []) + [owner for _, owner in newest_first if owner is not None]

    def first(attribute: str) -> Any:
        return next((getattr(s, attribute) for s in sources if getattr(s, attribute) is not None), None)

    followers = first("followers")
    if followers is None:
        return None
    unique: dict[str, Post] = {}
    for post, _ in newest_first:
        unique.setdefault(post.shortcode, post)
    return Account(
        handle=handle,
        followers=followers,
        following=first("following") or 0,
        posts_count=max(first("posts_count") or 0, len(unique)),
        posts=tuple(unique.values()),
        is_private=bool(first("is_private")),
    )


def read_instaloader(root: Path | str) -> list[Account]:
    """Accounts from instaloader output: a profile folder, or a folder of profile folders."""
    return InstaloaderFolder(root).read().accounts
