"""The demo's image-aware likes model's row: how a photo compares with the account's own recent photos.

Learned from the synthetic demo data only (models/training/image_likes.py), so it serves the demo accounts
alone; real accounts get the photo's effect through its concepts (inference/likes_content.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from inference.photo_features import PHOTO_FEATURES_VERSION

# The photo traits come from the photo side's hand features: a change there is a change of schema here.
IMAGE_LIKES_FEATURES_VERSION = f"likes-image-v1:{PHOTO_FEATURES_VERSION}"
MIN_REFERENCE_PHOTOS = 3
# Few, interpretable photo traits: with a few hundred training posts, more inputs would only fit noise.
PHOTO_TRAITS = [
    "luminance_mean",
    "saturation_mean",
    "colourfulness",
    "contrast_range",
    "sharpness_log_laplacian_var",
    "edge_density",
    "face_count",
]
IMAGE_LIKES_FEATURE_NAMES: list[str] = [
    "likes_model_output",  # the likes model's own prediction of the target
    "appeal_vs_recent",
    *(f"{trait}_vs_recent" for trait in PHOTO_TRAITS),
]


@runtime_checkable
class AnalysedPhoto(Protocol):
    """What the photo features need of an `inference.photo.PhotoAnalysis` (read-only, as its fields are)."""

    @property
    def appeal(self) -> float: ...

    @property
    def hand(self) -> dict[str, float]: ...


def photo_vs_recent(likes_model_output: float, photo: AnalysedPhoto, recent: Sequence[AnalysedPhoto]) -> np.ndarray:
    """The image-aware likes model's row: the photo's appeal and traits minus the means of `recent` photos."""
    if len(recent) < MIN_REFERENCE_PHOTOS:
        raise ValueError(f"need at least {MIN_REFERENCE_PHOTOS} of the account's photos, got {len(recent)}")
    values = [likes_model_output, photo.appeal - float(np.mean([p.appeal for p in recent]))]
    values += [photo.hand[t] - float(np.mean([p.hand[t] for p in recent])) for t in PHOTO_TRAITS]
    return np.array(values, dtype=np.float32)
