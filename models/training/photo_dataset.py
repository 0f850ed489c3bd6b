"""Photo folders labelled with a mean opinion score (`labels.csv` with `image` and `mos` columns), as features.

The same decode, face, hand-feature and encoder code as serving: a photo rated here is seen exactly as a
photo sent to the bot is seen. Each photo is decoded, described and encoded once per candidate single-pass
size (the working image, hence the hand features, depend on it; the appeal model picks a size by
cross-validation) and, for the baselines, as the six 224 px views the earlier model averaged.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from core.progress import progress
from inference.card import MODELS_DIR
from inference.encoder import EncoderOutputs, ImageEncoder
from inference.photo import (
    PHOTO_FEATURES_VERSION,
    DecodedPhoto,
    PhotoError,
    decode_photo,
    encoder_views,
    faces_of,
    hand_features,
)
from scraping.datasets import DatasetError

LABELS_FILE = "labels.csv"
# Photos decoded and encoded together: one onnxruntime call per batch.
ENCODE_BATCH = 8
# Short sides of the single pass compared by the appeal model (multiples of 32).
CANDIDATE_SIZES = (224, 256, 288, 320)
# The earlier six-view recipe cut its views from a working image of this long side.
SIX_VIEW_LONG_SIDE = 512
_OUTPUT_FIELDS = ("embedding", "stage_stats", "logits")


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    mos: float


@dataclass(frozen=True)
class PhotoFeatures:
    """Features of labelled photos, row i = photo i."""

    names: list[str]  # photo file names, relative to the folder
    mos: np.ndarray  # (n,)
    hand: dict[int, np.ndarray]  # short side -> (n, len(HAND_FEATURE_NAMES)) of the working image at that side
    single_pass: dict[int, EncoderOutputs]  # short side -> the encoder's outputs for every photo
    view_embeddings: np.ndarray  # (n, 6, 1280): the earlier six 224 px views, for the baselines

    def subset(self, rows: np.ndarray) -> PhotoFeatures:
        return PhotoFeatures(
            [self.names[i] for i in rows],
            self.mos[rows],
            {size: hand[rows] for size, hand in self.hand.items()},
            {
                size: EncoderOutputs(*(getattr(o, f)[rows] for f in _OUTPUT_FIELDS))
                for size, o in self.single_pass.items()
            },
            self.view_embeddings[rows],
        )


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


def _stack(parts: list[EncoderOutputs]) -> EncoderOutputs:
    return EncoderOutputs(*(np.concatenate([getattr(p, f) for p in parts]) for f in _OUTPUT_FIELDS))


def six_view_image(path: Path) -> Image.Image:
    """The earlier recipe's working image: the photo, oriented, long side at most `SIX_VIEW_LONG_SIDE`."""
    with Image.open(path) as image:
        rgb = ImageOps.exif_transpose(image).convert("RGB")
    rgb.thumbnail((SIX_VIEW_LONG_SIDE, SIX_VIEW_LONG_SIDE), Image.Resampling.BICUBIC)
    return rgb


def _decoded(photo: LabelledPhoto, size: int) -> DecodedPhoto:
    try:
        return decode_photo(photo.path, encoder_size=size)
    except PhotoError as error:
        raise DatasetError(f"{photo.path}: {error}") from None


def photo_features(
    photos: list[LabelledPhoto], encoder: ImageEncoder, sizes: Sequence[int] = CANDIDATE_SIZES, label: str = "photos"
) -> PhotoFeatures:
    """Per size: decode, faces, hand features and the single pass of every photo; and six-view embeddings."""
    hands: dict[int, list[np.ndarray]] = {size: [] for size in sizes}
    passes: dict[int, list[EncoderOutputs]] = {size: [] for size in sizes}
    views = []
    batches = [photos[start : start + ENCODE_BATCH] for start in range(0, len(photos), ENCODE_BATCH)]
    for batch in progress(batches, label, total=len(batches)):
        for size in sizes:
            decoded = [_decoded(photo, size) for photo in batch]
            hands[size] += [hand_features(item, faces=faces_of(item)) for item in decoded]
            passes[size].append(encoder.encode(decoded))
        six = encoder.run_pixels(np.concatenate([encoder_views(six_view_image(p.path)) for p in batch])).embedding
        views += list(six.reshape(len(batch), -1, six.shape[1]))
    return PhotoFeatures(
        names=[photo.path.name for photo in photos],
        mos=np.array([photo.mos for photo in photos], dtype=np.float64),
        hand={size: np.stack(rows).astype(np.float32) for size, rows in hands.items()},
        single_pass={size: _stack(parts) for size, parts in passes.items()},
        view_embeddings=np.stack(views).astype(np.float32),
    )


def _from_cache(stored: np.lib.npyio.NpzFile, sizes: Sequence[int]) -> PhotoFeatures:
    return PhotoFeatures(
        list(stored["names"]),
        stored["mos"],
        {size: stored[f"hand_{size}"] for size in sizes},
        {size: EncoderOutputs(*(stored[f"{f}_{size}"] for f in _OUTPUT_FIELDS)) for size in sizes},
        stored["view_embeddings"],
    )


def load_photo_features(
    photos_dir: Path, models_dir: Path = MODELS_DIR, cache: Path | None = None, sizes: Sequence[int] = CANDIDATE_SIZES
) -> PhotoFeatures:
    """Features of a labelled folder; `cache` (an `.npz` outside the repo) skips the work on a re-run."""
    photos = read_labels(photos_dir)
    encoder = ImageEncoder(models_dir)
    if cache is not None and cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        same = (
            list(stored["names"]) == [photo.path.name for photo in photos]
            and str(stored["encoder"]) == encoder.version
            and "photo_features" in stored
            and str(stored["photo_features"]) == PHOTO_FEATURES_VERSION
        )
        if same and all(f"embedding_{size}" in stored and f"hand_{size}" in stored for size in sizes):
            return _from_cache(stored, sizes)
    features = photo_features(photos, encoder, sizes, label=f"features of {photos_dir.name}")
    if cache is not None:
        arrays: dict[str, Any] = {
            "names": np.array(features.names),
            "encoder": np.array(encoder.version),
            "photo_features": np.array(PHOTO_FEATURES_VERSION),
            "mos": features.mos,
            "view_embeddings": features.view_embeddings,
            **{f"hand_{size}": hand for size, hand in features.hand.items()},
            **{f"{f}_{size}": getattr(o, f) for size, o in features.single_pass.items() for f in _OUTPUT_FIELDS},
        }
        np.savez(cache, **arrays)
    return features
