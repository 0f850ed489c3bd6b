"""Photo folders labelled with a mean opinion score (`labels.csv` with `image` and `mos` columns), as features.

The same decode, hand-feature and encoder code as serving: a photo rated here is seen exactly as a photo
sent to the bot is seen.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.progress import progress
from inference.card import MODELS_DIR
from inference.encoder import ImageEncoder
from inference.photo import PhotoError, decode_photo, hand_features
from scraping.datasets import DatasetError

LABELS_FILE = "labels.csv"
# Photos decoded and encoded together: one onnxruntime call per batch.
ENCODE_BATCH = 8


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    mos: float


@dataclass(frozen=True)
class PhotoFeatures:
    """Features of labelled photos, row i = photo i."""

    names: list[str]  # photo file names, relative to the folder
    mos: np.ndarray  # (n,)
    hand: np.ndarray  # (n, len(HAND_FEATURE_NAMES))
    view_embeddings: np.ndarray  # (n, k, 1280), one embedding per encoder view

    @property
    def embeddings(self) -> np.ndarray:
        """(n, 1280): the mean over views, as `ImageEncoder.embed` serves it."""
        return self.view_embeddings.mean(axis=1)

    def subset(self, rows: np.ndarray) -> PhotoFeatures:
        return PhotoFeatures([self.names[i] for i in rows], self.mos[rows], self.hand[rows], self.view_embeddings[rows])


def read_labels(photos_dir: Path) -> list[LabelledPhoto]:
    """The rated photos of `photos_dir/labels.csv`, in file order; the images must exist."""
    labels = photos_dir / LABELS_FILE
    if not labels.is_file():
        raise DatasetError(f"{photos_dir}: no {LABELS_FILE} (columns `image`, `mos`) in this folder")
    with labels.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not {"image", "mos"} <= set(reader.fieldnames or ()):
            raise DatasetError(f"{labels}: needs the columns `image` and `mos`, found {reader.fieldnames}")
        rows = []
        for number, row in enumerate(reader, start=2):
            try:
                mos = float(row["mos"])
            except (TypeError, ValueError):
                raise DatasetError(f"{labels}:{number}: mos {row['mos']!r} is not a number") from None
            path = photos_dir / row["image"]
            if not math.isfinite(mos) or not path.is_file():
                raise DatasetError(
                    f"{labels}:{number}: {'image ' + row['image'] + ' is missing' if math.isfinite(mos) else 'mos is not finite'}"
                )
            rows.append(LabelledPhoto(path, mos))
    if len(rows) < 2:
        raise DatasetError(f"{labels}: needs at least two rated photos, found {len(rows)}")
    return rows


def photo_features(photos: list[LabelledPhoto], encoder: ImageEncoder, label: str = "photos") -> PhotoFeatures:
    """Decode, hand features and per-view embeddings of every photo (a photo that will not decode is an error)."""
    hands, views = [], []
    batches = [photos[start : start + ENCODE_BATCH] for start in range(0, len(photos), ENCODE_BATCH)]
    for batch in progress(batches, label, total=len(batches)):
        decoded = []
        for photo in batch:
            try:
                decoded.append(decode_photo(photo.path))
            except PhotoError as error:
                raise DatasetError(f"{photo.path}: {error}") from None
        hands += [hand_features(item) for item in decoded]
        views += encoder.embed_views(decoded)
    return PhotoFeatures(
        names=[photo.path.name for photo in photos],
        mos=np.array([photo.mos for photo in photos], dtype=np.float64),
        hand=np.stack(hands).astype(np.float32),
        view_embeddings=np.stack(views).astype(np.float32),
    )


def load_photo_features(photos_dir: Path, models_dir: Path = MODELS_DIR, cache: Path | None = None) -> PhotoFeatures:
    """Features of a labelled folder; `cache` (an `.npz` outside the repo) skips the work on a re-run."""
    photos = read_labels(photos_dir)
    if cache is not None and cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        if list(stored["names"]) == [photo.path.name for photo in photos]:
            return PhotoFeatures(list(stored["names"]), stored["mos"], stored["hand"], stored["view_embeddings"])
    features = photo_features(photos, ImageEncoder(models_dir), label=f"features of {photos_dir.name}")
    if cache is not None:
        np.savez(
            cache,
            names=np.array(features.names),
            mos=features.mos,
            hand=features.hand,
            view_embeddings=features.view_embeddings,
        )
    return features
