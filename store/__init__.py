"""The SQLite store: the one place that reads and writes the database and the stored photo files."""

from store.database import ChatState, Store, TagPost, build_migrations, sql_statements

__all__ = ["ChatState", "Store", "TagPost", "build_migrations", "sql_statements"]
