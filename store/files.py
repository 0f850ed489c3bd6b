"""Owner-only folders and files: the data folder holds people's photos, so nothing in it is readable by others.

Modes are set explicitly (chmod after create) rather than left to the process umask.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def make_private_dir(path: Path) -> None:
    """Create `path` and any missing parent, each owner-only; folders that already exist are left as they are
    (the data folder's parent may be a home or /tmp, whose mode is not ours to change)."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "a file is where a folder should be", str(folder)) from None
            continue  # made meanwhile by another thread or process
        folder.chmod(PRIVATE_DIR)


def make_private_file(path: Path) -> None:
    """Create an empty owner-only file at `path` if there is none, and make an existing one owner-only."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def write_private_temp(folder: Path, stem: str, data: bytes) -> Path:
    """Write `data` to a new owner-only `<stem>.<random>.part` file in `folder`; removed again if writing fails."""
    fd = -1
    temp = folder / f"{stem}.{os.urandom(6).hex()}.part"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
        os.fchmod(fd, PRIVATE_FILE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        if fd >= 0:
            os.close(fd)
            temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return temp
