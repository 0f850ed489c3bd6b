"""Predictions: what the bot predicted for a chat's photo, the message that said it, and the real likes."""

from __future__ import annotations

from typing import Any

from core.records import Prediction
from store.database import Database, from_iso, to_iso, utcnow


class Predictions:
    """The `predictions` table; every verb takes the chat, so one chat never reads another's."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def save(
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
        with self.database.transaction():
            self.database.ensure_chat(chat_id)
            cursor = self.database.execute(
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
            saved = self._one(chat_id, int(cursor.lastrowid or 0))
        assert saved is not None  # just inserted, in the same transaction
        return saved

    def set_message(self, chat_id: int, prediction_id: int, message_id: int) -> None:
        """Remember which message showed the prediction, so a reply to it can say which one /actual means."""
        with self.database.transaction():
            self.database.execute(
                "UPDATE predictions SET message_id = ? WHERE chat_id = ? AND id = ?",
                [message_id, chat_id, prediction_id],
            )

    def last(self, chat_id: int) -> Prediction | None:
        rows = self.database.rows("SELECT * FROM predictions WHERE chat_id = ? ORDER BY id DESC LIMIT 1", [chat_id])
        return _prediction_from_row(rows[0]) if rows else None

    def for_message(self, chat_id: int, message_id: int) -> Prediction | None:
        rows = self.database.rows(
            "SELECT * FROM predictions WHERE chat_id = ? AND message_id = ? ORDER BY id DESC LIMIT 1",
            [chat_id, message_id],
        )
        return _prediction_from_row(rows[0]) if rows else None

    def record_actual(self, chat_id: int, prediction_id: int, actual_likes: int) -> Prediction | None:
        with self.database.transaction():
            self.database.execute(
                "UPDATE predictions SET actual_likes = ?, actual_at = ? WHERE chat_id = ? AND id = ?",
                [actual_likes, to_iso(utcnow()), chat_id, prediction_id],
            )
            return self._one(chat_id, prediction_id)

    def of_chat(self, chat_id: int, handle: str | None = None) -> list[Prediction]:
        """The chat's predictions, oldest first; only those for `handle` when given."""
        rows = self.database.rows(
            """SELECT * FROM predictions WHERE chat_id = :chat AND (:handle IS NULL OR handle = :handle)
               ORDER BY id""",
            {"chat": chat_id, "handle": handle},
        )
        return [_prediction_from_row(r) for r in rows]

    def _one(self, chat_id: int, prediction_id: int) -> Prediction | None:
        rows = self.database.rows("SELECT * FROM predictions WHERE chat_id = ? AND id = ?", [chat_id, prediction_id])
        return _prediction_from_row(rows[0]) if rows else None


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
