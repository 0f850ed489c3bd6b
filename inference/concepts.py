"""What a photo shows, in the concepts Instagram's own image descriptions use (`core.concepts.CONCEPTS`).

From the project's own models, nothing downloaded at run time: faces from OpenCV's Haar cascades (frontal
and profile; they ship inside the opencv wheel), ImageNet classes from the encoder's classifier head grouped
by `inference.imagenet_concepts`, and a few pixel cues (sky from the top third's colour and smoothness, night
from darkness with lights, vegetation from green). `models/training/concept_eval.py` measures each detector on
labelled photos and writes the figures to the card. Concepts not in `DETECTED` have no detector: their
absence from `present` means "unknown", never "not in the photo".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.concepts import (
    CAR,
    CAT,
    CLOSEUP,
    CONCEPTS,
    DOG,
    FOOD,
    GROUP,
    INDOOR,
    MOUNTAIN,
    NATURE,
    NIGHT,
    OUTDOOR,
    PEOPLE,
    SELFIE,
    SKY,
    TEXT,
    WATER,
)
from inference.card import MODELS_DIR, load_card
from inference.imagenet_concepts import IMAGENET_CONCEPTS
from inference.photo import DecodedPhoto
from inference.photo_features import CASCADE_LOCK, haar_cascade

IMAGENET_CLASSES = 1000
# Faces are looked for at these long sides: a face of 6 % of it (~19 px) is still found; ~60 + 50 ms a photo.
FACE_LONG_SIDE = 320
PROFILE_LONG_SIDE = 192
FACE_MIN_FRACTION = 0.06
# Thresholds were chosen on the "tune" half of models/training/concept_labels.csv only (see concept_eval), for
# the logits of the encoder's single pass (`ImageEncoder.encode`).
CLASS_THRESHOLDS: dict[str, float] = {
    DOG: 0.25,
    CAT: 0.08,
    FOOD: 0.15,
    CAR: 0.1,
    WATER: 0.25,
    MOUNTAIN: 0.15,
    TEXT: 0.02,
    PEOPLE: 0.03,
    NATURE: 0.1,
}
# A closeup of a thing: most of the probability on one kind of subject (a dish, a flower, a pet).
CLOSEUP_SUBJECTS = (FOOD, NATURE, DOG, CAT)
CLOSEUP_SUBJECT_MASS = 0.5
GROUP_FACES = 3
MIN_NAMED_PRECISION = 0.5
CLOSEUP_FACE_SHARE = 0.04  # the largest face covers this share of the photo
SELFIE_FACE_SHARE = 0.08
SKY_SHARE = 0.7  # of the top third
NIGHT_DARK_SHARE = 0.5
GREEN_SHARE = 0.1
# Every concept but `indoor`: nothing here tells a room from a closeup outdoors well enough.
DETECTED: tuple[str, ...] = tuple(c for c in CONCEPTS if c != INDOOR)

_FRONTAL_FILE = "haarcascade_frontalface_default.xml"
_PROFILE_FILE = "haarcascade_profileface.xml"


@dataclass(frozen=True)
class Faces:
    """Faces found in a working image: boxes x, y, w, h in its pixels, and its size."""

    boxes: np.ndarray  # int64 (n, 4)
    image_width: int
    image_height: int

    @property
    def count(self) -> int:
        return len(self.boxes)

    @property
    def largest_share(self) -> float:
        """The area of the largest face as a share of the photo (0 with no face)."""
        if not len(self.boxes):
            return 0.0
        return float((self.boxes[:, 2] * self.boxes[:, 3]).max()) / float(self.image_width * self.image_height)


@dataclass(frozen=True)
class DetectedConcepts:
    present: frozenset[str]
    scores: dict[str, float]  # concept -> 0..1, for the concepts in DETECTED


def _shrunk(gray: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, long_side / max(gray.shape))
    if scale < 1.0:
        size = (round(gray.shape[1] * scale), round(gray.shape[0] * scale))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray, scale


def _run_cascade(name: str, gray: np.ndarray, long_side: int, neighbours: int, mirrored: bool = False) -> np.ndarray:
    small, scale = _shrunk(gray, long_side)
    side = max(16, round(max(small.shape) * FACE_MIN_FRACTION))
    images = [small, cv2.flip(small, 1)] if mirrored else [small]
    found = []
    for flipped, image in enumerate(images):
        with CASCADE_LOCK:
            boxes = np.asarray(
                haar_cascade(name).detectMultiScale(
                    image, scaleFactor=1.1, minNeighbors=neighbours, minSize=(side, side)
                ),
                dtype=np.float64,
            ).reshape(-1, 4)
        if flipped:
            boxes[:, 0] = small.shape[1] - boxes[:, 0] - boxes[:, 2]
        found.append(boxes / scale)
    return np.concatenate(found)


def _without_overlaps(boxes: np.ndarray) -> np.ndarray:
    """Largest first; a box whose centre lies inside a kept box is the same face seen twice."""
    kept: list[np.ndarray] = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        if not any(k[0] <= cx <= k[0] + k[2] and k[1] <= cy <= k[1] + k[3] for k in kept):
            kept.append(box)
    return np.asarray(kept, dtype=np.int64).reshape(-1, 4)


def find_faces(photo: DecodedPhoto) -> Faces:
    """Frontal and profile (both ways) faces in the photo's working image; computed once, shared by callers."""
    gray = cv2.cvtColor(photo.rgb_small, cv2.COLOR_RGB2GRAY)
    boxes = np.concatenate(
        [
            _run_cascade(_FRONTAL_FILE, gray, FACE_LONG_SIDE, neighbours=5),
            _run_cascade(_PROFILE_FILE, gray, PROFILE_LONG_SIDE, neighbours=5, mirrored=True),
        ]
    )
    return Faces(_without_overlaps(boxes), photo.rgb_small.shape[1], photo.rgb_small.shape[0])


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class PixelCues:
    sky_share: float  # of the top third: smooth pixels coloured like sky (blue, bright grey, dusk)
    dark_share: float  # of the whole photo: pixels darker than 50/255
    light_share: float  # of the whole photo: pixels brighter than 230/255
    green_share: float  # of the whole photo: saturated green pixels (vegetation)


