"""Photo analysis: decode each photo, then run the image models over all of them in one batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.paths import MODELS_DIR
from inference.appeal import AppealModel
from inference.concepts import ConceptDetector, find_faces
from inference.encoder import ImageEncoder
from inference.photo import HAND_FEATURE_NAMES, MAX_PIXELS, DecodedPhoto, decode_photo, hand_features
from inference.similarity import SimilarityModel


@dataclass(frozen=True)
class PhotoAnalysis:
    """Everything the models need to know about one photo."""

    sha256: str
    width: int
    height: int
    hand: dict[str, float]  # HAND_FEATURE_NAMES -> value
    hand_vector: np.ndarray  # float32 (len(HAND_FEATURE_NAMES),)
    embedding: np.ndarray  # float32 (1280,), mean over the encoder's views
    similarity_vector: np.ndarray  # float32 (d,), unit length
    appeal: float  # 0..100
    concepts: frozenset[str] = frozenset()  # core.concepts names the photo shows (inference.concepts.DETECTED)


class PhotoAnalyzer:
    """Decodes photos and runs the three image models, batching the encoder over all of them.

    CPU-bound (about 0.1 s a photo): async callers run it in a thread. Sessions are created once.
    """

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int = 1, max_pixels: int = MAX_PIXELS) -> None:
        self.encoder = ImageEncoder(models_dir, threads)
        self.appeal = AppealModel(models_dir, threads)
        self.similarity = SimilarityModel(models_dir, threads)
        self.concepts = ConceptDetector(models_dir)
        self.max_pixels = max_pixels

    def analyse(self, sources: Sequence[bytes | Path]) -> list[PhotoAnalysis]:
        """Analyses in the order given; the first unreadable photo raises `PhotoError`."""
        return self.analyse_decoded([decode_photo(source, self.max_pixels) for source in sources])

    def analyse_decoded(self, photos: Sequence[DecodedPhoto]) -> list[PhotoAnalysis]:
        if not photos:
            return []
        hand = np.stack([hand_features(photo) for photo in photos])
        embeddings = self.encoder.embed(photos)
        appeal = self.appeal.score(hand, embeddings)
        vectors = self.similarity.project(embeddings)
        faces = [find_faces(photo) for photo in photos]
        concepts = self.concepts.detect(photos, self.encoder.encode(photos).logits, faces)
        return [
            PhotoAnalysis(
                sha256=photo.sha256,
                width=photo.width,
                height=photo.height,
                hand={name: float(value) for name, value in zip(HAND_FEATURE_NAMES, hand[i])},
                hand_vector=hand[i],
                embedding=embeddings[i],
                similarity_vector=vectors[i],
                appeal=float(appeal[i]),
                concepts=concepts[i].present,
            )
            for i, photo in enumerate(photos)
        ]
