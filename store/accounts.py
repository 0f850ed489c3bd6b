"""Accounts and their posts: the cache of what a source returned, with each post's photo and hashtags."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from core.records import Account, CachedAccount, Post
from store.database import Database, from_iso, to_iso, utcnow
from store.images import Images, PhotoWriter


class Accounts:
    """The `accounts`, `posts` and `post_hashtags` tables."""

    def __init__(self, database: Database, images: Images) -> None:
        self.database = database
        self.images = images

    def save(self, account: Account, fetched_at: datetime | None = None) -> None:
        """Store an account, its posts and their photos in one transaction: all of it is written, or none."""
        fetched = to_iso(fetched_at or account.fetched_at or utcnow())
        with self.images.writing() as photos:
            self.database.execute(
                """INSERT INTO accounts (handle, followers, following, posts_count, is_private, fetched_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT(handle) DO UPDATE SET followers = excluded.followers,
                       following = excluded.following, posts_count = excluded.posts_count,
                       is_private = excluded.is_private, fetched_at = excluded.fetched_at""",
                [
                    account.handle,
                    account.followers,
                    account.following,
                    account.posts_count,
                    int(account.is_private),
                    fetched,
                ],
            )
            for post in account.posts:
                self._save_post(account.handle, post, photos)

    def _save_post(self, handle: str, post: Post, photos: PhotoWriter) -> None:
        image_sha = None
        if post.image_path is not None and Path(post.image_path).is_file():
            image = Path(post.image_path)
            image_sha = photos.add(image.read_bytes(), image.suffix.lower() or ".jpg")
        self.database.execute(
            """INSERT INTO posts (handle, shortcode, taken_at, likes, likes_hidden, slides, comments, hashtags,
                   mentions, caption_length, is_multi_image, is_video, has_location, image_sha256)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(handle, shortcode) DO UPDATE SET taken_at = excluded.taken_at,
                   likes = excluded.likes, likes_hidden = excluded.likes_hidden, slides = excluded.slides,
                   comments = excluded.comments, hashtags = excluded.hashtags,
                   mentions = excluded.mentions, caption_length = excluded.caption_length,
                   is_multi_image = excluded.is_multi_image, is_video = excluded.is_video,
                   has_location = excluded.has_location,
                   image_sha256 = coalesce(excluded.image_sha256, posts.image_sha256)""",
            [
                handle,
                post.shortcode,
                to_iso(post.taken_at),
                post.likes if post.likes is not None else 0,  # with likes_hidden = 1, never read as a count
                int(post.likes is None),
                post.slides,
                post.comments,
                json.dumps(list(post.hashtags)),
                post.mentions,
                post.caption_length,
                int(post.is_multi_image),
                int(post.is_video),
                int(post.has_location),
                image_sha,
            ],
        )
        post_id = self.database.rows(
            "SELECT id FROM posts WHERE handle = ? AND shortcode = ?", [handle, post.shortcode]
        )[0]["id"]
        self.database.execute("DELETE FROM post_hashtags WHERE post_id = ?", [post_id])
        for tag in sorted({t.lower() for t in post.hashtags if t}):
            self.database.execute("INSERT INTO post_hashtags (post_id, tag) VALUES (?, ?)", [post_id, tag])

    def get(self, handle: str, posts: int = 20) -> CachedAccount | None:
        """The cached account with its `posts` most recent posts, newest first; None if never fetched."""
        with self.database.transaction():  # the account and its posts as of one moment
            rows = self.database.rows("SELECT * FROM accounts WHERE handle = ?", [handle])
            if not rows:
                return None
            row = rows[0]
            fetched_at = from_iso(row["fetched_at"])
            account = Account(
                handle=row["handle"],
                followers=row["followers"],
                following=row["following"],
                posts_count=row["posts_count"],
                is_private=bool(row["is_private"]),
                posts=tuple(self.recent_posts(handle, posts)),
                fetched_at=fetched_at,
            )
        return CachedAccount(account=account, fetched_at=fetched_at)

    def recent_posts(self, handle: str, n: int = 20) -> list[Post]:
        rows = self.database.rows(
            """SELECT posts.*, images.path AS image_path FROM posts
               LEFT JOIN images ON images.sha256 = posts.image_sha256
               WHERE handle = ? ORDER BY taken_at DESC, id DESC LIMIT ?""",
            [handle, n],
        )
        return [_post_from_row(row) for row in rows]

    def handles(self) -> list[str]:
        return [r["handle"] for r in self.database.rows("SELECT handle FROM accounts ORDER BY handle")]

    def post_image_shas(self, handle: str) -> dict[str, str]:
        """Shortcode -> image sha256 of the account's stored posts that have a photo."""
        rows = self.database.rows(
            "SELECT shortcode, image_sha256 FROM posts WHERE handle = ? AND image_sha256 IS NOT NULL", [handle]
        )
        return {r["shortcode"]: r["image_sha256"] for r in rows}

    def posts_with_images(self, limit: int = 5000) -> list[tuple[int, str, tuple[str, ...]]]:
        """(post id, image sha256, hashtags) of stored posts that have a photo."""
        rows = self.database.rows(
            "SELECT id, image_sha256, hashtags FROM posts WHERE image_sha256 IS NOT NULL ORDER BY id LIMIT ?", [limit]
        )
        return [(r["id"], r["image_sha256"], tuple(json.loads(r["hashtags"]))) for r in rows]


def _post_from_row(row: dict[str, Any]) -> Post:
    return Post(
        shortcode=row["shortcode"],
        taken_at=from_iso(row["taken_at"]),
        likes=None if row["likes_hidden"] else row["likes"],
        comments=row["comments"],
        hashtags=tuple(json.loads(row["hashtags"] or "[]")),
        mentions=row["mentions"],
        caption_length=row["caption_length"],
        is_multi_image=bool(row["is_multi_image"]),
        is_video=bool(row["is_video"]),
        has_location=bool(row["has_location"]),
        image_path=Path(row["image_path"]) if row.get("image_path") else None,
        slides=row["slides"],
    )
