"""Photos acknowledged but not yet answered, so a restart in between (even kill -9) answers them after.

A row is written before the download and deleted once the photo is answered (or refused): an update
Telegram already counts as delivered is then never lost. Rows hold file ids, not photos.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.records import PhotoToAnswer
from store.database import Database, to_iso, utcnow
from store.errors import storage_faults


@dataclass(frozen=True)
class PhotoRequest(PhotoToAnswer):
    """A recorded photo not answered yet."""

    id: int = field(kw_only=True)


class PhotoRequests:
    """The `photo_requests` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def open(self, photo: PhotoToAnswer) -> int:
        """Record a photo to answer; returns the request's id (the same one for the same message again)."""
        with storage_faults("recording a photo request", self.database.path), self.database.transaction():
            self.database.ensure_chat(photo.chat_id)
            self.database.execute(
                """INSERT INTO photo_requests
                   (chat_id, message_id, file_id, file_unique_id, kind, suffix, media_group_id, requested_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO NOTHING""",
                [
                    photo.chat_id,
                    photo.message_id,
                    photo.file_id,
                    photo.file_unique_id,
                    photo.kind,
                    photo.suffix,
                    photo.media_group_id,
                    to_iso(utcnow()),
                ],
            )
            rows = self.database.rows(
                "SELECT id FROM photo_requests WHERE chat_id = ? AND message_id = ?", [photo.chat_id, photo.message_id]
            )
            return int(rows[0]["id"])

    def finish(self, *request_ids: int) -> None:
        """The requests are answered (an album's all at once)."""
        with storage_faults("finishing a photo request", self.database.path), self.database.transaction():
            for request_id in request_ids:
                self.database.execute("DELETE FROM photo_requests WHERE id = ?", [request_id])

    def unfinished(self) -> list[PhotoRequest]:
        """Every photo a restart interrupted, oldest first."""
        rows = self.database.rows(
            """SELECT id, chat_id, message_id, file_id, file_unique_id, kind, suffix, media_group_id
               FROM photo_requests ORDER BY id"""
        )
        return [PhotoRequest(**row) for row in rows]
