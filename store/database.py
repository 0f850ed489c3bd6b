"""The database object: one SQLite connection, its lock, its pragmas and its migrations.

One connection is shared by every thread behind a lock: each verb is a few milliseconds, and the bot
calls them through `asyncio.to_thread`, so a single serialised connection is simpler than a writer
thread and cannot deadlock. WAL mode lets a second process (a CLI command) read meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from migrations import MIGRATIONS_DIR
from store.files import make_private_dir, make_private_file

BUSY_TIMEOUT_MS = 30_000


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
    """One migration per numbered `.sql` file, applied in file-name order, each in its own transaction."""
    migrations = Migrations("likepredict")
    for sql_file in sorted(directory.glob("[0-9]*.sql")):
        statements = sql_statements(sql_file.read_text(encoding="utf-8"))

        def apply(db: sqlite_utils.Database, statements: list[str] = statements) -> None:
            for statement in statements:
                db.execute(statement)

        migrations(name=sql_file.stem)(apply)
    return migrations


class Database:
    """The connection behind a lock. Parts read with `rows` and write inside `transaction()`."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path
        self.lock = threading.RLock()

    @classmethod
    def open(cls, path: Path | str) -> Database:
        """Open (creating it owner-only if new) and migrate the database at `path`."""
        path = Path(path)
        in_memory = str(path) == ":memory:"
        if not in_memory:
            make_private_dir(path.parent)
            make_private_file(path)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not in_memory:
            db.enable_wal()
        build_migrations().apply(db)
        if not in_memory:
            # SQLite gives -wal and -shm the database's mode; set it anyway, umask or not.
            for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                if companion.exists():
                    companion.chmod(0o600)
        return cls(db, path)

    def close(self) -> None:
        with self.lock:
            self.db.conn.close()

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.db.query(sql, params))

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.db.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside is written, or nothing; nested blocks become savepoints."""
        with self.lock, self.db.atomic():
            yield

    def variable_limit(self) -> int:
        """How many `?` one statement may carry (999 on old SQLite builds, 32766 on newer ones)."""
        return self.db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    def integrity_check(self) -> str:
        return str(self.rows("PRAGMA integrity_check")[0]["integrity_check"])

    def ensure_chat(self, chat_id: int) -> None:
        """The chat's row, which every chat-owned row refers to (call inside a transaction)."""
        now = to_iso(utcnow())
        self.execute(
            "INSERT OR IGNORE INTO chats (chat_id, created_at, updated_at) VALUES (?, ?, ?)", [chat_id, now, now]
        )
