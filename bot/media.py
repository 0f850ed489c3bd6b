"""Which file of a message to download, and whether a document is an image worth downloading."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

MIN_USEFUL_SIDE = 640  # the encoder sees 224 px views and the hand features 512 px: more is wasted bytes
IMAGE_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
}


class Sized(Protocol):
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


S = TypeVar("S", bound=Sized)


def pick_photo_size(sizes: Sequence[S], min_side: int = MIN_USEFUL_SIDE) -> S:
    """The smallest size whose long side reaches `min_side`, else the largest there is."""
    if not sizes:
        raise ValueError("a photo has at least one size")
    ordered = sorted(sizes, key=lambda s: s.width * s.height)
    for size in ordered:
        if max(size.width, size.height) >= min_side:
            return size
    return ordered[-1]


def is_image_document(mime_type: str | None, file_name: str | None) -> bool:
    """An image by its declared type, or (when the type is missing or generic) by its file name."""
    if mime_type and mime_type.lower().startswith("image/"):
        return True
    if mime_type and mime_type.lower() not in ("application/octet-stream", "binary/octet-stream"):
        return False
    return file_name is not None and file_name.lower().rsplit(".", 1)[-1] in {
        "jpg",
        "jpeg",
        "png",
        "webp",
        "bmp",
        "tif",
        "tiff",
    }


def image_suffix(mime_type: str | None) -> str:
    return IMAGE_SUFFIXES.get((mime_type or "").lower(), ".jpg")
