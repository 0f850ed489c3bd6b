"""Numbered SQL migrations, applied in order by `store.Store.open`."""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent
