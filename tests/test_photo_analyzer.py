"""PhotoAnalyzer: one call decodes photos and runs the encoder, appeal and similarity models on them."""

from __future__ import annotations

import numpy as np
import pytest

from bot.texts import explain
from core.paths import DEMO_SAMPLES
from inference.analyzer import PhotoAnalyzer
from inference.encoder import EMBEDDING_SIZE, LOGITS_SIZE
from inference.photo import HAND_FEATURE_NAMES, PhotoError, decode_photo, hand_features

SAMPLES = sorted(DEMO_SAMPLES.glob("*.jpg"))


@pytest.fixture(scope="module")
def analyzer() -> PhotoAnalyzer:
    return PhotoAnalyzer()


def test_analyses_come_back_in_order_with_every_field(analyzer):
    analyses = analyzer.analyse([SAMPLES[0], SAMPLES[1].read_bytes()])
    assert [a.sha256 for a in analyses] == [decode_photo(SAMPLES[0]).sha256, decode_photo(SAMPLES[1]).sha256]
    for analysis, path in zip(analyses, SAMPLES):
        assert (analysis.width, analysis.height) == (1080, 1080)
        assert list(analysis.hand) == HAND_FEATURE_NAMES
        np.testing.assert_allclose(analysis.hand_vector, hand_features(decode_photo(path), analyzer.hand_groups))
        assert analysis.embedding.shape == (EMBEDDING_SIZE,) and analysis.logits.shape == (LOGITS_SIZE,)
        assert np.linalg.norm(analysis.similarity_vector) == pytest.approx(1.0, abs=1e-5)
        assert 0.0 <= analysis.appeal <= 100.0


def test_a_photo_gets_the_same_analysis_alone_or_in_a_batch(analyzer):
    alone = analyzer.analyse([SAMPLES[2]])[0]
    batched = analyzer.analyse(SAMPLES)[2]
    np.testing.assert_allclose(alone.embedding, batched.embedding, atol=1e-4)
    assert alone.appeal == pytest.approx(batched.appeal, abs=1e-3)


def test_one_encoder_pass_feeds_the_embedding_and_the_logits(analyzer):
    [analysis] = analyzer.analyse([SAMPLES[0]])
    outputs = analyzer.encoder.encode([decode_photo(SAMPLES[0], encoder_size=analyzer.input_size)])
    np.testing.assert_allclose(analysis.embedding, outputs.embedding[0], atol=1e-5)
    np.testing.assert_allclose(analysis.logits, outputs.logits[0], atol=1e-4)


def test_only_the_hand_features_a_model_reads_are_computed(analyzer):
    [analysis] = analyzer.analyse([SAMPLES[0]])
    computed = {name for name, value in analysis.hand.items() if np.isfinite(value)}
    assert {"luminance_mean", "face_count"} <= computed  # photo traits of the likes model
    assert "width" not in computed


def test_an_unreadable_photo_raises_a_photo_error(analyzer):
    with pytest.raises(PhotoError):
        analyzer.analyse([SAMPLES[0], b"not a photo at all"])


def test_the_callers_pixel_limit_applies():
    with pytest.raises(PhotoError) as refused:
        PhotoAnalyzer(max_pixels=1_000_000).analyse([SAMPLES[0]])
    assert "too large" in explain(refused.value)


def test_nothing_to_analyse_gives_nothing(analyzer):
    assert analyzer.analyse([]) == []
