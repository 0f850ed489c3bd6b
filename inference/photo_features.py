"""Hand-made photo features: colour, light, sharpness, noise, faces and size, from a small RGB image.

Everything except the size is computed on the working image `decode_photo` makes (long side at most
`WORKING_LONG_SIDE` = 512 px): at that size a 1080 px and a 4032 px copy of the same photo give nearly the
same values, which is what a model trained on ~500 px photos (CLIVE) needs at serving time, and it is
roughly what a viewer sees of a post on a phone. Width, height and aspect describe the original file.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

import cv2
import numpy as np

PHOTO_FEATURES_VERSION = "photo-v3"
WORKING_LONG_SIDE = 512
# Faces are looked for at this size, with coarse scale steps: a quarter of the cost at 512 px with steps
# of 1.1, and a face under ~8 % of the photo's long side (20 px here) says little about the photo anyway.
FACE_LONG_SIDE = 256
FACE_MIN_SIDE = 20
FACE_SCALE_STEP = 1.15

_BANDS = ("red", "green", "blue")
_BAND_STATS = ("mean", "std", "p10", "p50", "p90")

# The size-dependent names: a model trained on photos of one size must not be fed these.
SIZE_FEATURE_NAMES = ["width", "height", "aspect_ratio"]

HAND_FEATURE_NAMES: list[str] = [
    *(f"{band}_{stat}" for band in _BANDS for stat in _BAND_STATS),
    "luminance_mean",
    "luminance_std",
    "saturation_mean",
    "saturation_std",
    "colourfulness",
    "contrast_range",
    "sharpness_log_laplacian_var",
    "edge_density",
    "noise_sigma",
    "face_count",
    "face_area_fraction",
    *SIZE_FEATURE_NAMES,
]

# Immerkær (1996): this kernel cancels image structure up to second order, leaving mostly noise.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_CASCADE_FILE = "haarcascade_frontalface_default.xml"
# CascadeClassifier.detectMultiScale is not documented as thread-safe; callers analyse in threads.
_cascade_lock = threading.Lock()


@lru_cache(maxsize=1)
def _face_cascade() -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + _CASCADE_FILE)  # type: ignore[attr-defined]
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {_CASCADE_FILE} could not be loaded from {cv2.data.haarcascades}")  # type: ignore[attr-defined]
    return cascade


def detect_faces(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Frontal faces in a uint8 grayscale image: (n, 4) boxes x, y, w, h, and the share of the image they cover."""
    scale = min(1.0, FACE_LONG_SIDE / max(gray.shape))
    if scale < 1.0:
        gray = cv2.resize(
            gray, (round(gray.shape[1] * scale), round(gray.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
    with _cascade_lock:
        found = _face_cascade().detectMultiScale(
            gray, scaleFactor=FACE_SCALE_STEP, minNeighbors=5, minSize=(FACE_MIN_SIDE, FACE_MIN_SIDE)
        )
    boxes = np.asarray(found, dtype=np.int64).reshape(-1, 4)
    covered = float((boxes[:, 2] * boxes[:, 3]).sum()) / float(gray.size)
    return boxes, min(covered, 1.0)


_LEVELS = np.arange(256, dtype=np.float64)


def uint8_stats(values: np.ndarray, percents: tuple[float, ...]) -> list[float]:
    """Mean, standard deviation and percentiles (numpy's "inverted_cdf") of uint8 values, from one histogram.

    A histogram of 256 bins replaces a float copy and a sort of the image: about ten times faster.
    """
    counts = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    total = counts.sum()
    mean = float(counts @ _LEVELS / total)
    std = float(np.sqrt(max(0.0, counts @ (_LEVELS - mean) ** 2 / total)))
    cumulative = np.cumsum(counts)
    return [mean, std, *(float(np.searchsorted(cumulative, max(1.0, total * percent / 100.0))) for percent in percents)]


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Süsstrunk (2003) colourfulness of a float RGB image in 0..255."""
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = red - green
    yb = 0.5 * (red + green) - blue
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkær's fast estimate of the standard deviation of additive noise (grayscale 0..255)."""
    height, width = gray.shape
    if height < 3 or width < 3:
        return 0.0
    response = cv2.filter2D(gray.astype(np.float32), -1, _NOISE_KERNEL)[1:-1, 1:-1]
    return float(np.abs(response).sum() * math.sqrt(math.pi / 2) / (6.0 * (width - 2) * (height - 2)))


def compute_hand_features(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The features named in `HAND_FEATURE_NAMES` for a uint8 HxWx3 working image of a `width`x`height` photo."""
    values: list[float] = []
    for band in range(3):
        values += uint8_stats(rgb[..., band], (10, 50, 90))

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    luminance_mean, luminance_std, low, high = uint8_stats(gray, (5, 95))
    saturation_mean, saturation_std = uint8_stats(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 1], ())
    laplacian_var = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    edges = cv2.Canny(gray, 100, 200)
    faces, face_area = detect_faces(gray)

    values += [
        luminance_mean,
        luminance_std,
        saturation_mean,
        saturation_std,
        colourfulness(rgb.astype(np.float32)),
        high - low,
        math.log1p(laplacian_var),
        float(np.count_nonzero(edges)) / float(edges.size),
        noise_sigma(gray),
        float(len(faces)),
        face_area,
        float(width),
        float(height),
        float(width) / float(height),
    ]
    return np.asarray(values, dtype=np.float32)
