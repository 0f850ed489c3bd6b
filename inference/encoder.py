"""The learned photo embedding: EfficientNet-Lite0 (`models/encoder.onnx`) over each photo's views."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.card import MODELS_DIR
from inference.onnx_model import OnnxModel

if TYPE_CHECKING:
    from inference.photo import DecodedPhoto

EMBEDDING_SIZE = 1280
ENCODER_SCHEMA = "encoder-rgb224-v1"
ENCODER_INPUTS = ["rgb_224x224_scaled_minus1_1"]
# Views per onnxruntime call: large enough to amortise the call, small enough to bound memory (~19 MB in).
MAX_VIEWS_PER_RUN = 32


class ImageEncoder:
    """1280-d embeddings of decoded photos: the mean over each photo's views (see `inference.photo.encoder_views`)."""

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        self.model = OnnxModel("encoder", models_dir, threads=threads)
        self.model.check_schema(ENCODER_INPUTS, ENCODER_SCHEMA)

    @property
    def version(self) -> str:
        return self.model.version

    def embed_views(self, photos: Sequence[DecodedPhoto]) -> list[np.ndarray]:
        """Per photo, a (k, 1280) float32 array: one embedding per view, in one batched pass."""
        if not photos:
            return []
        views = np.concatenate([photo.encoder_views for photo in photos])
        outputs = np.concatenate(
            [
                self.model.run(views[start : start + MAX_VIEWS_PER_RUN])
                for start in range(0, len(views), MAX_VIEWS_PER_RUN)
            ]
        )
        bounds = np.cumsum([0] + [len(photo.encoder_views) for photo in photos])
        return [outputs[bounds[i] : bounds[i + 1]] for i in range(len(photos))]

    def embed(self, photos: Sequence[DecodedPhoto]) -> np.ndarray:
        """(n, 1280) float32: each photo's mean view embedding."""
        if not photos:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        return np.stack([views.mean(axis=0) for views in self.embed_views(photos)]).astype(np.float32)
