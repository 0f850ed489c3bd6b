"""Photo-to-photo similarity (`models/similarity.onnx`): an embedding head whose cosine says "alike".

The head maps (n, 1280) embeddings to L2-normalised (n, d) vectors. The default head is the normalised
pretrained embedding itself; `likepredict train similarity DATA` may replace it with a projection learned
so that cosine follows the hashtag overlap of posts (see `models/training/similarity.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.card import MODELS_DIR
from inference.encoder import EMBEDDING_SIZE, VIEWS_EMBEDDING_SCHEMA
from inference.onnx_model import OnnxModel
from inference.photo import ENCODER_VIEWS_VERSION

SIMILARITY_FEATURE_NAMES = [f"embedding_{i}" for i in range(EMBEDDING_SIZE)]
SIMILARITY_FEATURES_VERSION = f"similarity-v1:{VIEWS_EMBEDDING_SCHEMA}+{ENCODER_VIEWS_VERSION}"


class SimilarityModel:
    """Projects embeddings into the similarity space and compares them there."""

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        self.model = OnnxModel("similarity", models_dir, threads=threads)
        self.model.check_schema(SIMILARITY_FEATURE_NAMES, SIMILARITY_FEATURES_VERSION)
        self.head: str = self.model.entry.get("head", "unknown")

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def dimensions(self) -> int:
        return int(self.model.entry["outputs"]["vector"][1])

    def project(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, d) float32 unit vectors for (n, 1280) embeddings."""
        embeddings = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        if not len(embeddings):
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return self.model.run(embeddings)

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(m,) cosine of one projected vector `a` (d,) with each row of `b` (m, d)."""
        return np.atleast_2d(np.asarray(b, dtype=np.float32)) @ np.asarray(a, dtype=np.float32).reshape(-1)
