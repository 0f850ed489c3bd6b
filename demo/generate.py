"""Generate the bundled SYNTHETIC demo data set: `demo/demo.jsonl`, its images and sample photos.

Nothing here is real Instagram data. The accounts, posts, likes and photos are drawn from a seeded
random generator so that the demo and the tests run offline and give the same answers every time.
Planted relations (so that the models have something true to find):
  * each account belongs to one or two hashtag neighbourhoods (beach, food, city, nature) and draws
    its photos from the matching scenes, so hashtag overlap follows image similarity;
  * likes = followers x the account's base rate x a scene factor (sunsets and beaches do better)
    x a brightness/colourfulness factor x log-normal noise.

Run: `python demo/generate.py` (rewrites the files; the output is deterministic).
"""

from __future__ import annotations

import math
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.records import Account, Post
from scraping.datasets import write_accounts_jsonl

DEMO_DIR = Path(__file__).resolve().parent
IMAGE_SIZE = 320
SAMPLE_SIZE = 1080
LAST_POST = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)

NEIGHBOURHOODS: dict[str, list[str]] = {
    "beach": ["beach", "sea", "summer", "sunset", "travel", "waves"],
    "food": ["food", "foodie", "brunch", "homemade", "yummy", "coffee"],
    "city": ["city", "streetphotography", "architecture", "urban", "night", "travel"],
    "nature": ["nature", "hiking", "mountains", "forest", "landscape", "sunset"],
}
SCENE_FACTOR = {"beach": 1.35, "food": 1.0, "city": 0.85, "nature": 1.15}

# handle, followers, following, neighbourhoods, base like rate
ACCOUNTS = [
    ("demo_creator", 5200, 410, ["beach", "food"], 0.045),
    ("sandy_toes", 12000, 800, ["beach"], 0.05),
    ("wave_chaser", 3400, 290, ["beach", "nature"], 0.06),
    ("brunch_club", 8800, 1200, ["food"], 0.035),
    ("kitchen_notes", 2100, 150, ["food"], 0.07),
    ("concrete_lines", 15000, 600, ["city"], 0.03),
    ("night_walker", 4300, 520, ["city", "nature"], 0.04),
    ("trail_mix", 6700, 330, ["nature"], 0.05),
    ("peak_hunter", 9900, 700, ["nature", "beach"], 0.045),
]


def draw_scene(scene: str, rng: np.random.Generator, size: int) -> Image.Image:
    """A simple picture of a scene: enough structure for the image features to tell scenes apart."""
    s = size
    image = Image.new("RGB", (s, s))
    draw = ImageDraw.Draw(image)
    light = rng.uniform(0.6, 1.15)

    def colour(r: float, g: float, b: float) -> tuple[int, int, int]:
        jitter = rng.normal(0, 12, 3)
        return tuple(int(np.clip(c * light + j, 0, 255)) for c, j in zip((r, g, b), jitter))  # type: ignore

    if scene == "beach":
        horizon = int(s * rng.uniform(0.35, 0.55))
        sunset = rng.random() < 0.4
        sky = colour(250, 150, 90) if sunset else colour(120, 180, 240)
        draw.rectangle([0, 0, s, horizon], fill=sky)
        draw.rectangle([0, horizon, s, int(s * 0.75)], fill=colour(30, 110, 170))
        draw.rectangle([0, int(s * 0.75), s, s], fill=colour(230, 205, 150))
        cx, r = rng.uniform(0.2, 0.8) * s, s * rng.uniform(0.05, 0.1)
        draw.ellipse([cx - r, horizon * 0.4 - r, cx + r, horizon * 0.4 + r], fill=colour(255, 230, 120))
        for _ in range(6):
            y = rng.uniform(horizon, s * 0.75)
            draw.line([0, y, s, y + rng.uniform(-5, 5)], fill=colour(200, 230, 250), width=2)
    elif scene == "food":
        draw.rectangle([0, 0, s, s], fill=colour(140, 95, 60))
        for _ in range(int(rng.integers(1, 3))):
            cx, cy, r = rng.uniform(0.3, 0.7) * s, rng.uniform(0.3, 0.7) * s, s * rng.uniform(0.2, 0.32)
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour(245, 245, 240))
            for _ in range(8):
                fx, fy, fr = cx + rng.normal(0, r / 3), cy + rng.normal(0, r / 3), r * rng.uniform(0.08, 0.2)
                draw.ellipse(
                    [fx - fr, fy - fr, fx + fr, fy + fr],
                    fill=colour(*[(220, 60, 40), (90, 170, 60), (240, 200, 60)][int(rng.integers(0, 3))]),
                )
    elif scene == "city":
        draw.rectangle([0, 0, s, s], fill=colour(60, 70, 95) if rng.random() < 0.5 else colour(170, 180, 195))
        x = 0.0
        while x < s:
            w, h = s * rng.uniform(0.08, 0.2), s * rng.uniform(0.3, 0.9)
            draw.rectangle([x, s - h, x + w, s], fill=colour(90, 90, 100))
            for wy in np.arange(s - h + 8, s - 8, 14):
                for wx in np.arange(x + 4, x + w - 6, 10):
                    if rng.random() < 0.5:
                        draw.rectangle([wx, wy, wx + 5, wy + 7], fill=colour(250, 220, 140))
            x += w + s * rng.uniform(0.0, 0.03)
    else:  # nature
        draw.rectangle([0, 0, s, s], fill=colour(150, 200, 235))
        for layer, base in enumerate([(90, 120, 90), (60, 130, 60), (40, 100, 40)]):
            points = [(0, s)]
            for px in np.linspace(0, s, 9):
                points.append((px, s * (0.35 + 0.15 * layer) + rng.normal(0, s * 0.06)))
            points.append((s, s))
            draw.polygon(points, fill=colour(*base))
        for _ in range(12):
            tx, ty = rng.uniform(0, s), rng.uniform(0.6, 0.95) * s
            draw.polygon([(tx, ty - s * 0.08), (tx - s * 0.03, ty), (tx + s * 0.03, ty)], fill=colour(20, 70, 30))
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(1.0, 3.0) * s / 320))
    noise = rng.normal(0, 6, (s, s, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=float) + noise, 0, 255).astype(np.uint8))


