"""Fixtures many test modules share."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from store import Store
from tests.botapi import LocalBotApi


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in a fresh folder, with every migration applied."""
    opened = Store.open(tmp_path / "db.sqlite3", tmp_path / "images")
    yield opened
    opened.close()


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    """A Bot API stand-in on 127.0.0.1 (modules that need a faulty one define their own `server`)."""
    async with LocalBotApi() as local:
        yield local
