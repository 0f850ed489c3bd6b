"""The learned photo embedding: EfficientNet-Lite0 (`models/encoder.onnx`), one forward pass, three outputs.

`encode` runs each photo's single view (`DecodedPhoto.encoder_input`) once and returns the 1280-d pooled
embedding, the mean and standard deviation of several intermediate stages (the multi-level spatially pooled
features of Hosu et al., CVPR 2019) and the 1000 ImageNet logits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.card import MODELS_DIR
from inference.onnx_model import OnnxModel

if TYPE_CHECKING:
    from inference.photo import DecodedPhoto

EMBEDDING_SIZE = 1280
LOGITS_SIZE = 1000
# Last block of each stage whose pooled mean and standard deviation are output, by output channels.
STAGE_CHANNELS = (40, 80, 112, 192, 320)
STAGE_STATS_SIZE = 2 * sum(STAGE_CHANNELS)
ENCODER_OUTPUTS = ("embedding", "stage_stats", "logits")
ENCODER_SCHEMA = "encoder-lite0-multilevel-v2"
ENCODER_INPUTS = ["rgb_nchw_scaled_minus1_1"]
# Views per onnxruntime call: large enough to amortise the call, small enough to bound memory (~19 MB in).
MAX_VIEWS_PER_RUN = 32


@dataclass(frozen=True)
class EncoderOutputs:
    """One encoder pass over n photos."""

    embedding: np.ndarray  # float32 (n, 1280): the head's global-average-pooled features
    stage_stats: np.ndarray  # float32 (n, STAGE_STATS_SIZE): per stage, channel means then standard deviations
    logits: np.ndarray  # float32 (n, 1000): ImageNet class scores, before softmax


def stage_stat_names() -> list[str]:
    """Names of the `stage_stats` columns, in order."""
    return [
        f"stage{channels}_{stat}_{i}"
        for channels in STAGE_CHANNELS
        for stat in ("mean", "std")
        for i in range(channels)
    ]


class ImageEncoder:
    """Runs the encoder on decoded photos (thread-safe; one session)."""

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1) -> None:
        self.model = OnnxModel("encoder", models_dir, threads=threads)
        self.model.check_schema(ENCODER_INPUTS, ENCODER_SCHEMA)

    @property
    def version(self) -> str:
        return self.model.version

    def run_pixels(self, pixels: np.ndarray) -> EncoderOutputs:
        """The three outputs for a float32 (n, 3, h, w) batch (h and w multiples of 32)."""
        parts = [
            self.model.run_all(pixels[start : start + MAX_VIEWS_PER_RUN])
            for start in range(0, len(pixels), MAX_VIEWS_PER_RUN)
        ]
        if not parts:
            return EncoderOutputs(
                np.zeros((0, EMBEDDING_SIZE), np.float32),
                np.zeros((0, STAGE_STATS_SIZE), np.float32),
                np.zeros((0, LOGITS_SIZE), np.float32),
            )
        embedding, stats, logits = (np.concatenate([part[i] for part in parts]) for i in range(3))
        return EncoderOutputs(embedding, stats, logits)

    def encode(self, photos: Sequence[DecodedPhoto]) -> EncoderOutputs:
        """One forward pass per photo (batched): embedding, stage statistics and logits."""
        if not photos:
            return self.run_pixels(np.zeros((0, 3, 32, 32), np.float32))
        return self.run_pixels(np.stack([photo.encoder_input for photo in photos]))
