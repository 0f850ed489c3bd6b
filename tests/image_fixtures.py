"""Small generated photos and a models folder holding the committed encoder, for the image-side tests."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from inference.card import MODELS_DIR, load_card, update_card


def textured_photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A photo-like picture: smooth colour fields, hard-edged shapes and fine stripes, at any size."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(6, 8, 3)).astype(np.uint8)
    picture = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(picture, dtype=np.float32)
    for _ in range(12):
        x0, y0 = rng.uniform(0, 0.8, size=2)
        x1, y1 = x0 + rng.uniform(0.05, 0.2), y0 + rng.uniform(0.05, 0.2)
        pixels[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)] = rng.uniform(0, 255, size=3)
    stripes = (np.sin(np.arange(width) / width * 400.0) * 20.0)[None, :, None]
    pixels[: height // 3] += stripes
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def degraded(image: Image.Image, blur: float, noise: float, seed: int = 0) -> Image.Image:
    """`image` blurred and with Gaussian noise added: what people rate as a poor photo."""
    pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(blur)) if blur else image, dtype=np.float32)
    pixels = pixels + np.random.default_rng(seed).normal(0.0, noise, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def jpeg_bytes(image: Image.Image, quality: int = 92, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, **options)
    return buffer.getvalue()


def models_dir_with_encoder(folder: Path) -> Path:
    """`folder` as a models folder holding only the committed encoder (and its card entry)."""
    folder.mkdir(parents=True, exist_ok=True)
    entry = load_card(MODELS_DIR / "card.json")["models"]["encoder"]
    shutil.copyfile(MODELS_DIR / entry["file"], folder / entry["file"])
    update_card({"encoder": entry}, folder)
    return folder
