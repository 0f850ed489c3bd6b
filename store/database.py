"""The SQLite store: accounts and posts (the source cache), images, chats, drafts and predictions.

Callers use the verbs of the domain (`save_account`, `recent_posts`, `save_draft`, `forget_chat`);
no SQL leaves this module, and every query is parameterised.

One connection is shared by every thread behind a lock: each verb is a few milliseconds, and the bot
calls them through `asyncio.to_thread`, so a single serialised connection is simpler than a writer
thread and cannot deadlock. WAL mode lets a second process (a CLI command) read meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import sqlite_utils
from sqlite_utils import Migrations

from core.records import Account, CachedAccount, Draft, Post, Prediction
from migrations import MIGRATIONS_DIR

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sql_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (executescript would commit mid-migration)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not all(line.strip().startswith("--") or not line.strip() for line in current.splitlines()):
        raise ValueError(f"incomplete SQL statement: {current.strip()[:80]!r}")
    return statements


def build_migrations(directory: Path = MIGRATIONS_DIR) -> Migrations:
    """One migration per numbered `.sql` file, applied in file-name order."""
    migrations = Migrations("likepredict")
    for sql_file in sorted(directory.glob("[0-9]*.sql")):
        statements = sql_statements(sql_file.read_text(encoding="utf-8"))

        def apply(db: sqlite_utils.Database, statements: list[str] = statements) -> None:
            for statement in statements:
                db.execute(statement)

        migrations(name=sql_file.stem)(apply)
    return migrations


def _locked(method: Callable[..., T]) -> Callable[..., T]:
    @wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass
class ChatState:
    chat_id: int
    handle: str | None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TagPost:
    """A post carrying a hashtag, with what the hashtag engine needs to score it."""

    post_id: int
    handle: str
    likes: int
    comments: int
    followers: int
    image_sha256: str | None
    account_mean_rate: float  # the owning account's mean (likes+comments)/followers over its stored posts


class Store:
    """All persistent state. Open with `Store.open(path, images_dir)`; close with `close()`."""

    def __init__(self, db: sqlite_utils.Database, images_dir: Path) -> None:
        self.db = db
        self.images_dir = images_dir
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path | str, images_dir: Path | str | None = None) -> Store:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        if str(path) != ":memory:":
            db.enable_wal()
        build_migrations().apply(db)
        images = Path(images_dir) if images_dir is not None else path.parent / "images"
        images.mkdir(parents=True, exist_ok=True)
        return cls(db, images)

    @_locked
    def close(self) -> None:
        self.db.conn.close()

    def _rows(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    # ---- images -------------------------------------------------------------------------------

    @_locked
    def save_image(self, data: bytes, suffix: str = ".jpg") -> str:
        """Store image bytes once by content hash; returns the sha256."""
        with self.db.atomic():
            return self._insert_image(data, suffix)

    def _insert_image(self, data: bytes, suffix: str) -> str:
        # Callers hold the lock and a transaction: the file goes to disk first, its row with the transaction.
        sha = hashlib.sha256(data).hexdigest()
        if self._rows("SELECT 1 FROM images WHERE sha256 = ?", [sha]):
            return sha
        target = self.images_dir / sha[:2] / f"{sha}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)
        self.db.execute(
            "INSERT OR IGNORE INTO images (sha256, path, bytes, created_at) VALUES (?, ?, ?, ?)",
            [sha, str(target), len(data), to_iso(utcnow())],
        )
        return sha

    @_locked
    def image_path(self, sha256: str) -> Path | None:
        rows = self._rows("SELECT path FROM images WHERE sha256 = ?", [sha256])
        return Path(rows[0]["path"]) if rows else None

    @_locked
    def cached_embedding(self, sha256: str, model_version: str) -> np.ndarray | None:
        rows = self._rows(
            "SELECT vector FROM image_embeddings WHERE image_sha256 = ? AND model_version = ?", [sha256, model_version]
        )
        return np.frombuffer(rows[0]["vector"], dtype=np.float32).copy() if rows else None

    @_locked
    def save_embedding(self, sha256: str, model_version: str, vector: np.ndarray) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO image_embeddings (image_sha256, model_version, vector) VALUES (?, ?, ?)",
                [sha256, model_version, np.asarray(vector, dtype=np.float32).tobytes()],
            )

    # ---- accounts and posts (the source cache) ------------------------------------------------

    @_locked
    def save_account(self, account: Account, fetched_at: datetime | None = None) -> None:
        """Store an account and its posts in one transaction: all of it is written, or none."""
        fetched = to_iso(fetched_at or account.fetched_at or utcnow())
        with self.db.atomic():
            self.db.execute(
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
                image_sha = None
                if post.image_path is not None and Path(post.image_path).is_file():
                    image = Path(post.image_path)
                    image_sha = self._insert_image(image.read_bytes(), image.suffix.lower() or ".jpg")
                tags = sorted({t.lower() for t in post.hashtags if t})
                self.db.execute(
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
                        account.handle,
                        post.shortcode,
                        to_iso(post.taken_at),
                        post.likes if post.likes is not None else 0,
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
                post_id = self._rows(
                    "SELECT id FROM posts WHERE handle = ? AND shortcode = ?", [account.handle, post.shortcode]
                )[0]["id"]
                self.db.execute("DELETE FROM post_hashtags WHERE post_id = ?", [post_id])
                for tag in tags:
                    self.db.execute("INSERT INTO post_hashtags (post_id, tag) VALUES (?, ?)", [post_id, tag])

    @_locked
    def get_account(self, handle: str, posts: int = 20) -> CachedAccount | None:
        """The cached account with its `posts` most recent posts, newest first; None if never fetched."""
        rows = self._rows("SELECT * FROM accounts WHERE handle = ?", [handle])
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
            posts=tuple(self._recent_posts(handle, posts)),
            fetched_at=fetched_at,
        )
        return CachedAccount(account=account, fetched_at=fetched_at)

    @_locked
    def recent_posts(self, handle: str, n: int = 20) -> list[Post]:
        return self._recent_posts(handle, n)

    def _recent_posts(self, handle: str, n: int) -> list[Post]:
        rows = self._rows(
            """SELECT posts.*, images.path AS image_path FROM posts
               LEFT JOIN images ON images.sha256 = posts.image_sha256
               WHERE handle = ? ORDER BY taken_at DESC, id DESC LIMIT ?""",
            [handle, n],
        )
        return [_post_from_row(row) for row in rows]

    @_locked
    def account_handles(self) -> list[str]:
        return [r["handle"] for r in self._rows("SELECT handle FROM accounts ORDER BY handle")]

    # ---- hashtags -------------------------------------------------------------------------------

    @_locked
    def tag_post_counts(self, tags: Iterable[str]) -> dict[str, int]:
        tag_list = sorted({t.lower() for t in tags})
        if not tag_list:
            return {}
        placeholders = ", ".join("?" for _ in tag_list)
        rows = self._rows(
            f"SELECT tag, count(*) AS n FROM post_hashtags WHERE tag IN ({placeholders}) GROUP BY tag", tag_list
        )
        return {r["tag"]: r["n"] for r in rows}

    @_locked
    def posts_with_images(self, limit: int = 5000) -> list[tuple[int, str, tuple[str, ...]]]:
        """(post id, image sha256, hashtags) of stored posts that have a photo."""
        rows = self._rows(
            "SELECT id, image_sha256, hashtags FROM posts WHERE image_sha256 IS NOT NULL ORDER BY id LIMIT ?", [limit]
        )
        return [(r["id"], r["image_sha256"], tuple(json.loads(r["hashtags"]))) for r in rows]

    # ---- chats --------------------------------------------------------------------------------

    def _ensure_chat(self, chat_id: int) -> None:
        now = to_iso(utcnow())
        self.db.execute(
            "INSERT OR IGNORE INTO chats (chat_id, created_at, updated_at) VALUES (?, ?, ?)", [chat_id, now, now]
        )

    @_locked
    def chat(self, chat_id: int) -> ChatState:
        rows = self._rows("SELECT chat_id, handle, settings FROM chats WHERE chat_id = ?", [chat_id])
        if not rows:
            return ChatState(chat_id=chat_id, handle=None)
        return ChatState(chat_id, rows[0]["handle"], json.loads(rows[0]["settings"] or "{}"))

    @_locked
    def set_chat_handle(self, chat_id: int, handle: str | None) -> None:
        with self.db.atomic():
            self._ensure_chat(chat_id)
            self.db.execute(
                "UPDATE chats SET handle = ?, updated_at = ? WHERE chat_id = ?", [handle, to_iso(utcnow()), chat_id]
            )

    @_locked
    def forget_chat(self, chat_id: int) -> None:
        """Erase every row of this chat, and the stored photos only its drafts used."""
        with self.db.atomic():
            orphan_candidates = [
                r["image_sha256"] for r in self._rows("SELECT image_sha256 FROM drafts WHERE chat_id = ?", [chat_id])
            ]
            self.db.execute("DELETE FROM best_requests WHERE chat_id = ?", [chat_id])
            self.db.execute("DELETE FROM predictions WHERE chat_id = ?", [chat_id])
            self.db.execute("DELETE FROM drafts WHERE chat_id = ?", [chat_id])
            self.db.execute("DELETE FROM chats WHERE chat_id = ?", [chat_id])
            removed = self._delete_unused_images(orphan_candidates)
        for path in removed:
            path.unlink(missing_ok=True)

    def _delete_unused_images(self, shas: Iterable[str]) -> list[Path]:
        removed: list[Path] = []
        for sha in set(shas):
            in_use = self._rows(
                """SELECT 1 FROM drafts WHERE image_sha256 = :sha
                   UNION ALL SELECT 1 FROM posts WHERE image_sha256 = :sha LIMIT 1""",
                {"sha": sha},
            )
            if not in_use:
                rows = self._rows("SELECT path FROM images WHERE sha256 = ?", [sha])
                self.db.execute("DELETE FROM images WHERE sha256 = ?", [sha])
                removed.extend(Path(r["path"]) for r in rows)
        return removed

    # ---- drafts -------------------------------------------------------------------------------

    @_locked
    def save_draft(
        self, chat_id: int, file_unique_id: str, image: bytes, media_group_id: str | None = None, suffix: str = ".jpg"
    ) -> Draft:
        """Keep a photo as a draft of this chat; sending the same photo again returns the existing draft."""
        sha = self.save_image(image, suffix)
        with self.db.atomic():
            self._ensure_chat(chat_id)
            self.db.execute(
                """INSERT OR IGNORE INTO drafts (chat_id, file_unique_id, image_sha256, media_group_id, created_at)
                   VALUES (?, ?, ?, ?, ?)""",
                [chat_id, file_unique_id, sha, media_group_id, to_iso(utcnow())],
            )
        rows = self._rows(
            """SELECT d.*, i.path FROM drafts d JOIN images i ON i.sha256 = d.image_sha256
               WHERE chat_id = ? AND file_unique_id = ?""",
            [chat_id, file_unique_id],
        )
        return _draft_from_row(rows[0])

    @_locked
    def drafts(self, chat_id: int) -> list[Draft]:
        rows = self._rows(
            """SELECT d.*, i.path FROM drafts d JOIN images i ON i.sha256 = d.image_sha256
               WHERE chat_id = ? ORDER BY d.created_at, d.id""",
            [chat_id],
        )
        return [_draft_from_row(r) for r in rows]

    @_locked
    def draft(self, chat_id: int, draft_id: int) -> Draft | None:
        rows = self._rows(
            """SELECT d.*, i.path FROM drafts d JOIN images i ON i.sha256 = d.image_sha256
               WHERE d.chat_id = ? AND d.id = ?""",
            [chat_id, draft_id],
        )
        return _draft_from_row(rows[0]) if rows else None

    @_locked
    def count_drafts(self, chat_id: int) -> int:
        return self._rows("SELECT count(*) AS n FROM drafts WHERE chat_id = ?", [chat_id])[0]["n"]

    @_locked
    def clear_drafts(self, chat_id: int) -> int:
        """Delete this chat's drafts (predictions stay, unlinked); returns how many were deleted."""
        with self.db.atomic():
            shas = [
                r["image_sha256"] for r in self._rows("SELECT image_sha256 FROM drafts WHERE chat_id = ?", [chat_id])
            ]
            self.db.execute("DELETE FROM drafts WHERE chat_id = ?", [chat_id])
            removed = self._delete_unused_images(shas)
        for path in removed:
            path.unlink(missing_ok=True)
        return len(shas)

    # ---- /best requests that must survive a restart ---------------------------------------------

    @_locked
    def open_best_request(self, chat_id: int) -> int:
        with self.db.atomic():
            self._ensure_chat(chat_id)
            open_rows = self._rows(
                "SELECT id FROM best_requests WHERE chat_id = ? AND finished_at IS NULL ORDER BY id LIMIT 1", [chat_id]
            )
            if open_rows:
                return open_rows[0]["id"]
            cursor = self.db.execute(
                "INSERT INTO best_requests (chat_id, requested_at) VALUES (?, ?)", [chat_id, to_iso(utcnow())]
            )
            return int(cursor.lastrowid)

    @_locked
    def finish_best_request(self, request_id: int) -> None:
        with self.db.atomic():
            self.db.execute("UPDATE best_requests SET finished_at = ? WHERE id = ?", [to_iso(utcnow()), request_id])

    @_locked
    def unfinished_best_requests(self) -> list[tuple[int, int]]:
        """(request id, chat id) of /best requests a restart interrupted."""
        rows = self._rows("SELECT id, chat_id FROM best_requests WHERE finished_at IS NULL ORDER BY id")
        return [(r["id"], r["chat_id"]) for r in rows]

    # ---- predictions --------------------------------------------------------------------------

    @_locked
    def save_prediction(
        self,
        chat_id: int,
        handle: str,
        predicted_likes: float,
        low: float,
        high: float,
        model_version: str,
        draft_id: int | None = None,
        appeal: float | None = None,
        message_id: int | None = None,
    ) -> Prediction:
        with self.db.atomic():
            self._ensure_chat(chat_id)
            cursor = self.db.execute(
                """INSERT INTO predictions (chat_id, draft_id, handle, predicted_likes, low, high, appeal,
                       model_version, message_id, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    chat_id,
                    draft_id,
                    handle,
                    predicted_likes,
                    low,
                    high,
                    appeal,
                    model_version,
                    message_id,
                    to_iso(utcnow()),
                ],
            )
            prediction_id = int(cursor.lastrowid)
        return self._prediction(chat_id, prediction_id)  # type: ignore[return-value]

    @_locked
    def set_prediction_message(self, chat_id: int, prediction_id: int, message_id: int) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE predictions SET message_id = ? WHERE chat_id = ? AND id = ?",
                [message_id, chat_id, prediction_id],
            )

    def _prediction(self, chat_id: int, prediction_id: int) -> Prediction | None:
        rows = self._rows("SELECT * FROM predictions WHERE chat_id = ? AND id = ?", [chat_id, prediction_id])
        return _prediction_from_row(rows[0]) if rows else None

    @_locked
    def last_prediction(self, chat_id: int) -> Prediction | None:
        rows = self._rows("SELECT * FROM predictions WHERE chat_id = ? ORDER BY id DESC LIMIT 1", [chat_id])
        return _prediction_from_row(rows[0]) if rows else None

    @_locked
    def prediction_for_message(self, chat_id: int, message_id: int) -> Prediction | None:
        rows = self._rows(
            "SELECT * FROM predictions WHERE chat_id = ? AND message_id = ? ORDER BY id DESC LIMIT 1",
            [chat_id, message_id],
        )
        return _prediction_from_row(rows[0]) if rows else None

    @_locked
    def record_actual(self, chat_id: int, prediction_id: int, actual_likes: int) -> Prediction | None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE predictions SET actual_likes = ?, actual_at = ? WHERE chat_id = ? AND id = ?",
                [actual_likes, to_iso(utcnow()), chat_id, prediction_id],
            )
        return self._prediction(chat_id, prediction_id)

    @_locked
    def predictions(self, chat_id: int, handle: str | None = None) -> list[Prediction]:
        rows = self._rows(
            """SELECT * FROM predictions WHERE chat_id = :chat AND (:handle IS NULL OR handle = :handle)
               ORDER BY id""",
            {"chat": chat_id, "handle": handle},
        )
        return [_prediction_from_row(r) for r in rows]

    # ---- checks -------------------------------------------------------------------------------

    @_locked
    def integrity_check(self) -> str:
        return self._rows("PRAGMA integrity_check")[0]["integrity_check"]

    @_locked
    def rows_for_chat(self, chat_id: int) -> dict[str, int]:
        """How many rows each chat-owned table holds for this chat (used to prove /forget)."""
        counts: dict[str, int] = {}
        for table in self.db.table_names():
            if "chat_id" in self.db[table].columns_dict:
                counts[table] = self._rows(f"SELECT count(*) AS n FROM [{table}] WHERE chat_id = ?", [chat_id])[0]["n"]
        return counts

    # ---- hashtag engine verbs (owner: HASHTAG engineer, inference/hashtags.py) ------------------

    @_locked
    def tag_evidence(self, tags: Iterable[str], per_tag: int = 50) -> dict[str, list[TagPost]]:
        """For each tag, its `per_tag` most recent posts with their accounts' mean rates, in one query.

        Posts are chosen by recency, not by how well they did: ranking by outcome would make every
        popular tag look like it out-performs.
        """
        tag_list = sorted({t.lower() for t in tags if t})
        if not tag_list:
            return {}
        rows = self._rows(
            """WITH wanted(tag) AS (SELECT value FROM json_each(:tags)),
               tagged AS (
                   SELECT h.tag, p.id, p.handle, p.likes, coalesce(p.comments, 0) AS comments, a.followers,
                          p.image_sha256,
                          row_number() OVER (PARTITION BY h.tag ORDER BY p.taken_at DESC, p.id DESC) AS rank
                   FROM wanted w
                   JOIN post_hashtags h ON h.tag = w.tag
                   JOIN posts p ON p.id = h.post_id AND NOT p.likes_hidden
                   JOIN accounts a ON a.handle = p.handle),
               chosen AS (SELECT * FROM tagged WHERE rank <= :per_tag),
               rates AS (
                   SELECT p.handle, avg((p.likes + coalesce(p.comments, 0)) * 1.0 / max(a.followers, 1)) AS mean_rate
                   FROM posts p JOIN accounts a ON a.handle = p.handle
                   WHERE p.handle IN (SELECT handle FROM chosen) AND NOT p.likes_hidden
                   GROUP BY p.handle)
               SELECT chosen.*, rates.mean_rate FROM chosen JOIN rates ON rates.handle = chosen.handle
               ORDER BY chosen.tag, chosen.rank""",
            {"tags": json.dumps(tag_list), "per_tag": per_tag},
        )
        evidence: dict[str, list[TagPost]] = {tag: [] for tag in tag_list}
        for r in rows:
            evidence[r["tag"]].append(
                TagPost(
                    r["id"],
                    r["handle"],
                    r["likes"],
                    r["comments"],
                    r["followers"],
                    r["image_sha256"],
                    float(r["mean_rate"] or 0.0),
                )
            )
        return evidence

    @_locked
    def cooccurring_with_partner(
        self, tags: Iterable[str], limit: int = 50, min_shared: int = 1
    ) -> list[tuple[str, int, str, int]]:
        """Tags that share `min_shared`+ posts with any of `tags`, each with its strongest partner.

        Rows are (tag, posts shared with any of `tags`, the partner it shares most posts with, how many).
        """
        tag_list = sorted({t.lower() for t in tags if t})
        if not tag_list:
            return []
        rows = self._rows(
            """WITH own(tag) AS (SELECT value FROM json_each(:tags)),
               pairs AS (
                   SELECT b.tag AS tag, a.tag AS partner, a.post_id
                   FROM own JOIN post_hashtags a ON a.tag = own.tag
                   JOIN post_hashtags b ON b.post_id = a.post_id
                   WHERE b.tag NOT IN (SELECT tag FROM own)),
               totals AS (
                   SELECT tag, count(DISTINCT post_id) AS shared FROM pairs
                   GROUP BY tag HAVING count(DISTINCT post_id) >= :min_shared
                   ORDER BY shared DESC, tag LIMIT :limit),
               partners AS (
                   SELECT tag, partner, count(*) AS shared,
                          row_number() OVER (PARTITION BY tag ORDER BY count(*) DESC, partner) AS rank
                   FROM pairs WHERE tag IN (SELECT tag FROM totals) GROUP BY tag, partner)
               SELECT totals.tag, totals.shared, partners.partner, partners.shared AS partner_shared
               FROM totals JOIN partners ON partners.tag = totals.tag AND partners.rank = 1
               ORDER BY totals.shared DESC, totals.tag""",
            {"tags": json.dumps(tag_list), "limit": limit, "min_shared": min_shared},
        )
        return [(r["tag"], r["shared"], r["partner"], r["partner_shared"]) for r in rows]

    # ---- hashtag ranking verbs (owner: HASHTAG follow-up engineer, inference/hashtags.py) -------

    @_locked
    def shared_post_counts(self, tags: Iterable[str], partners: Iterable[str]) -> dict[tuple[str, str], int]:
        """Posts carrying both tags, for every (tag, partner) pair that shares at least one post."""
        tag_list = sorted({t.lower() for t in tags if t})
        partner_list = sorted({t.lower() for t in partners if t})
        if not tag_list or not partner_list:
            return {}
        rows = self._rows(
            """WITH wanted(tag) AS (SELECT value FROM json_each(:tags)),
               partners(tag) AS (SELECT value FROM json_each(:partners))
               SELECT a.tag AS tag, b.tag AS partner, count(*) AS shared
               FROM wanted JOIN post_hashtags a ON a.tag = wanted.tag
               JOIN post_hashtags b ON b.post_id = a.post_id
               JOIN partners ON partners.tag = b.tag
               WHERE a.tag <> b.tag
               GROUP BY a.tag, b.tag""",
            {"tags": json.dumps(tag_list), "partners": json.dumps(partner_list)},
        )
        return {(r["tag"], r["partner"]): r["shared"] for r in rows}

    @_locked
    def post_image_shas(self, handle: str) -> dict[str, str]:
        """Shortcode -> image sha256 of the account's stored posts that have a photo."""
        rows = self._rows(
            "SELECT shortcode, image_sha256 FROM posts WHERE handle = ? AND image_sha256 IS NOT NULL", [handle]
        )
        return {r["shortcode"]: r["image_sha256"] for r in rows}


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


def _draft_from_row(row: dict[str, Any]) -> Draft:
    return Draft(
        id=row["id"],
        chat_id=row["chat_id"],
        file_unique_id=row["file_unique_id"],
        image_path=Path(row["path"]),
        created_at=from_iso(row["created_at"]),
        media_group_id=row["media_group_id"],
        features=json.loads(row["features"] or "{}"),
    )


def _prediction_from_row(row: dict[str, Any]) -> Prediction:
    return Prediction(
        id=row["id"],
        chat_id=row["chat_id"],
        draft_id=row["draft_id"],
        handle=row["handle"],
        predicted_likes=row["predicted_likes"],
        low=row["low"],
        high=row["high"],
        appeal=row["appeal"],
        model_version=row["model_version"],
        created_at=from_iso(row["created_at"]),
        actual_likes=row["actual_likes"],
        message_id=row["message_id"],
    )
