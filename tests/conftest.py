"""Fixtures many test modules share."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in a fresh folder, with every migration applied."""
    opened = Store.open(tmp_path / "db.sqlite3", tmp_path / "images")
    yield opened
    opened.close()
