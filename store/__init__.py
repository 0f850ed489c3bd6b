"""The SQLite store: the one place that reads and writes the database and the stored photo files."""

from store.accounts import Accounts
from store.chats import BestRequests, Chats
from store.database import Database, build_migrations, sql_statements
from store.drafts import Drafts
from store.errors import StorageError
from store.images import Images
from store.photo_requests import PhotoRequest, PhotoRequests
from store.predictions import Predictions
from store.store import Store
from store.tags import TagPost, Tags

__all__ = [
    "Accounts",
    "BestRequests",
    "Chats",
    "Database",
    "Drafts",
    "Images",
    "PhotoRequest",
    "PhotoRequests",
    "Predictions",
    "StorageError",
    "Store",
    "TagPost",
    "Tags",
    "build_migrations",
    "sql_statements",
]
