"""Storage faults (a read-only or full data folder) as one typed error, logged once for the operator."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import LikepredictError

log = logging.getLogger(__name__)

# SQLite's primary result codes that mean "the disk refused", not "the SQL is wrong".
_STORAGE_CODES = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}


class StorageError(LikepredictError):
    """The data folder refused a write: `action` is what was being done, `path` the file or folder refused."""

    def __init__(self, action: str, path: Path, reason: str) -> None:
        super().__init__(f"{action} failed at {path}: {reason}")
        self.action = action
        self.path = path
        self.reason = reason


def is_storage_fault(error: BaseException) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _STORAGE_CODES
    return isinstance(error, OSError)


@contextmanager
def storage_faults(action: str, database_path: Path) -> Iterator[None]:
    """Turn a refused write inside into a StorageError, with one ERROR line (no traceback) for the operator.

    A file error names its own path; a database error names the database.
    """
    try:
        yield
    except (OSError, sqlite3.OperationalError) as error:
        if not is_storage_fault(error):
            raise
        filename = getattr(error, "filename", None)
        path = Path(filename) if isinstance(error, OSError) and filename else database_path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        log.error("%s failed: %s (%s)", action, reason, path)
        raise StorageError(action, path, reason) from error
