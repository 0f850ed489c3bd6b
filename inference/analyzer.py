"""Photo analysis: decode each photo, then run the image models over all of them in one batch.

One decoded working image and one encoder pass per photo feed everything: the appeal score (embedding,
stage statistics, logits), the similarity vector (embedding), the concepts and the logits kept for other
models. Faces are found once and read by the hand features and the concept detectors. Hand features are
computed only for the groups a model reads (the appeal model's, and the photo traits of the likes model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.paths import MODELS_DIR
from inference.appeal import AppealModel
from inference.concepts import ConceptDetector
from inference.encoder import ImageEncoder
from inference.likes_image_features import PHOTO_TRAITS
from inference.onnx_model import ModelMismatchError
from inference.photo import (
    HAND_FEATURE_NAMES,
    MAX_PIXELS,
    PHOTO_FEATURES_VERSION,
    DecodedPhoto,
    decode_photo,
    faces_of,
    hand_features,
)
from inference.photo_features import groups_of
from inference.similarity import SimilarityModel


@dataclass(frozen=True)
class PhotoAnalysis:
    """Everything the models need to know about one photo."""

    sha256: str
    width: int
    height: int
    hand: dict[str, float]  # HAND_FEATURE_NAMES -> value (NaN for a group no model reads)
    hand_vector: np.ndarray  # float32 (len(HAND_FEATURE_NAMES),)
    embedding: np.ndarray  # float32 (1280,), the single encoder pass
    similarity_vector: np.ndarray  # float32 (d,), unit length
    appeal: float  # 0..100
    # float32 (1000,), ImageNet classes of the same pass (empty where an analysis was made without one)
    logits: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    concepts: frozenset[str] = frozenset()  # core.concepts names the photo shows (inference.concepts.DETECTED)


class PhotoAnalyzer:
    """Decodes photos and runs the encoder once per photo (batched), then the appeal and similarity heads.

    CPU-bound (a few tens of ms a photo): async callers run it in a thread. Sessions are created once.
    """

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1, max_pixels: int = MAX_PIXELS) -> None:
        self.encoder = ImageEncoder(models_dir, threads)
        self.appeal = AppealModel(models_dir, threads)
        self.similarity = SimilarityModel(models_dir, threads)
        self.concepts = ConceptDetector(models_dir)
        if self.similarity.input_size != self.appeal.input_size:
            raise ModelMismatchError(
                f"the similarity model reads a {self.similarity.input_size} px pass, the appeal model a "
                f"{self.appeal.input_size} px one; re-run `likepredict train`"
            )
        self.input_size = self.appeal.input_size
        self.hand_groups = self.appeal.hand_groups | groups_of(PHOTO_TRAITS)
        self.max_pixels = max_pixels

    @property
    def version(self) -> str:
        return f"{self.encoder.version}@{self.input_size}:{PHOTO_FEATURES_VERSION}"

    def decode(self, source: bytes | Path) -> DecodedPhoto:
        return decode_photo(source, self.max_pixels, encoder_size=self.input_size)

    def analyse(self, sources: Sequence[bytes | Path]) -> list[PhotoAnalysis]:
        """Analyses in the order given; the first unreadable photo raises `PhotoError`."""
        return self.analyse_decoded([self.decode(source) for source in sources])

    def analyse_decoded(self, photos: Sequence[DecodedPhoto]) -> list[PhotoAnalysis]:
        if not photos:
            return []
        faces = [faces_of(photo) for photo in photos]
        hand = np.stack([hand_features(photo, self.hand_groups, found) for photo, found in zip(photos, faces)])
        outputs = self.encoder.encode(photos)
        appeal = self.appeal.score(hand, outputs)
        vectors = self.similarity.project(outputs.embedding)
        concepts = self.concepts.detect(photos, outputs.logits, faces)
        return [
            PhotoAnalysis(
                sha256=photo.sha256,
                width=photo.width,
                height=photo.height,
                hand={name: float(value) for name, value in zip(HAND_FEATURE_NAMES, hand[i])},
                hand_vector=hand[i],
                embedding=outputs.embedding[i],
                similarity_vector=vectors[i],
                appeal=float(appeal[i]),
                logits=outputs.logits[i],
                concepts=concepts[i].present,
            )
            for i, photo in enumerate(photos)
        ]