def appeal_factor(image: Image.Image) -> float:
    """Brighter, more colourful photos do a little better (a planted, modest effect)."""
    pixels = np.asarray(image.resize((64, 64)), dtype=float)
    brightness = pixels.mean() / 255
    colourfulness = pixels.std(axis=2).mean() / 128
    return math.exp(0.5 * (brightness - 0.45) + 0.4 * (colourfulness - 0.3))


def build_account(index: int, spec: tuple, rng: np.random.Generator, images_dir: Path) -> Account:
    handle, followers, following, hoods, rate = spec
    posts = []
    moment = LAST_POST - timedelta(minutes=int(rng.uniform(0, 30) * 60) * index)
    for number in range(20):
        scene = hoods[int(rng.integers(0, len(hoods)))]
        image = draw_scene(scene, rng, IMAGE_SIZE)
        path = images_dir / f"{handle}_{number:02d}.jpg"
        image.save(path, quality=80)
        pool = NEIGHBOURHOODS[scene]
        tags = list(rng.choice(pool, size=int(rng.integers(1, 5)), replace=False))
        if rng.random() < 0.15:
            tags.append(f"{handle.replace('_', '')}life")
        likes = followers * rate * SCENE_FACTOR[scene] * appeal_factor(image) * math.exp(rng.normal(0, 0.25))
        posts.append(
            Post(
                shortcode=f"{handle}_{number:02d}",
                taken_at=moment,
                likes=int(likes),
                comments=int(likes * rng.uniform(0.01, 0.05)),
                hashtags=tuple(tags),
                mentions=int(rng.integers(0, 3)),
                caption_length=int(rng.integers(0, 300)),
                is_multi_image=bool(rng.random() < 0.15),
                image_path=path,
            )
        )
        moment -= timedelta(minutes=int(rng.uniform(20, 90) * 60))
    return Account(
        handle,
        followers,
        following,
        posts_count=int(20 + rng.integers(0, 200)),
        posts=tuple(posts),
        fetched_at=LAST_POST + timedelta(days=1),
    )


def main() -> None:
    rng = np.random.default_rng(2017)
    images_dir = DEMO_DIR / "images"
    samples_dir = DEMO_DIR / "samples"
    for folder in (images_dir, samples_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    accounts = [build_account(i, spec, rng, images_dir) for i, spec in enumerate(ACCOUNTS)]
    write_accounts_jsonl(accounts, DEMO_DIR / "demo.jsonl")
    for name, scene in [("sunset_beach", "beach"), ("pancakes", "food"), ("skyline", "city"), ("valley", "nature")]:
        draw_scene(scene, rng, SAMPLE_SIZE).save(samples_dir / f"{name}.jpg", quality=88)
    print(f"wrote {len(accounts)} accounts to {DEMO_DIR / 'demo.jsonl'} and 4 sample photos")


if __name__ == "__main__":
    main()
