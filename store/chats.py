"""A chat's own state: its Instagram handle, its time zone, its open /best requests, and forgetting all of it."""

from __future__ import annotations

from store.database import Database, to_iso, utcnow
from store.errors import storage_faults
from store.images import Images


class Chats:
    """The `chats` table, and /forget across every table that holds a chat's rows."""

    def __init__(self, database: Database, images: Images) -> None:
        self.database = database
        self.images = images

    def handle(self, chat_id: int) -> str | None:
        """The Instagram account this chat set with /handle, if any."""
        rows = self.database.rows("SELECT handle FROM chats WHERE chat_id = ?", [chat_id])
        return rows[0]["handle"] if rows else None

    def set_handle(self, chat_id: int, handle: str | None) -> None:
        with self.database.transaction():
            self.database.ensure_chat(chat_id)
            self.database.execute(
                "UPDATE chats SET handle = ?, updated_at = ? WHERE chat_id = ?", [handle, to_iso(utcnow()), chat_id]
            )

    def timezone(self, chat_id: int) -> str | None:
        """The IANA time zone this chat set with /timezone, if any."""
        rows = self.database.rows("SELECT timezone FROM chats WHERE chat_id = ?", [chat_id])
        return rows[0]["timezone"] if rows else None

    def set_timezone(self, chat_id: int, zone: str | None) -> None:
        with self.database.transaction():
            self.database.ensure_chat(chat_id)
            self.database.execute(
                "UPDATE chats SET timezone = ?, updated_at = ? WHERE chat_id = ?", [zone, to_iso(utcnow()), chat_id]
            )

    def forget(self, chat_id: int) -> None:
        """Erase every row of this chat, and the photo files no other chat's draft and no stored post uses.

        The files are removed before the rows' deletion commits: if one cannot be removed the rows stay
        (StorageError), so asking again finishes the job instead of leaving a file nothing points at.
        """
        with storage_faults("forgetting a chat", self.database.path), self.database.transaction():
            shas = [
                r["image_sha256"]
                for r in self.database.rows("SELECT image_sha256 FROM drafts WHERE chat_id = ?", [chat_id])
            ]
            for table in ("best_requests", "photo_requests", "predictions", "drafts", "chats"):
                self.database.execute(f"DELETE FROM {table} WHERE chat_id = ?", [chat_id])
            self.images.remove_files(self.images.delete_unused(shas))

    def row_counts(self, chat_id: int) -> dict[str, int]:
        """How many rows each chat-owned table holds for this chat (what /forget deletes)."""
        with self.database.transaction():
            tables = [t for t in self.database.db.table_names() if "chat_id" in self.database.db[t].columns_dict]
            return {
                table: int(
                    self.database.rows(f"SELECT count(*) AS n FROM [{table}] WHERE chat_id = ?", [chat_id])[0]["n"]
                )
                for table in tables
            }


class BestRequests:
    """/best requests asked for but not yet answered, so a restart in between answers them after."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def open(self, chat_id: int) -> int:
        """The chat's open request, or a new one; returns its id."""
        with self.database.transaction():
            self.database.ensure_chat(chat_id)
            open_rows = self.database.rows(
                "SELECT id FROM best_requests WHERE chat_id = ? AND finished_at IS NULL ORDER BY id LIMIT 1", [chat_id]
            )
            if open_rows:
                return int(open_rows[0]["id"])
            cursor = self.database.execute(
                "INSERT INTO best_requests (chat_id, requested_at) VALUES (?, ?)", [chat_id, to_iso(utcnow())]
            )
            return int(cursor.lastrowid or 0)

    def finish(self, request_id: int) -> None:
        with self.database.transaction():
            self.database.execute(
                "UPDATE best_requests SET finished_at = ? WHERE id = ?", [to_iso(utcnow()), request_id]
            )

    def unfinished(self) -> list[tuple[int, int]]:
        """(request id, chat id) of /best requests a restart interrupted."""
        rows = self.database.rows("SELECT id, chat_id FROM best_requests WHERE finished_at IS NULL ORDER BY id")
        return [(r["id"], r["chat_id"]) for r in rows]
