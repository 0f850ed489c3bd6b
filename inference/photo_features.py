"""Hand-made photo features: colour, light, sharpness, noise, faces and size, from a small RGB image.

Everything except the size is computed on the working image `decode_photo` makes (long side about
`WORKING_LONG_SIDE` = 512 px): at that size a 1080 px and a 4032 px copy of the same photo give nearly the
same values, which is what a model trained on ~500 px photos (CLIVE) needs at serving time, and it is
roughly what a viewer sees of a post on a phone. Width, height and aspect describe the original file.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from functools import lru_cache

import cv2
import numpy as np

PHOTO_FEATURES_VERSION = "photo-v4"
WORKING_LONG_SIDE = 512
# Faces are looked for at this size, with coarse scale steps: about a tenth of the cost at 256 px with steps
# of 1.15 (measured: ~1.5 ms against ~15 ms), and a face under ~9 % of the photo's long side (14 px here)
# says little about the photo anyway.
FACE_LONG_SIDE = 160
FACE_MIN_SIDE = 14
FACE_SCALE_STEP = 1.2

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


def detect_faces(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Frontal faces in a uint8 grayscale image: (n, 4) boxes x, y, w, h, and the share of the image they cover."""
    scale = min(1.0, FACE_LONG_SIDE / max(gray.shape))
    if scale < 1.0:
        gray = cv2.resize(
            gray, (round(gray.shape[1] * scale), round(gray.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
    with CASCADE_LOCK:
        found = haar_cascade(_CASCADE_FILE).detectMultiScale(
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


# Which features each step computes; a caller asks only for the groups its models read.
HAND_FEATURE_GROUPS: dict[str, list[str]] = {
    "colour_bands": [f"{band}_{stat}" for band in _BANDS for stat in _BAND_STATS],
    "luminance": ["luminance_mean", "luminance_std", "contrast_range"],
    "saturation": ["saturation_mean", "saturation_std"],
    "colourfulness": ["colourfulness"],
    "sharpness": ["sharpness_log_laplacian_var"],
    "edges": ["edge_density"],
    "noise": ["noise_sigma"],
    "faces": ["face_count", "face_area_fraction"],
    "size": SIZE_FEATURE_NAMES,
}
ALL_GROUPS = frozenset(HAND_FEATURE_GROUPS)
# Median milliseconds of each group on a 512 px working image on the 2-core project machine
# (`python -m benchmarks.photo_cost` prints them); the appeal model weighs what a group adds against these.
HAND_GROUP_COST_MS: dict[str, float] = {
    "colour_bands": 1.0,
    "luminance": 0.3,
    "saturation": 0.5,
    "colourfulness": 0.6,
    "sharpness": 0.3,
    "edges": 0.15,
    "noise": 0.15,
    "faces": 1.5,
    "size": 0.0,
}
_GROUP_OF = {name: group for group, names in HAND_FEATURE_GROUPS.items() for name in names}


def groups_of(names: Iterable[str]) -> frozenset[str]:
    """The hand-feature groups that compute `names` (names that are not hand features are ignored)."""
    return frozenset(_GROUP_OF[name] for name in names if name in _GROUP_OF)


def compute_hand_features(rgb: np.ndarray, width: int, height: int, groups: frozenset[str] = ALL_GROUPS) -> np.ndarray:
    """`HAND_FEATURE_NAMES` for a uint8 HxWx3 working image of a `width`x`height` photo; NaN outside `groups`."""
    values: dict[str, float] = {}
    if "colour_bands" in groups:
        for band, name in enumerate(_BANDS):
            values.update(zip((f"{name}_{stat}" for stat in _BAND_STATS), uint8_stats(rgb[..., band], (10, 50, 90))))
    gray = (
        cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if groups & {"luminance", "sharpness", "edges", "noise", "faces"}
        else None
    )
    if gray is not None and "luminance" in groups:
        luminance_mean, luminance_std, low, high = uint8_stats(gray, (5, 95))
        values.update(luminance_mean=luminance_mean, luminance_std=luminance_std, contrast_range=high - low)
    if "saturation" in groups:
        values["saturation_mean"], values["saturation_std"] = uint8_stats(
            cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 1], ()
        )
    if "colourfulness" in groups:
        values["colourfulness"] = colourfulness(rgb.astype(np.float32))
    if gray is not None and "sharpness" in groups:
        values["sharpness_log_laplacian_var"] = math.log1p(float(cv2.Laplacian(gray, cv2.CV_64F).var()))
    if gray is not None and "edges" in groups:
        edges = cv2.Canny(gray, 100, 200)
        values["edge_density"] = float(np.count_nonzero(edges)) / float(edges.size)
    if gray is not None and "noise" in groups:
        values["noise_sigma"] = noise_sigma(gray)
    if gray is not None and "faces" in groups:
        faces, face_area = detect_faces(gray)
        values.update(face_count=float(len(faces)), face_area_fraction=face_area)
    if "size" in groups:
        values.update(width=float(width), height=float(height), aspect_ratio=float(width) / float(height))
    return np.array([values.get(name, math.nan) for name in HAND_FEATURE_NAMES], dtype=np.float32)
