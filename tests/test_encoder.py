"""The committed encoder: matches the torch reference, batches, and averages each photo's views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.paths import DEMO_SAMPLES
from inference.encoder import EMBEDDING_SIZE, ImageEncoder
from inference.photo import decode_photo

REFERENCE = Path(__file__).parent / "fixtures" / "encoder_reference.npy"


@pytest.fixture(scope="module")
def encoder() -> ImageEncoder:
    return ImageEncoder()


def test_onnx_encoder_matches_the_torch_reference_on_a_sample(encoder):
    """`models/export_encoder.py` stored torch's embedding of valley.jpg's whole-photo view."""
    whole_view = decode_photo(DEMO_SAMPLES / "valley.jpg").encoder_views[:1]
    np.testing.assert_allclose(encoder.model.run(whole_view)[0], np.load(REFERENCE), atol=1e-4)


def test_embeddings_are_the_mean_of_each_photos_views_and_independent_of_batching(encoder):
    photos = [decode_photo(path) for path in sorted(DEMO_SAMPLES.glob("*.jpg"))[:3]]
    together = encoder.embed(photos)
    assert together.shape == (3, EMBEDDING_SIZE) and together.dtype == np.float32
    for index, photo in enumerate(photos):
        views = encoder.embed_views([photo])[0]
        assert views.shape == (len(photo.encoder_views), EMBEDDING_SIZE)
        np.testing.assert_allclose(together[index], views.mean(axis=0), atol=1e-4)


def test_different_photos_get_different_embeddings(encoder):
    beach, skyline = encoder.embed(
        [decode_photo(DEMO_SAMPLES / "sunset_beach.jpg"), decode_photo(DEMO_SAMPLES / "skyline.jpg")]
    )
    cosine = float(beach @ skyline / (np.linalg.norm(beach) * np.linalg.norm(skyline)))
    assert cosine < 0.95


def test_no_photos_give_an_empty_batch(encoder):
    assert encoder.embed([]).shape == (0, EMBEDDING_SIZE)
