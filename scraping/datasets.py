"""Readers and a writer for account/post data sets.

Three formats are read into `Account` records (posts newest first):

* **likepredict JSON Lines** (our own, documented in `demo/README.md`): one account per line,
  `{"handle", "followers", "following", "posts_count", "is_private", "fetched_at", "posts": [...]}` with
  posts `{"shortcode", "taken_at" (ISO 8601), "likes", "comments", "hashtags", "mentions",
  "caption_length", "is_multi_image", "is_video", "has_location", "image"}` where `image` is a path
  relative to the data file.
* **instaloader folders**: read by `scraping.instaloader_files` (post files alone are enough).
* **influencers-2017**: `../shared/data/influencers-2017.jsonl` (pseudonymised accounts, dates only,
  no comments and no images).
* **influencers-2019**: `../shared/data/influencers-2019.jsonl` (the same pseudonyms; exact UTC times,
  comments, post type, size and Instagram's image concepts; no images). `read_influencers` reads both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.records import Account, Post
from core.tags import normalize_tag

# Re-exported: callers import the data set error, the caption helpers and every reader from here.
from scraping.captions import HASHTAG_PATTERN as HASHTAG_PATTERN
from scraping.captions import MENTION_PATTERN as MENTION_PATTERN
from scraping.captions import hashtags_in as hashtags_in
from scraping.errors import DatasetError as DatasetError
from scraping.instaloader_files import read_instaloader as read_instaloader


def _parse_time(value: Any, where: str) -> datetime:
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=UTC)
        text = str(value)
        if len(text) == 10:  # a date alone: noon UTC, so it stays on that day in every zone we care about
            return datetime.fromisoformat(text).replace(hour=12, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise DatasetError(f"{where}: {value!r} is not a date or time") from None


def _int(record: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = record.get(key, default)
    if value is None or isinstance(value, bool):
        raise DatasetError(f"{where}: field {key!r} is missing or not a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: field {key!r}={value!r} is not a whole number") from None


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DatasetError(f"{path}:{number}: not valid JSON ({error.msg})") from None
                if not isinstance(record, dict):
                    raise DatasetError(f"{path}:{number}: expected a JSON object per line")
                yield number, record
        except UnicodeDecodeError:
            raise DatasetError(f"{path}: not a UTF-8 text file") from None


# ---- likepredict JSON Lines ----------------------------------------------------------------------


def read_accounts_jsonl(path: Path | str) -> Iterator[Account]:
    """Accounts from a likepredict JSON Lines file; image paths resolved against the file's folder."""
    path = Path(path)
    base = path.resolve().parent
    for number, record in _json_lines(path):
        where = f"{path}:{number}"
        if "handle" not in record:
            raise DatasetError(f"{where}: field 'handle' is missing")
        posts = []
        for index, post in enumerate(record.get("posts") or []):
            pwhere = f"{where} post {index + 1}"
            if not isinstance(post, dict):
                raise DatasetError(f"{pwhere}: expected an object")
            image = post.get("image")
            hashtags = post.get("hashtags") or []
            if not isinstance(hashtags, list):
                raise DatasetError(f"{pwhere}: 'hashtags' must be a list")
            posts.append(
                Post(
                    shortcode=str(post.get("shortcode") or f"{record['handle']}-{index}"),
                    taken_at=_parse_time(post.get("taken_at"), pwhere),
                    # An explicit null: the owner hides the count (as `write_accounts_jsonl` writes it).
                    likes=None if "likes" in post and post["likes"] is None else _int(post, "likes", pwhere),
                    comments=None if post.get("comments") is None else _int(post, "comments", pwhere),
                    hashtags=tuple(normalize_tag(str(t)) for t in hashtags),
                    mentions=_int(post, "mentions", pwhere, 0),
                    caption_length=_int(post, "caption_length", pwhere, 0),
                    is_multi_image=bool(post.get("is_multi_image", False)),
                    is_video=bool(post.get("is_video", False)),
                    has_location=bool(post.get("has_location", False)),
                    image_path=(base / image).resolve() if image else None,
                )
            )
        yield Account(
            handle=str(record["handle"]),
            followers=_int(record, "followers", where),
            following=_int(record, "following", where, 0),
            posts_count=_int(record, "posts_count", where, len(posts)),
            posts=tuple(sorted(posts, key=lambda p: p.taken_at, reverse=True)),
            is_private=bool(record.get("is_private", False)),
            fetched_at=_parse_time(record["fetched_at"], where) if record.get("fetched_at") else None,
        )


