"""The image-appeal model (`models/appeal.onnx`): a 0-100 score that ranks photos by how people rate them.

Trained on crowd-rated photos (CLIVE's mean opinion scores, 0-100) by `models/training/appeal.py`; the
score is the predicted mean opinion score, clipped to 0..100.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.card import MODELS_DIR
from inference.encoder import EMBEDDING_SIZE, VIEWS_EMBEDDING_SCHEMA
from inference.onnx_model import OnnxModel
from inference.photo import ENCODER_VIEWS_VERSION, HAND_FEATURE_NAMES, PHOTO_FEATURES_VERSION
from inference.photo_features import SIZE_FEATURE_NAMES

# The rated photos are all about 500x500, so the size features carry nothing there and would
# extrapolate wildly on a 4032 px phone photo: they are left out.
APPEAL_HAND_FEATURES = [name for name in HAND_FEATURE_NAMES if name not in SIZE_FEATURE_NAMES]
APPEAL_FEATURE_NAMES = APPEAL_HAND_FEATURES + [f"embedding_{i}" for i in range(EMBEDDING_SIZE)]
APPEAL_FEATURES_VERSION = f"appeal-v1:{PHOTO_FEATURES_VERSION}+{VIEWS_EMBEDDING_SCHEMA}+{ENCODER_VIEWS_VERSION}"
_HAND_COLUMNS = np.array([HAND_FEATURE_NAMES.index(name) for name in APPEAL_HAND_FEATURES])


def appeal_inputs(hand: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """The model's float32 input rows from full hand-feature rows (`HAND_FEATURE_NAMES`) and embeddings."""
    hand = np.atleast_2d(np.asarray(hand, dtype=np.float32))
    embeddings = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
    if (
        hand.shape[1] != len(HAND_FEATURE_NAMES)
        or embeddings.shape[1] != EMBEDDING_SIZE
        or len(hand) != len(embeddings)
    ):
        raise ValueError(
            f"expected (n, {len(HAND_FEATURE_NAMES)}) hand features and (n, {EMBEDDING_SIZE}) embeddings, "
            f"got {hand.shape} and {embeddings.shape}"
        )
    return np.hstack([hand[:, _HAND_COLUMNS], embeddings])


class AppealModel:
    """Scores photos 0..100 (higher = people rate it better) from hand features and embeddings."""

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        self.model = OnnxModel("appeal", models_dir, threads=threads)
        self.model.check_schema(APPEAL_FEATURE_NAMES, APPEAL_FEATURES_VERSION)

    @property
    def version(self) -> str:
        return self.model.version

    def score(self, hand: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """(n,) float scores in 0..100."""
        inputs = appeal_inputs(hand, embeddings)
        if not len(inputs):
            return np.zeros(0)
        return np.clip(self.model.run(inputs).reshape(-1).astype(np.float64), 0.0, 100.0)
