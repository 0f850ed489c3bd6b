"""Photo-to-photo similarity (`models/similarity.onnx`): an embedding head whose cosine says "alike".

The head maps (n, 1280) embeddings to L2-normalised (n, d) vectors. The default head is the normalised
pretrained embedding itself; `likepredict train similarity DATA` may replace it with a projection learned
so that cosine follows the hashtag overlap of posts (see `models/training/similarity.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.card import CARD_JSON, MODELS_DIR, load_card
from inference.encoder import EMBEDDING_SIZE, ENCODER_SCHEMA
from inference.onnx_model import ModelMismatchError, OnnxModel
from inference.photo_features import PHOTO_FEATURES_VERSION

SIMILARITY_FEATURE_NAMES = [f"embedding_{i}" for i in range(EMBEDDING_SIZE)]
# The embedding of the single encoder pass (the same one the appeal model reads); the card's
# `input_size` says at which side.
SIMILARITY_FEATURES_VERSION = f"similarity-v2:{ENCODER_SCHEMA}+single-pass"


class SimilarityModel:
    """Projects embeddings into the similarity space and compares them there."""

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        self.model = OnnxModel("similarity", models_dir, threads=threads)
        self.model.check_schema(SIMILARITY_FEATURE_NAMES, SIMILARITY_FEATURES_VERSION)
        self.head: str = self.model.entry.get("head", "unknown")
        if "input_size" not in self.model.entry:
            raise ModelMismatchError("the similarity model's card entry names no input_size; run `likepredict train`")
        self.input_size = int(self.model.entry["input_size"])
        encoder = load_card(models_dir / CARD_JSON.name).get("models", {}).get("encoder", {})
        self.encoder_sha: str = str(encoder.get("sha256", "none"))[:12]

    @property
    def version(self) -> str:
        """Names the head and the pass that feeds it (encoder file, side, how the photo is decoded and scaled
        for it): stored photos' vectors are cached per version, so any of those changing re-indexes them once."""
        return f"{self.model.version}@encoder:{self.encoder_sha}:{self.input_size}:{PHOTO_FEATURES_VERSION}"

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