def write_accounts_jsonl(accounts: list[Account], path: Path) -> None:
    """Write accounts in the likepredict format; image paths are written relative to the file."""
    base = path.resolve().parent
    with path.open("w", encoding="utf-8") as out:
        for account in accounts:
            record = {
                "handle": account.handle,
                "followers": account.followers,
                "following": account.following,
                "posts_count": account.posts_count,
                "is_private": account.is_private,
                "fetched_at": account.fetched_at.isoformat() if account.fetched_at else None,
                "posts": [
                    {
                        "shortcode": p.shortcode,
                        "taken_at": p.taken_at.isoformat(),
                        "likes": p.likes,
                        "comments": p.comments,
                        "hashtags": list(p.hashtags),
                        "mentions": p.mentions,
                        "caption_length": p.caption_length,
                        "is_multi_image": p.is_multi_image,
                        "is_video": p.is_video,
                        "has_location": p.has_location,
                        "image": os.path.relpath(Path(p.image_path).resolve(), base) if p.image_path else None,
                    }
                    for p in account.posts
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


# ---- influencers-2017 and influencers-2019 ---------------------------------------------------------

POST_TYPES_2019 = ("image", "carousel", "video")


def read_influencers(path: Path | str) -> Iterator[Account]:
    """Accounts from `influencers-2017.jsonl` or `influencers-2019.jsonl`, the year detected per post.

    2017 posts carry a `date` (the day only: `time_known` is False) and no comments; 2019 posts carry the exact
    UTC `taken_at`, `comments`, `type` (image / carousel / video), `width`/`height` and `image_concepts`.
    """
    path = Path(path)
    for number, record in _json_lines(path):
        where = f"{path}:{number}"
        if "account" not in record:
            raise DatasetError(f"{where}: field 'account' is missing; is this an influencers file?")
        posts = []
        for index, post in enumerate(record.get("posts") or []):
            pwhere = f"{where} post {index + 1}"
            if not isinstance(post, dict):
                raise DatasetError(f"{pwhere}: expected an object")
            if "taken_at" in post:  # 2019: the same pseudonym as in 2017, so its own codes
                posts.append(_post_2019(post, f"{record['account']}-2019-{index:02d}", pwhere))
            else:
                posts.append(_post_2017(post, f"{record['account']}-{index:02d}", pwhere))
        yield Account(
            handle=str(record["account"]),
            followers=_int(record, "followers", where),
            following=_int(record, "following", where, 0),
            posts_count=_int(record, "posts_total", where, len(posts)),
            posts=tuple(sorted(posts, key=lambda p: p.taken_at, reverse=True)),
            fetched_at=_parse_time(record["crawled"], where) if record.get("crawled") else None,
            is_verified=bool(record.get("is_verified", False)),
            is_business=bool(record.get("is_business", False)),
        )


def _post_2017(post: dict[str, Any], shortcode: str, where: str) -> Post:
    return Post(
        shortcode=shortcode,
        taken_at=_parse_time(post.get("date"), where),
        likes=_int(post, "likes", where),
        comments=None,
        hashtags=tuple(str(t).lower() for t in post.get("hashtags") or []),
        mentions=_int(post, "mentions", where, 0),
        caption_length=_int(post, "caption_chars", where, 0),
        is_multi_image=bool(post.get("multiple_images", False)),
        is_video=bool(post.get("is_video", False)),
        has_location=bool(post.get("has_location", False)),
        time_known=False,
    )


def _post_2019(post: dict[str, Any], shortcode: str, where: str) -> Post:
    kind = post.get("type", "image")
    if kind not in POST_TYPES_2019:
        raise DatasetError(f"{where}: 'type' must be one of {', '.join(POST_TYPES_2019)}, not {kind!r}")
    concepts = post.get("image_concepts")
    if concepts is not None and not isinstance(concepts, list):
        raise DatasetError(f"{where}: 'image_concepts' must be a list or null")
    return Post(
        shortcode=shortcode,
        taken_at=_parse_time(post.get("taken_at"), where),
        likes=_int(post, "likes", where),
        comments=None if post.get("comments") is None else _int(post, "comments", where),
        hashtags=tuple(str(t).lower() for t in post.get("hashtags") or []),
        mentions=_int(post, "mentions", where, 0),
        caption_length=_int(post, "caption_chars", where, 0),
        is_multi_image=kind == "carousel",
        is_video=kind == "video",
        has_location=bool(post.get("has_location", False)),
        width=None if post.get("width") is None else _int(post, "width", where),
        height=None if post.get("height") is None else _int(post, "height", where),
        image_concepts=None if concepts is None else tuple(str(c) for c in concepts),
        video_views=None if post.get("video_views") is None else _int(post, "video_views", where),
    )


def read_any(path: Path | str) -> Iterator[Account]:
    """Guess the format: a folder is instaloader output; a file is an influencers file (2017 or 2019) or likepredict JSONL."""
    path = Path(path)
    if path.is_dir():
        yield from read_instaloader(path)
        return
    if not path.is_file():
        raise DatasetError(f"{path}: no such file or folder")
    first = next(_json_lines(path), None)
    if first is None:
        return
    if "account" in first[1] and "handle" not in first[1]:
        yield from read_influencers(path)
    else:
        yield from read_accounts_jsonl(path)
