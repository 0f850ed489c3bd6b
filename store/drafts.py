"""Drafts: the photos a chat sent, kept until /best ranks them, /clear deletes them or /forget erases the chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.records import Draft
from store.database import Database, from_iso, to_iso, utcnow
from store.errors import storage_faults
from store.images import Images

_DRAFT_COLUMNS = """SELECT d.id, d.chat_id, d.file_unique_id, d.media_group_id, d.created_at, i.path
                    FROM drafts d JOIN images i ON i.sha256 = d.image_sha256"""


class Drafts:
    """The `drafts` table, whose rows point at photos in `Images`."""

    def __init__(self, database: Database, images: Images) -> None:
        self.database = database
        self.images = images

    def save(
        self, chat_id: int, file_unique_id: str, image: bytes, media_group_id: str | None = None, suffix: str = ".jpg"
    ) -> Draft:
        """Keep a photo as a draft of this chat; sending the same photo again returns the existing draft.

        The photo file and the draft's row are written in one transaction; a refused write (read-only or
        full data folder) raises StorageError and leaves neither behind.
        """
        with storage_faults("saving a draft photo", self.database.path), self.images.writing() as photos:
            sha = photos.add(image, suffix)
            self.database.ensure_chat(chat_id)
            self.database.execute(
                """INSERT OR IGNORE INTO drafts (chat_id, file_unique_id, image_sha256, media_group_id, created_at)
                   VALUES (?, ?, ?, ?, ?)""",
                [chat_id, file_unique_id, sha, media_group_id, to_iso(utcnow())],
            )
            rows = self.database.rows(
                f"{_DRAFT_COLUMNS} WHERE chat_id = ? AND file_unique_id = ?", [chat_id, file_unique_id]
            )
        return _draft_from_row(rows[0])

    def of_chat(self, chat_id: int) -> list[Draft]:
        """The chat's drafts, oldest first."""
        rows = self.database.rows(f"{_DRAFT_COLUMNS} WHERE chat_id = ? ORDER BY d.created_at, d.id", [chat_id])
        return [_draft_from_row(r) for r in rows]

    def get(self, chat_id: int, draft_id: int) -> Draft | None:
        """The draft, if it is this chat's: another chat's draft id finds nothing."""
        rows = self.database.rows(f"{_DRAFT_COLUMNS} WHERE d.chat_id = ? AND d.id = ?", [chat_id, draft_id])
        return _draft_from_row(rows[0]) if rows else None

    def count(self, chat_id: int) -> int:
        return int(self.database.rows("SELECT count(*) AS n FROM drafts WHERE chat_id = ?", [chat_id])[0]["n"])

    def clear(self, chat_id: int) -> int:
        """Delete this chat's drafts and the photos no one else uses (predictions stay, unlinked);
        returns how many drafts were deleted."""
        with storage_faults("deleting drafts", self.database.path), self.database.transaction():
            shas = [
                r["image_sha256"]
                for r in self.database.rows("SELECT image_sha256 FROM drafts WHERE chat_id = ?", [chat_id])
            ]
            self.database.execute("DELETE FROM drafts WHERE chat_id = ?", [chat_id])
            self.images.remove_files(self.images.delete_unused(shas))
        return len(shas)


def _draft_from_row(row: dict[str, Any]) -> Draft:
    return Draft(
        id=row["id"],
        chat_id=row["chat_id"],
        file_unique_id=row["file_unique_id"],
        image_path=Path(row["path"]),
        created_at=from_iso(row["created_at"]),
        media_group_id=row["media_group_id"],
    )
