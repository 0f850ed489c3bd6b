"""Photos, stored once under the sha256 of their bytes, and their embeddings cached per model version.

A photo file and its row are written in one transaction: the bytes go to an owner-only temporary file,
the row is inserted, the file is renamed into place and only then is the transaction committed. If any
step fails the temporary file is removed and the row rolled back, so no row points at a missing file and
no half-written file stays behind.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

from store.database import Database, to_iso, utcnow
from store.errors import storage_faults
from store.files import make_private_dir, write_private_temp


class PhotoWriter:
    """Stages photo files and their rows inside one transaction (see `Images.writing`)."""

    def __init__(self, database: Database, folder: Path) -> None:
        self._database = database
        self._folder = folder
        self._staged: dict[str, tuple[Path, Path]] = {}  # sha256 -> (temporary file, final path)
        self._placed: list[Path] = []

    def add(self, data: bytes, suffix: str = ".jpg") -> str:
        """Stage a photo (nothing to do if it is already stored); returns its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        rows = self._database.rows("SELECT path FROM images WHERE sha256 = ?", [sha])
        if sha in self._staged or (rows and Path(rows[0]["path"]).is_file()):
            return sha
        target = self._folder / sha[:2] / f"{sha}{suffix}"
        make_private_dir(target.parent)
        self._staged[sha] = (write_private_temp(target.parent, sha, data), target)
        if rows:  # the row survived its file (deleted by hand): put the file back
            self._database.execute(
                "UPDATE images SET path = ?, bytes = ? WHERE sha256 = ?", [str(target), len(data), sha]
            )
        else:
            self._database.execute(
                "INSERT INTO images (sha256, path, bytes, created_at) VALUES (?, ?, ?, ?)",
                [sha, str(target), len(data), to_iso(utcnow())],
            )
        return sha

    def place(self) -> None:
        """Rename every staged file to its final name: the last step before the commit."""
        for temp, target in self._staged.values():
            existed = target.exists()
            os.replace(temp, target)
            if not existed:
                self._placed.append(target)

    def discard(self) -> None:
        """Remove what this transaction wrote; best effort, so the error that got us here is the one raised."""
        for path in [*(temp for temp, _ in self._staged.values()), *self._placed]:
            with suppress(OSError):
                path.unlink(missing_ok=True)


class Images:
    """The photo files under `folder` and the `images` and `image_embeddings` tables."""

    def __init__(self, database: Database, folder: Path) -> None:
        self.database = database
        self.folder = folder
        make_private_dir(folder)

    @contextmanager
    def writing(self) -> Iterator[PhotoWriter]:
        """One transaction in which photos can be added with the rows that use them."""
        writer = PhotoWriter(self.database, self.folder)
        try:
            with self.database.transaction():
                yield writer
                writer.place()
        except BaseException:
            writer.discard()
            raise

    def save(self, data: bytes, suffix: str = ".jpg") -> str:
        """Store photo bytes once by content; returns the sha256. A refused write raises StorageError."""
        with storage_faults("saving a photo", self.database.path), self.writing() as photos:
            return photos.add(data, suffix)

    def path(self, sha256: str) -> Path | None:
        rows = self.database.rows("SELECT path FROM images WHERE sha256 = ?", [sha256])
        return Path(rows[0]["path"]) if rows else None

    def paths(self, shas: Iterable[str]) -> dict[str, Path]:
        """sha256 -> file of every stored photo among `shas`."""
        return {
            r["sha256"]: Path(r["path"])
            for chunk in self._chunks(shas, reserved=0)
            for r in self.database.rows(
                f"SELECT sha256, path FROM images WHERE sha256 IN ({', '.join('?' * len(chunk))})", chunk
            )
        }

    def embedding(self, sha256: str, model_version: str) -> np.ndarray | None:
        return self.embeddings([sha256], model_version).get(sha256)

    def embeddings(self, shas: Iterable[str], model_version: str) -> dict[str, np.ndarray]:
        """sha256 -> cached vector of every photo among `shas` embedded by `model_version`, in one query
        (one per chunk when there are more photos than SQLite takes parameters)."""
        vectors: dict[str, np.ndarray] = {}
        for chunk in self._chunks(shas, reserved=1):
            rows = self.database.rows(
                f"""SELECT image_sha256, vector FROM image_embeddings
                    WHERE model_version = ? AND image_sha256 IN ({", ".join("?" * len(chunk))})""",
                [model_version, *chunk],
            )
            for r in rows:
                vectors[r["image_sha256"]] = np.frombuffer(r["vector"], dtype=np.float32).copy()
        return vectors

    def save_embedding(self, sha256: str, model_version: str, vector: np.ndarray) -> None:
        with self.database.transaction():
            self.database.execute(
                "INSERT OR REPLACE INTO image_embeddings (image_sha256, model_version, vector) VALUES (?, ?, ?)",
                [sha256, model_version, np.asarray(vector, dtype=np.float32).tobytes()],
            )

    def delete_unused(self, shas: Iterable[str]) -> list[Path]:
        """Delete the rows of those photos no draft of any chat and no stored post uses; returns their files.

        Call inside a transaction, and remove the files (`remove_files`) before it commits.
        """
        unused: list[Path] = []
        for sha in sorted(set(shas)):
            in_use = self.database.rows(
                """SELECT 1 FROM drafts WHERE image_sha256 = :sha
                   UNION ALL SELECT 1 FROM posts WHERE image_sha256 = :sha LIMIT 1""",
                {"sha": sha},
            )
            if not in_use:
                unused.extend(
                    Path(r["path"]) for r in self.database.rows("SELECT path FROM images WHERE sha256 = ?", [sha])
                )
                self.database.execute("DELETE FROM images WHERE sha256 = ?", [sha])
        return unused

    @staticmethod
    def remove_files(paths: Iterable[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    def _chunks(self, shas: Iterable[str], reserved: int) -> Iterator[list[str]]:
        wanted = list(dict.fromkeys(shas))
        size = max(1, self.database.variable_limit() - reserved)
        for start in range(0, len(wanted), size):
            yield wanted[start : start + size]
