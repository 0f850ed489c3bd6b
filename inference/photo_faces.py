"""Faces in a photo's working image, found once and shared by the hand features and the concept detectors.

OpenCV's frontal-face Haar cascade (it ships inside the opencv wheel), run on the working image
`decode_photo` makes, shrunk to the size below. A face of `FACE_MIN_FRACTION` of the long
side is still found. On real photos this is the dearest step after the encoder (tens of ms; a textureless
synthetic photo is rejected by the cascades' first stages almost at once), so it runs once per photo.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# The long side the cascade looks at, its scale step and the smallest face (share of the long side, pixels).
# Chosen on the "tune" half of models/training/concept_labels.csv only: frontal faces at 160 px in steps of
# 1.2 led to the same people, group, selfie and closeup calls there as the concept detectors' earlier search
# (frontal at 320 px and profile both ways at 192 px, steps of 1.1), as did 192 and 224 px and adding the
# profile cascade; about 7 ms a real 500 px photo instead of 105. The cascade's 24 px window makes the
# smallest face found about 15 % of the long side. Every working image is shrunk to 160 px first, so the
# faces hardly depend on the encoder's side.
FACE_LONG_SIDE = 160
FACE_SCALE_STEP = 1.2
FACE_MIN_FRACTION = 0.06
FACE_MIN_PIXELS = 16
NEIGHBOURS = 5
FRONTAL_FILE = "haarcascade_frontalface_default.xml"
# CascadeClassifier.detectMultiScale is not documented as thread-safe; callers analyse in threads. One lock
# for every cascade `haar_cascade` hands out, since a cascade object is shared by all its callers.
CASCADE_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def haar_cascade(name: str) -> cv2.CascadeClassifier:
    """One of the Haar cascades OpenCV ships in its wheel, loaded once."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {name} could not be loaded from {cv2.data.haarcascades}")  # type: ignore[attr-defined]
    return cascade


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

    @property
    def area_fraction(self) -> float:
        """The share of the photo the faces cover (overlaps removed by `find_faces`, so at most 1)."""
        covered = float((self.boxes[:, 2] * self.boxes[:, 3]).sum()) if len(self.boxes) else 0.0
        return min(1.0, covered / float(self.image_width * self.image_height))


def _shrunk(gray: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, long_side / max(gray.shape))
    if scale < 1.0:
        size = (round(gray.shape[1] * scale), round(gray.shape[0] * scale))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray, scale


def _run_cascade(name: str, gray: np.ndarray, long_side: int, step: float) -> np.ndarray:
    small, scale = _shrunk(gray, long_side)
    side = max(FACE_MIN_PIXELS, round(max(small.shape) * FACE_MIN_FRACTION))
    with CASCADE_LOCK:
        found = haar_cascade(name).detectMultiScale(
            small, scaleFactor=step, minNeighbors=NEIGHBOURS, minSize=(side, side)
        )
    return np.asarray(found, dtype=np.float64).reshape(-1, 4) / scale


def without_overlaps(boxes: np.ndarray) -> np.ndarray:
    """Largest first; a box whose centre lies inside a kept box is the same face seen twice."""
    kept: list[np.ndarray] = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        if not any(k[0] <= cx <= k[0] + k[2] and k[1] <= cy <= k[1] + k[3] for k in kept):
            kept.append(box)
    return np.asarray(kept, dtype=np.int64).reshape(-1, 4)


def find_faces(gray: np.ndarray) -> Faces:
    """Frontal faces in a uint8 grayscale working image (boxes in its pixels; one face found twice kept once)."""
    boxes = _run_cascade(FRONTAL_FILE, gray, FACE_LONG_SIDE, FACE_SCALE_STEP)
    return Faces(without_overlaps(boxes), gray.shape[1], gray.shape[0])
