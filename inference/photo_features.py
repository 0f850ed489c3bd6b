"""Hand-made photo features: colour, light, sharpness, noise, faces and size, from a small RGB image.

Everything except the size is computed on the working image `decode_photo` makes, the one the encoder's
single pass is cut from (JPEG DCT scaling to at least that pass's side: short side 224-640 px): one decode
serves every step, and a 1080 px and a 4032 px copy of the same photo give nearly the same values, which is
what a model trained on ~500 px photos (CLIVE) needs at serving time. Width, height and aspect describe the original file. Each
group is a few OpenCV calls over the image (histograms, one filter), well under a millisecond at that size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np

from inference.photo_faces import Faces, find_faces

PHOTO_FEATURES_VERSION = "photo-v5"

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


_LEVELS = np.arange(256, dtype=np.float64)


def histogram_stats(counts: np.ndarray, percents: tuple[float, ...]) -> list[float]:
    """Mean, standard deviation and percentiles (numpy's "inverted_cdf") of uint8 values from their 256 counts."""
    counts = np.asarray(counts, dtype=np.float64).reshape(-1)
    total = counts.sum()
    mean = float(counts @ _LEVELS / total)
    std = float(np.sqrt(max(0.0, counts @ (_LEVELS - mean) ** 2 / total)))
    cumulative = np.cumsum(counts)
    return [mean, std, *(float(np.searchsorted(cumulative, max(1.0, total * percent / 100.0))) for percent in percents)]


def channel_stats(image: np.ndarray, channel: int, percents: tuple[float, ...]) -> list[float]:
    """`histogram_stats` of one channel of a uint8 image (HxW or HxWxC): OpenCV's histogram, read in place,
    replaces a copy of the channel, a float copy and a sort."""
    counts = cv2.calcHist([image], [channel], None, [256], [0, 256])
    return histogram_stats(counts, percents)


def uint8_stats(values: np.ndarray, percents: tuple[float, ...]) -> list[float]:
    """`histogram_stats` of any uint8 array."""
    return histogram_stats(np.bincount(values.ravel(), minlength=256), percents)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Süsstrunk (2003) colourfulness of a uint8 RGB image, in 16-bit integers (no float copy)."""
    red, green, blue = cv2.split(rgb)
    rg = cv2.subtract(red, green, dtype=cv2.CV_16S)
    yb_twice = cv2.subtract(cv2.add(red, green, dtype=cv2.CV_16S), cv2.add(blue, blue, dtype=cv2.CV_16S))
    rg_mean, rg_std = (float(v[0][0]) for v in cv2.meanStdDev(rg))
    yb_mean, yb_std = (float(v[0][0]) / 2.0 for v in cv2.meanStdDev(yb_twice))
    return float(math.hypot(rg_std, yb_std) + 0.3 * math.hypot(rg_mean, yb_mean))


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkær's fast estimate of the standard deviation of additive noise (grayscale 0..255)."""
    height, width = gray.shape
    if height < 3 or width < 3:
        return 0.0
    response = cv2.filter2D(gray, cv2.CV_32F, _NOISE_KERNEL)[1:-1, 1:-1]
    return float(cv2.norm(response, cv2.NORM_L1) * math.sqrt(math.pi / 2) / (6.0 * (width - 2) * (height - 2)))


def sharpness(gray: np.ndarray) -> float:
    """log(1 + variance of the Laplacian): large for crisp detail, small for blur."""
    _, (std,) = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_32F))
    return math.log1p(float(std[0]) ** 2)


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
# Median milliseconds of each group on the working image of a 1080x1080 photo (540 px for a 288 or 320 px pass) on the 2-core project machine
# (`python -m benchmarks.photo_cost` prints them); the appeal model weighs what a group adds against these.
# Faces cost nothing extra: the concept detectors find them for every photo anyway (`photo_faces`).
HAND_GROUP_COST_MS: dict[str, float] = {
    "colour_bands": 0.5,
    "luminance": 0.2,
    "saturation": 0.35,
    "colourfulness": 0.35,
    "sharpness": 0.25,
    "edges": 0.3,
    "noise": 0.3,
    "faces": 0.0,
    "size": 0.0,
}
_GROUP_OF = {name: group for group, names in HAND_FEATURE_GROUPS.items() for name in names}


def groups_of(names: Iterable[str]) -> frozenset[str]:
    """The hand-feature groups that compute `names` (names that are not hand features are ignored)."""
    return frozenset(_GROUP_OF[name] for name in names if name in _GROUP_OF)


def compute_hand_features(
    rgb: np.ndarray, width: int, height: int, groups: frozenset[str] = ALL_GROUPS, faces: Faces | None = None
) -> np.ndarray:
    """`HAND_FEATURE_NAMES` for a uint8 HxWx3 working image of a `width`x`height` photo; NaN outside `groups`.

    `faces`: the working image's faces when the caller found them already (they are looked for otherwise).
    """
    values: dict[str, float] = {}
    if "colour_bands" in groups:
        for band, name in enumerate(_BANDS):
            values.update(zip((f"{name}_{stat}" for stat in _BAND_STATS), channel_stats(rgb, band, (10, 50, 90))))
    needs_gray = groups & {"luminance", "sharpness", "edges", "noise"} or ("faces" in groups and faces is None)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if needs_gray else None
    if gray is not None and "luminance" in groups:
        luminance_mean, luminance_std, low, high = channel_stats(gray, 0, (5, 95))
        values.update(luminance_mean=luminance_mean, luminance_std=luminance_std, contrast_range=high - low)
    if "saturation" in groups:
        values["saturation_mean"], values["saturation_std"] = channel_stats(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV), 1, ())
    if "colourfulness" in groups:
        values["colourfulness"] = colourfulness(rgb)
    if gray is not None and "sharpness" in groups:
        values["sharpness_log_laplacian_var"] = sharpness(gray)
    if gray is not None and "edges" in groups:
        edges = cv2.Canny(gray, 100, 200)
        values["edge_density"] = float(cv2.countNonZero(edges)) / float(edges.size)
    if gray is not None and "noise" in groups:
        values["noise_sigma"] = noise_sigma(gray)
    if "faces" in groups:
        found = faces if faces is not None else find_faces(gray)  # type: ignore[arg-type]
        values.update(face_count=float(found.count), face_area_fraction=found.area_fraction)
    if "size" in groups:
        values.update(width=float(width), height=float(height), aspect_ratio=float(width) / float(height))
    return np.array([values.get(name, math.nan) for name in HAND_FEATURE_NAMES], dtype=np.float32)
