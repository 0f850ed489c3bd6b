"""What a photo shows, in the concepts Instagram's own image descriptions use (`core.concepts.CONCEPTS`).

From the project's own models, nothing downloaded at run time: faces from OpenCV's frontal-face Haar cascade
(`inference.photo_faces`, found once per photo and shared with the hand features), ImageNet classes from
the encoder's classifier head grouped by `inference.imagenet_concepts`, and a few pixel cues (sky from the
top third's colour and smoothness, night from darkness with lights, vegetation from green). Indoor is the mass
of classes seen only inside (furniture, rooms, appliances) in a photo without sky.
`models/training/concept_eval.py` measures each detector on labelled photos and writes the figures to the card. Concepts not in `DETECTED` have no detector: their
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
from inference.photo import DecodedPhoto, faces_of
from inference.photo_faces import Faces

IMAGENET_CLASSES = 1000
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
    INDOOR: 0.22,  # the best F1 of 0.05..0.35 on the tune half (13 indoor photos of 56)
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
DETECTED: tuple[str, ...] = CONCEPTS


@dataclass(frozen=True)
class DetectedConcepts:
    present: frozenset[str]
    scores: dict[str, float]  # concept -> 0..1, for the concepts in DETECTED


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class PixelCues:
    sky_share: float  # of the top third: smooth pixels coloured like sky (blue, bright grey, dusk)
    dark_share: float  # of the whole photo: pixels darker than 50/255
    light_share: float  # of the whole photo: pixels brighter than 230/255
    green_share: float  # of the whole photo: saturated green pixels (vegetation)


def _in_range(hsv: np.ndarray, low: tuple[int, int, int], high: tuple[int, int, int]) -> np.ndarray:
    """255 where every channel lies in [low, high] (inclusive), else 0: OpenCV's one-pass mask."""
    return cv2.inRange(hsv, np.array(low, np.uint8), np.array(high, np.uint8))


def pixel_cues(rgb: np.ndarray) -> PixelCues:
    """OpenCV masks over one HSV copy; the smoothness test only where it is read (the top third)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    top = max(1, rgb.shape[0] // 3)
    sky_hsv = hsv[:top]
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[:top]), cv2.COLOR_RGB2GRAY)
    gradient = cv2.add(
        cv2.convertScaleAbs(cv2.Sobel(gray, cv2.CV_16S, 1, 0)),
        cv2.convertScaleAbs(cv2.Sobel(gray, cv2.CV_16S, 0, 1)),
    )
    sky_colour = (
        _in_range(sky_hsv, (90, 31, 91), (135, 255, 255))  # blue
        | _in_range(sky_hsv, (0, 0, 171), (255, 39, 255))  # overcast
        | _in_range(sky_hsv, (0, 51, 121), (24, 255, 255))  # dusk, red side
        | _in_range(sky_hsv, (156, 51, 121), (255, 255, 255))  # dusk, magenta side
    )
    smooth = (gradient < 40).view(np.uint8)
    values = cv2.calcHist([hsv], [2], None, [256], [0, 256]).reshape(-1)
    pixels = float(hsv.shape[0] * hsv.shape[1])
    return PixelCues(
        sky_share=float(cv2.countNonZero(sky_colour & smooth)) / float(sky_colour.size),
        dark_share=float(values[:50].sum()) / pixels,
        light_share=float(values[231:].sum()) / pixels,
        green_share=float(cv2.countNonZero(_in_range(hsv, (30, 61, 41), (90, 255, 255)))) / pixels,
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
    if scores[SKY] >= 0.5:  # a shop window or a sofa on a terrace under the sky is not a room
        scores[INDOOR] = min(0.49, scores[INDOOR])
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
        `faces`: from `faces_of`, when the caller found them already."""
        if len(photos) != len(logits) or (faces is not None and len(faces) != len(photos)):
            raise ValueError(f"{len(photos)} photos, {len(logits)} logit rows, {len(faces or ())} face sets")
        if len(photos) and logits.shape[1] != IMAGENET_CLASSES:
            raise ValueError(f"logits have {logits.shape[1]} classes, not {IMAGENET_CLASSES}")
        found = faces if faces is not None else [faces_of(photo) for photo in photos]
        probabilities = softmax(np.asarray(logits, dtype=np.float64))
        results = []
        for photo, photo_faces, row in zip(photos, found, probabilities):
            scores = concept_scores(row, photo_faces, pixel_cues(photo.rgb_small))
            results.append(DetectedConcepts(frozenset(c for c, s in scores.items() if s >= 0.5), scores))
        return results
