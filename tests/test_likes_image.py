"""Image-aware likes: learns a planted photo effect relative to the account's own photos, and says so honestly."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from inference.likes_features import TagPopularity
from inference.likes_image_features import IMAGE_LIKES_FEATURE_NAMES, PHOTO_TRAITS, photo_vs_recent
from models.training.image_likes import (
    export_image_likes,
    fit_image_likes,
    image_likes_dataset,
    leave_one_account_out,
)
from tests.likes_data import synthetic_accounts

APPEAL_EFFECT = 0.02  # planted: each appeal point above the account's usual adds 2 % to the likes


@dataclass(frozen=True)
class Analysed:
    """The two fields of a PhotoAnalysis the likes side reads, with values the test plants."""

    appeal: float
    hand: dict[str, float] = field(default_factory=lambda: {t: 0.0 for t in PHOTO_TRAITS})


def _with_photos(seed: int = 5):
    """Accounts whose likes move with a planted appeal score of each post's photo."""
    rng = np.random.default_rng(seed)
    accounts, analysed = [], {}
    for account in synthetic_accounts(12, seed=seed):
        posts = []
        for post in account.posts:
            path = Path(f"/photos/{post.shortcode}.jpg")
            appeal = float(rng.uniform(20, 80))
            analysed[path] = Analysed(appeal, {t: float(rng.normal()) for t in PHOTO_TRAITS})
            likes = int(post.likes * math.exp(APPEAL_EFFECT * (appeal - 50)))
            posts.append(replace(post, likes=likes, image_path=path))
        accounts.append(replace(account, posts=tuple(posts)))
    return accounts, analysed


def _likes_model_alone(features: np.ndarray) -> np.ndarray:
    return np.zeros(len(features))  # "the account's median": the likes model's simplest honest stand-in


@pytest.fixture(scope="module")
def dataset():
    accounts, analysed = _with_photos()
    return image_likes_dataset(accounts, TagPopularity.empty(), _likes_model_alone, analysed)


def test_photo_row_is_appeal_and_traits_minus_the_recent_means():
    recent = [
        Analysed(40.0, {t: 1.0 for t in PHOTO_TRAITS}),
        Analysed(60.0, {t: 3.0 for t in PHOTO_TRAITS}),
        Analysed(50.0, {t: 2.0 for t in PHOTO_TRAITS}),
    ]
    row = photo_vs_recent(0.25, Analysed(70.0, {t: 5.0 for t in PHOTO_TRAITS}), recent)
    assert row.tolist() == pytest.approx([0.25, 20.0] + [3.0] * len(PHOTO_TRAITS))
    assert len(row) == len(IMAGE_LIKES_FEATURE_NAMES)


def test_too_few_reference_photos_is_refused():
    with pytest.raises(ValueError):
        photo_vs_recent(0.0, Analysed(50.0), [Analysed(40.0), Analysed(60.0)])


def test_rows_need_three_earlier_photos_and_three_earlier_posts(dataset):
    assert len(dataset) == 12 * (17 - 3)
    assert len(np.unique(dataset.groups)) == 12


def test_planted_appeal_effect_is_found_on_accounts_left_out(dataset):
    metrics = leave_one_account_out(dataset)
    assert metrics["with_photo_mae_log"] < 0.7 * metrics["likes_model_alone_mae_log"]
    model = fit_image_likes(dataset.features, dataset.target)
    per_point = model[-1].coef_[1] / model[0].scale_[1]
    assert per_point == pytest.approx(APPEAL_EFFECT, rel=0.25)


def test_no_photo_effect_is_found_where_none_is_planted():
    accounts, analysed = _with_photos()
    shuffled = dict(zip(analysed, np.random.default_rng(9).permutation(list(analysed.values()))))
    data = image_likes_dataset(accounts, TagPopularity.empty(), _likes_model_alone, shuffled)
    metrics = leave_one_account_out(data)
    assert metrics["with_photo_mae_log"] > 0.9 * metrics["likes_model_alone_mae_log"]


def test_exported_image_model_matches_scikit_learn(dataset, tmp_path):
    model = fit_image_likes(dataset.features, dataset.target)
    path = export_image_likes(model, tmp_path / "likes_image.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {"features": dataset.features})[0].reshape(-1)
    np.testing.assert_allclose(onnx_out, model.predict(dataset.features), atol=1e-4)


def test_photo_traits_are_hand_features_the_photo_side_computes():
    from inference.photo import HAND_FEATURE_NAMES

    assert set(PHOTO_TRAITS) <= set(HAND_FEATURE_NAMES)
