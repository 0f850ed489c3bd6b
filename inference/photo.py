"""Reading a photo a user sent: safe decoding, the working image, the encoder's single view and hand features.

`decode_photo` reads the header first and refuses a decompression bomb before decoding a pixel. It decodes
ONE working image for everything: a JPEG at the smallest DCT scaling (Pillow's `draft`) that still gives
the encoder's side, as the benchmark's floor does, so its short side lies between that side and twice it
(anything larger, e.g. a big PNG, is resized to the side). The encoder's input is its centre square,
resized to the side; the hand features, faces and concept cues read the working image itself, where blur
and noise are still visible at about the scale of the ~500 px rated photos the appeal model learned from.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import LikepredictError
from core.settings import DEFAULT_MAX_IMAGE_PIXELS
from inference.photo_faces import Faces, find_faces
from inference.photo_features import (
    ALL_GROUPS,
    HAND_FEATURE_NAMES,
    PHOTO_FEATURES_VERSION,
    compute_hand_features,
)

__all__ = [
    "HAND_FEATURE_NAMES",
    "PHOTO_FEATURES_VERSION",
    "DecodedPhoto",
    "PhotoError",
    "decode_photo",
    "encoder_views",
    "faces_of",
    "hand_features",
    "single_pass_input",
]

MAX_PIXELS = DEFAULT_MAX_IMAGE_PIXELS
MAX_BYTES = 40 * 1024 * 1024
MIN_SIDE = 32
ENCODER_SIZE = 224
# The one encoder pass: the photo's short side resized to this, centre-cropped square (a multiple of 32,
# so EfficientNet's fixed "same" padding is that of its 224 px training size). The default only: the appeal
# model's card entry (`input_size`, chosen by cross-validation in training) says which side serving uses.
SINGLE_PASS_SIZE = 320
# Multi-picture JPEGs (phones store a depth map or preview as a second frame) are still one photo.
_STILL_MULTIFRAME_FORMATS = {"MPO"}
# A progressive JPEG is decoded once per scan, over every block: cameras and encoders write about 10 scans, and
# a crafted file of tiny repeated scans (a 230 KB one with 10,000 took a CPU worker 6 s; 20 MB would take
# minutes) is refused before decoding. 0xFFDA (start of scan) cannot occur inside entropy-coded data (an 0xFF
# there is stuffed as 0xFF00), so counting it is an upper bound read at C speed.
MAX_JPEG_SCANS = 100
_START_OF_SCAN = b"\xff\xda"


class PhotoProblem(StrEnum):
    UNREADABLE = "unreadable"  # the file could not be read at all
    EMPTY = "empty"
    TOO_MANY_BYTES = "too_many_bytes"
    BOMB = "bomb"  # Pillow's decompression-bomb guard: far past any limit
    NOT_AN_IMAGE = "not_an_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_SMALL = "too_small"
    ANIMATED = "animated"
    DAMAGED = "damaged"
    TOO_MANY_SCANS = "too_many_scans"  # a JPEG that would take far too long to decode


class PhotoError(LikepredictError):
    """A file the user sent cannot be used as a photo: `problem` says why, with the figures (`bot.texts` words it)."""

    def __init__(self, problem: PhotoProblem, *, width: int = 0, height: int = 0, size: int = 0, limit: int = 0):
        super().__init__(f"photo refused: {problem} (size {size}, {width}x{height}, limit {limit})")
        self.problem, self.width, self.height, self.size, self.limit = problem, width, height, size, limit


@dataclass(frozen=True)
class DecodedPhoto:
    """A decoded photo: the working image (short side from the encoder's side to twice it, or the photo's own
    if smaller), its centre square at the encoder's side as the encoder's input, the original size."""

    rgb_small: np.ndarray  # uint8 HxWx3, the working image
    encoder_input: np.ndarray  # float32 (3, s, s) for the single pass at side s, scaled to -1..1
    width: int  # of the original, after EXIF orientation
    height: int
    sha256: str


def _read_source(source: bytes | Path, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise PhotoError(PhotoProblem.TOO_MANY_BYTES, size=size, limit=max_bytes)
            data = path.read_bytes()
        except OSError:
            raise PhotoError(PhotoProblem.UNREADABLE) from None
    if not data:
        raise PhotoError(PhotoProblem.EMPTY)
    if len(data) > max_bytes:
        raise PhotoError(PhotoProblem.TOO_MANY_BYTES, size=len(data), limit=max_bytes)
    return data


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open (header only) and refuse what is not one still photo of a sane size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise PhotoError(PhotoProblem.BOMB) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(PhotoProblem.NOT_AN_IMAGE) from None
    width, height = image.size
    if width * height > max_pixels:
        raise PhotoError(PhotoProblem.TOO_MANY_PIXELS, width=width, height=height, limit=max_pixels)
    if min(width, height) < MIN_SIDE:
        raise PhotoError(PhotoProblem.TOO_SMALL, width=width, height=height, limit=MIN_SIDE)
    # `is_animated` reads the header (TIFF: is there a next page?); `n_frames` would walk every page, which
    # for a 20,000-page TIFF takes a CPU worker for seconds.
    if image.format not in _STILL_MULTIFRAME_FORMATS and getattr(image, "is_animated", False):
        raise PhotoError(PhotoProblem.ANIMATED)
    if image.format in ("JPEG", "MPO") and (scans := data.count(_START_OF_SCAN)) > MAX_JPEG_SCANS:
        raise PhotoError(PhotoProblem.TOO_MANY_SCANS, size=scans, limit=MAX_JPEG_SCANS)
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _short_side_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    scale = short_side / min(width, height)
    return max(short_side, round(width * scale)), max(short_side, round(height * scale))


def _decode_working_image(image: Image.Image, short_side: int) -> tuple[Image.Image, int, int]:
    """The oriented RGB working image (short side under 2 x `short_side`) and the original's oriented width and
    height."""
    width, height = image.size
    if image.format in ("JPEG", "MPO"):
        # DCT scaling: the largest 1/2, 1/4 or 1/8 reduction that keeps the short side at least `short_side`
        # (a 4032x3024 photo decodes at 1/8, 504x378, for a 320 px pass; a 1080 px one at 1/4 for 256).
        image.draft("RGB", _short_side_size(width, height, short_side))
    try:
        image.load()
        oriented = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoError(PhotoProblem.DAMAGED) from None
    if oriented.size != image.size:  # rotated by 90 or 270 degrees
        width, height = height, width
    rgb = _to_rgb(oriented)
    # What DCT scaling could not bring under twice the side (other formats; JPEGs past 1/8) is resized.
    if min(rgb.size) >= 2 * short_side:
        rgb = rgb.resize(
            _short_side_size(rgb.width, rgb.height, short_side), Image.Resampling.BICUBIC, reducing_gap=3.0
        )
    return rgb, width, height


# The earlier model's six views, kept for the appeal model's baseline in training.
# Where the native-resolution crops sit, as fractions of the free space (0 = left/top, 1 = right/bottom).
CROP_ANCHORS: tuple[tuple[float, float], ...] = ((0.5, 0.5), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0))


def encoder_views(rgb: Image.Image) -> np.ndarray:
    """The encoder's views of a working image: float32 (k, 3, 224, 224) scaled as (x/255 - 0.5) / 0.5.

    View 0 is the whole photo squeezed to 224x224 (composition, content). The next views are 224x224 crops of
    the working image at its own resolution (at `CROP_ANCHORS`: centre and corners), where
    blur, noise and compression artefacts are still visible; a resize alone averages them away.
    """
    views = [rgb.resize((ENCODER_SIZE, ENCODER_SIZE), Image.Resampling.BICUBIC)]
    short = min(rgb.size)
    if short < ENCODER_SIZE:  # small photos: crop from a copy whose short side just fits a view
        scale = ENCODER_SIZE / short
        rgb = rgb.resize(
            (max(ENCODER_SIZE, round(rgb.width * scale)), max(ENCODER_SIZE, round(rgb.height * scale))),
            Image.Resampling.BICUBIC,
        )
    free_x, free_y = rgb.width - ENCODER_SIZE, rgb.height - ENCODER_SIZE
    for anchor_x, anchor_y in CROP_ANCHORS:
        left, top = round(free_x * anchor_x), round(free_y * anchor_y)
        views.append(rgb.crop((left, top, left + ENCODER_SIZE, top + ENCODER_SIZE)))
    return scaled_pixels(views)


def scaled_pixels(images: list[Image.Image]) -> np.ndarray:
    """float32 (k, 3, h, w) NCHW batch scaled as (x/255 - 0.5) / 0.5, the encoder's input range."""
    batch = np.stack([np.asarray(image, dtype=np.float32) for image in images]).transpose(0, 3, 1, 2)
    return np.ascontiguousarray((batch / 255.0 - 0.5) / 0.5, dtype=np.float32)


