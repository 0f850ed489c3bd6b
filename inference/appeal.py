"""The image-appeal model (`models/appeal.onnx`): a 0-100 score that ranks photos by how people rate them.

Trained on crowd-rated photos (CLIVE's mean opinion scores, 0-100) by `models/training/appeal.py`; the
score is the predicted mean opinion score, clipped to 0..100. Its inputs come from one encoder pass (the
pooled embedding, the stage statistics and, where training kept them, the logits) and the hand features
training found worth their cost; the card lists them by name, and the photo's single-pass size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.card import CARD_JSON, MODELS_DIR, load_card
from inference.encoder import EMBEDDING_SIZE, ENCODER_SCHEMA, LOGITS_SIZE, EncoderOutputs, stage_stat_names
from inference.onnx_model import ModelMismatchError, OnnxModel
from inference.photo import HAND_FEATURE_NAMES, PHOTO_FEATURES_VERSION, SINGLE_PASS_SIZE
from inference.photo_features import SIZE_FEATURE_NAMES, groups_of

# The rated photos are all about 500x500, so the size features carry nothing there and would
# extrapolate wildly on a 4032 px phone photo: they are never offered.
APPEAL_HAND_CANDIDATES = [name for name in HAND_FEATURE_NAMES if name not in SIZE_FEATURE_NAMES]
EMBEDDING_NAMES = [f"embedding_{i}" for i in range(EMBEDDING_SIZE)]
LOGIT_NAMES = [f"logit_{i}" for i in range(LOGITS_SIZE)]
STAGE_NAMES = stage_stat_names()
# Every name an appeal model may read, in the column order of `appeal_columns`.
ALL_INPUT_NAMES = HAND_FEATURE_NAMES + EMBEDDING_NAMES + STAGE_NAMES + LOGIT_NAMES
APPEAL_FEATURES_VERSION = f"appeal-v2:{PHOTO_FEATURES_VERSION}+{ENCODER_SCHEMA}+single-pass"
_POSITION = {name: i for i, name in enumerate(ALL_INPUT_NAMES)}


def appeal_input_size(models_dir: Path = MODELS_DIR) -> int:
    """The single-pass side the card's appeal model reads (the default before one is trained): every model fed
    the embedding uses the same pass."""
    entry = load_card(models_dir / CARD_JSON.name).get("models", {}).get("appeal", {})
    return int(entry.get("input_size", SINGLE_PASS_SIZE))


def input_columns(names: list[str]) -> np.ndarray:
    """Positions of `names` among `ALL_INPUT_NAMES`; an unknown name means the model reads what we cannot give."""
    unknown = [name for name in names if name not in _POSITION or name in SIZE_FEATURE_NAMES]
    if unknown:
        raise ModelMismatchError(f"the appeal model reads unknown inputs {unknown[:3]}")
    return np.array([_POSITION[name] for name in names], dtype=np.int64)


def appeal_inputs(hand: np.ndarray, outputs: EncoderOutputs, columns: np.ndarray) -> np.ndarray:
    """float32 model rows: full hand-feature rows (`HAND_FEATURE_NAMES`) and encoder outputs, at `columns`."""
    hand = np.atleast_2d(np.asarray(hand, dtype=np.float32))
    parts = [hand, outputs.embedding, outputs.stage_stats, outputs.logits]
    if hand.shape[1] != len(HAND_FEATURE_NAMES) or len({len(p) for p in parts}) != 1:
        raise ValueError(
            f"expected (n, {len(HAND_FEATURE_NAMES)}) hand features and n rows of encoder outputs, "
            f"got {[p.shape for p in parts]}"
        )
    return np.ascontiguousarray(np.hstack(parts)[:, columns], dtype=np.float32)


class AppealModel:
    """Scores photos 0..100 (higher = people rate it better) from one encoder pass and a few hand features."""

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        self.model = OnnxModel("appeal", models_dir, threads=threads)
        if self.model.schema_version != APPEAL_FEATURES_VERSION:
            raise ModelMismatchError(
                f"the appeal model was trained on {self.model.schema_version}; serving sends {APPEAL_FEATURES_VERSION}"
            )
        self.columns = input_columns(self.model.feature_names)
        self.input_size = int(self.model.entry["input_size"])
        # The hand-feature groups the model reads: the analyser computes no others for it.
        self.hand_groups = groups_of(self.model.feature_names)

    @property
    def version(self) -> str:
        return self.model.version

    def score(self, hand: np.ndarray, outputs: EncoderOutputs) -> np.ndarray:
        """(n,) float scores in 0..100."""
        inputs = appeal_inputs(hand, outputs, self.columns)
        if not len(inputs):
            return np.zeros(0)
        return np.clip(self.model.run(inputs).reshape(-1).astype(np.float64), 0.0, 100.0)
