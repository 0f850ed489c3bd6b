"""`Store`: the database and the parts that speak its domains, opened and closed together."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from store.accounts import Accounts
from store.chats import BestRequests, Chats
from store.database import Database
from store.drafts import Drafts
from store.images import Images
from store.photo_requests import PhotoRequests
from store.predictions import Predictions
from store.tags import Tags


class Store:
    """All persistent state, one part per domain: `store.drafts.save(...)`, `store.accounts.get(...)`.

    Open with `Store.open(db_path, images_dir)`; close with `close()`. The parts share one connection
    and its lock, so a verb of one part may run inside another's transaction.
    """

    def __init__(self, database: Database, images_dir: Path) -> None:
        self.database = database
        self.images = Images(database, images_dir)
        self.accounts = Accounts(database, self.images)
        self.tags = Tags(database)
        self.chats = Chats(database, self.images)
        self.drafts = Drafts(database, self.images)
        self.predictions = Predictions(database)
        self.best_requests = BestRequests(database)
        self.photo_requests = PhotoRequests(database)

    @classmethod
    def open(cls, path: Path | str, images_dir: Path | str | None = None) -> Store:
        """Open the database at `path` (migrated to the newest schema) with its photos in `images_dir`
        (default: `images` beside the database). Folders and files it creates are owner-only."""
        database = Database.open(path)
        images = Path(images_dir) if images_dir is not None else Path(path).parent / "images"
        return cls(database, images)

    @property
    def db(self) -> sqlite_utils.Database:
        """The raw database, for checks and tests; the application goes through the parts' verbs."""
        return self.database.db

    @property
    def images_dir(self) -> Path:
        return self.images.folder

    def integrity_check(self) -> str:
        return self.database.integrity_check()

    def close(self) -> None:
        self.database.close()