def single_pass_input(rgb: np.ndarray, size: int = SINGLE_PASS_SIZE) -> np.ndarray:
    """The encoder's one view of a uint8 HxWx3 image: its centre square resized to `size`; float32
    (3, size, size) scaled to -1..1. OpenCV's area averaging shrinks it (a fifth of the time of Pillow's
    bicubic filter, and as free of aliasing), cubic interpolation enlarges a small photo."""
    height, width = rgb.shape[:2]
    short = min(height, width)
    top, left = (height - short) // 2, (width - short) // 2
    square = rgb[top : top + short, left : left + short]
    if short != size:
        interpolation = cv2.INTER_AREA if short > size else cv2.INTER_CUBIC
        square = cv2.resize(square, (size, size), interpolation=interpolation)
    return np.ascontiguousarray(square.transpose(2, 0, 1), dtype=np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)


def decode_photo(
    source: bytes | Path, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES, encoder_size: int = SINGLE_PASS_SIZE
) -> DecodedPhoto:
    """Decode `source` (file bytes or a path) into a `DecodedPhoto` for an encoder pass at `encoder_size`, or
    raise `PhotoError` saying why not."""
    data = _read_source(source, max_bytes)
    image = _open_checked(data, max_pixels)
    rgb, width, height = _decode_working_image(image, encoder_size)
    pixels = np.asarray(rgb, dtype=np.uint8)
    return DecodedPhoto(
        rgb_small=pixels,
        encoder_input=single_pass_input(pixels, encoder_size),
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def hand_features(photo: DecodedPhoto, groups: frozenset[str] = ALL_GROUPS, faces: Faces | None = None) -> np.ndarray:
    """float32 vector of the features named in `HAND_FEATURE_NAMES` (NaN for those outside `groups`); `faces`:
    the working image's, when the caller found them already."""
    return compute_hand_features(photo.rgb_small, photo.width, photo.height, groups, faces)


def faces_of(photo: DecodedPhoto) -> Faces:
    """The faces in the photo's working image: found once per photo, read by the hand features and the concepts."""
    return find_faces(cv2.cvtColor(photo.rgb_small, cv2.COLOR_RGB2GRAY))
