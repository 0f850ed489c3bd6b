"""The committed encoder: matches the torch reference, gives three outputs in one pass, batches, averages views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.paths import DEMO_SAMPLES
from inference.encoder import EMBEDDING_SIZE, LOGITS_SIZE, STAGE_STATS_SIZE, ImageEncoder, stage_stat_names
from inference.photo import decode_photo

REFERENCE = Path(__file__).parent / "fixtures" / "encoder_reference.npz"
DAISY = 985


@pytest.fixture(scope="module")
def encoder() -> ImageEncoder:
    return ImageEncoder()


def test_onnx_encoder_matches_the_torch_reference_on_a_sample(encoder):
    """`models/export_encoder.py` stored torch's three outputs for valley.jpg's single-pass view, and the view."""
    reference = np.load(REFERENCE)
    view = reference["view_pixels"].astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)  # (3, s, s)
    outputs = encoder.run_pixels(view[None])
    np.testing.assert_allclose(outputs.embedding[0], reference["embedding"], atol=1e-4)
    np.testing.assert_allclose(outputs.stage_stats[0], reference["stage_stats"], atol=1e-3)
    np.testing.assert_allclose(outputs.logits[0], reference["logits"], atol=1e-3)


def test_one_pass_returns_embedding_stage_statistics_and_logits_per_photo(encoder):
    photos = [decode_photo(path) for path in sorted(DEMO_SAMPLES.glob("*.jpg"))[:3]]
    outputs = encoder.encode(photos)
    assert outputs.embedding.shape == (3, EMBEDDING_SIZE)
    assert outputs.stage_stats.shape == (3, STAGE_STATS_SIZE) == (3, len(stage_stat_names()))
    assert outputs.logits.shape == (3, LOGITS_SIZE)
    alone = encoder.encode(photos[1:2])
    np.testing.assert_allclose(alone.embedding[0], outputs.embedding[1], atol=1e-4)
    np.testing.assert_allclose(alone.logits[0], outputs.logits[1], atol=1e-3)


def test_standard_deviations_in_the_stage_statistics_are_not_negative(encoder):
    stats = encoder.encode([decode_photo(DEMO_SAMPLES / "skyline.jpg")]).stage_stats[0]
    names = stage_stat_names()
    assert all(stats[i] >= 0 for i, name in enumerate(names) if "_std_" in name)


def test_the_logits_name_a_daisy_a_daisy(encoder):
    from io import BytesIO

    from PIL import Image
    from sklearn.datasets import load_sample_image

    buffer = BytesIO()
    Image.fromarray(load_sample_image("flower.jpg")).save(buffer, format="PNG")
    assert int(encoder.encode([decode_photo(buffer.getvalue())]).logits[0].argmax()) == DAISY


def test_different_photos_get_different_embeddings(encoder):
    beach, skyline = encoder.encode(
        [decode_photo(DEMO_SAMPLES / "sunset_beach.jpg"), decode_photo(DEMO_SAMPLES / "skyline.jpg")]
    ).embedding
    cosine = float(beach @ skyline / (np.linalg.norm(beach) * np.linalg.norm(skyline)))
    assert cosine < 0.95


def test_no_photos_give_an_empty_batch(encoder):
    empty = encoder.encode([])
    assert empty.embedding.shape == (0, EMBEDDING_SIZE) and empty.logits.shape == (0, LOGITS_SIZE)
