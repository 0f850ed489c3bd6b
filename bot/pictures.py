"""The bot's two pictures, drawn with Pillow: the /best ranking (JPEG: it is made of photos) and the /stats
chart (PNG: flat colours and text)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from statistics import median

from PIL import Image, ImageDraw, ImageFont, ImageOps

TILE = 320
LABEL_HEIGHT = 56
GAP = 12
PER_ROW = 5
BACKGROUND = (250, 250, 250)
INK = (30, 30, 30)
ACCENT = (225, 48, 108)  # Instagram pink, for the winner and the median line
MUTED = (150, 150, 150)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _jpeg(image: Image.Image) -> bytes:
    # A collage of photos as PNG took over a second to encode (benchmarks/best.py) and was 8x larger.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def ranking_picture(photos: Sequence[Path], labels: Sequence[str]) -> bytes:
    """The drafts side by side, best first (rows of up to five), each with its label under it."""
    if not photos or len(photos) != len(labels):
        raise ValueError("one label per photo, at least one photo")
    columns = min(PER_ROW, len(photos))
    rows = (len(photos) + PER_ROW - 1) // PER_ROW
    width = columns * TILE + (columns + 1) * GAP
    height = rows * (TILE + LABEL_HEIGHT) + (rows + 1) * GAP
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = _font(26)
    for index, (path, label) in enumerate(zip(photos, labels)):
        row, column = divmod(index, PER_ROW)
        left = GAP + column * (TILE + GAP)
        top = GAP + row * (TILE + LABEL_HEIGHT + GAP)
        with Image.open(path) as source:
            source.draft("RGB", (TILE * 2, TILE * 2))  # decode big JPEGs at a fraction of their size
            tile = ImageOps.fit(ImageOps.exif_transpose(source).convert("RGB"), (TILE, TILE))
        canvas.paste(tile, (left, top))
        if index == 0:
            draw.rectangle((left - 4, top - 4, left + TILE + 3, top + TILE + 3), outline=ACCENT, width=4)
        draw.text((left + 4, top + TILE + 12), label, fill=ACCENT if index == 0 else INK, font=font)
    return _jpeg(canvas)


def likes_chart(likes: Sequence[int], title: str, width: int = 900, height: int = 420) -> bytes:
    """Likes per post, oldest to newest, as bars, with the median as a line across them."""
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    title_font, small = _font(24), _font(16)
    draw.text((20, 12), title, fill=INK, font=title_font)
    left, right, top, bottom = 70, width - 20, 56, height - 40
    draw.line((left, bottom, right, bottom), fill=MUTED, width=2)
    if not likes:
        draw.text((left + 10, (top + bottom) // 2), "no posts yet", fill=MUTED, font=small)
        return _png(canvas)
    peak = max(max(likes), 1)
    scale = (bottom - top) / peak
    slot = (right - left) / len(likes)
    bar = max(2.0, slot * 0.7)
    for index, value in enumerate(likes):
        x = left + index * slot + (slot - bar) / 2
        draw.rectangle((x, bottom - value * scale, x + bar, bottom), fill=(64, 93, 230))
    middle = float(median(likes))
    y = bottom - middle * scale
    draw.line((left, y, right, y), fill=ACCENT, width=3)
    label_at = (left + 6, y - 24)
    draw.rectangle(draw.textbbox(label_at, f"median {middle:,.0f}", font=small), fill=BACKGROUND)  # readable over bars
    draw.text(label_at, f"median {middle:,.0f}", fill=ACCENT, font=small)
    draw.text((8, top - 8), f"{peak:,}", fill=MUTED, font=small)
    draw.text((8, bottom - 8), "0", fill=MUTED, font=small)
    draw.text((left, bottom + 10), "older", fill=MUTED, font=small)
    draw.text((right - 60, bottom + 10), "newest", fill=MUTED, font=small)
    return _png(canvas)