def pixel_cues(rgb: np.ndarray) -> PixelCues:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hue, saturation, value = (hsv[..., i].astype(np.int16) for i in range(3))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    gradient = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    top = slice(0, max(1, rgb.shape[0] // 3))
    blue = (hue >= 90) & (hue <= 135) & (saturation > 30) & (value > 90)
    overcast = (saturation < 40) & (value > 170)
    dusk = ((hue < 25) | (hue > 155)) & (saturation > 50) & (value > 120)
    sky_like = (blue | overcast | dusk) & (gradient < 40)
    green = (hue >= 30) & (hue <= 90) & (saturation > 60) & (value > 40)
    return PixelCues(
        sky_share=float(sky_like[top].mean()),
        dark_share=float((value < 50).mean()),
        light_share=float((value > 230).mean()),
        green_share=float(green.mean()),
    )


def concept_scores(probabilities: np.ndarray, faces: Faces, cues: PixelCues) -> dict[str, float]:
    """Each detected concept's score in 0..1; a concept is present when its score reaches 0.5."""
    mass = {concept: float(probabilities[list(classes)].sum()) for concept, classes in IMAGENET_CONCEPTS.items()}

    def scaled(value: float, threshold: float) -> float:
        """0.5 exactly at the threshold, 1 at twice it: a readable score, not a probability."""
        return float(min(1.0, 0.5 * value / threshold)) if threshold > 0 else 0.0

    scores = {concept: scaled(mass[concept], CLASS_THRESHOLDS[concept]) for concept in IMAGENET_CONCEPTS}
    if faces.count:
        scores[PEOPLE] = max(scores[PEOPLE], 0.5 + 0.5 * min(1.0, faces.count / GROUP_FACES))
    scores[GROUP] = min(1.0, 0.5 * faces.count / GROUP_FACES)
    subject = sum(mass[concept] for concept in CLOSEUP_SUBJECTS)
    scores[CLOSEUP] = max(scaled(faces.largest_share, CLOSEUP_FACE_SHARE), scaled(subject, CLOSEUP_SUBJECT_MASS))
    scores[SELFIE] = scaled(faces.largest_share, SELFIE_FACE_SHARE) if faces.count <= 2 else 0.0
    scores[SKY] = scaled(cues.sky_share, SKY_SHARE)
    scores[NATURE] = max(scores[NATURE], scaled(cues.green_share, GREEN_SHARE))
    night = cues.dark_share >= NIGHT_DARK_SHARE and cues.light_share > 0.002
    scores[NIGHT] = scaled(cues.dark_share, NIGHT_DARK_SHARE) if night else min(0.49, cues.dark_share)
    scores[OUTDOOR] = max(scores[SKY], scores[WATER], scores[MOUNTAIN], scores[NIGHT])
    return {concept: round(scores[concept], 4) for concept in DETECTED}


def named_concepts(card: dict[str, Any]) -> frozenset[str]:
    """The concepts an answer may name: those whose detector was right at least `MIN_NAMED_PRECISION` of the
    times it fired, on every measured CLIVE set of the card's concepts report (held-out half, flagged photos)."""
    report = card.get("reports", {}).get("concepts", {})
    named = set()
    for concept in DETECTED:
        measured = [report.get(f"clive_{part} {concept}", {}).get("precision") for part in ("test", "flagged")]
        known = [p for p in measured if p is not None]
        if known and min(known) >= MIN_NAMED_PRECISION:
            named.add(concept)
    return frozenset(named)


class ConceptDetector:
    """Concepts of decoded photos from their faces, pixels and the encoder's ImageNet logits.

    `named`: the concepts whose detection the card shows reliable enough to name in an answer.
    """

    def __init__(self, models_dir: Path = MODELS_DIR) -> None:
        self.named = named_concepts(load_card(models_dir / "card.json"))

    def detect(
        self, photos: Sequence[DecodedPhoto], logits: np.ndarray, faces: Sequence[Faces] | None = None
    ) -> list[DetectedConcepts]:
        """`logits`: (n, 1000), the encoder's ImageNet logits (`ImageEncoder.encode(photos).logits`).
        `faces`: from `find_faces`, when the caller found them already."""
        if len(photos) != len(logits) or (faces is not None and len(faces) != len(photos)):
            raise ValueError(f"{len(photos)} photos, {len(logits)} logit rows, {len(faces or ())} face sets")
        if len(photos) and logits.shape[1] != IMAGENET_CLASSES:
            raise ValueError(f"logits have {logits.shape[1]} classes, not {IMAGENET_CLASSES}")
        found = faces if faces is not None else [find_faces(photo) for photo in photos]
        probabilities = softmax(np.asarray(logits, dtype=np.float64))
        results = []
        for photo, photo_faces, row in zip(photos, found, probabilities):
            scores = concept_scores(row, photo_faces, pixel_cues(photo.rgb_small))
            results.append(DetectedConcepts(frozenset(c for c, s in scores.items() if s >= 0.5), scores))
        return results
