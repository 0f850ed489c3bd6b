"""Training the likes model: split by account, the past only, beats the baseline on planted data, ONNX parity."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from inference.card import CARD_JSON, MODELS_DIR, sha256_of
from inference.likes_features import LIKES_FEATURE_NAMES, LIKES_FEATURES_VERSION, TagPopularity
from models.training.likes import (
    baseline_metrics,
    build_dataset,
    export_gbr,
    fit_likes_models,
    likes_metrics,
    model_metrics,
    ordered_range,
    split_accounts,
    training_dataset,
)
from tests.likes_data import synthetic_accounts

SEED = 3


@pytest.fixture(scope="module")
def trained():
    accounts = synthetic_accounts(40, seed=SEED)
    train_accounts, test_accounts = split_accounts(accounts, SEED)
    train, popularity = training_dataset(train_accounts, folds=3, seed=SEED)
    test = build_dataset(test_accounts, lambda i: popularity)
    models = fit_likes_models(train, {"loss": "huber", "max_depth": 2}, SEED)
    return train_accounts, test_accounts, train, test, popularity, models


def test_split_is_by_whole_account_and_repeatable():
    accounts = synthetic_accounts(20)
    train, test = split_accounts(accounts, SEED)
    assert {a.handle for a in train}.isdisjoint({a.handle for a in test})
    assert len(test) == 4 and len(train) == 16
    again = split_accounts(accounts, SEED)
    assert [a.handle for a in again[1]] == [a.handle for a in test]


def test_every_post_with_three_previous_posts_is_one_row():
    accounts = synthetic_accounts(3)
    data = build_dataset(accounts, lambda i: TagPopularity.empty())
    assert len(data) == sum(len(a.posts) - 3 for a in accounts)
    assert data.features.shape == (len(data), len(LIKES_FEATURE_NAMES))


def test_training_rows_score_tags_without_their_own_account(trained):
    train_accounts, _, train, _, popularity, _ = trained
    # the planted tag is learned from the training accounts
    assert popularity.scores["goldenhour"] > 0.1
    assert popularity.accounts == len(train_accounts)
    column = LIKES_FEATURE_NAMES.index("tag_popularity_max")
    # out-of-fold tables differ from the full one, so training rows do not all carry the full table's score
    assert len(np.unique(np.round(train.features[:, column], 6))) > 2


def test_gbr_beats_the_median_baseline_on_planted_effects(trained):
    *_, test, _, models = trained
    gbr = model_metrics(
        test,
        models.centre.predict(test.features),
        models.low.predict(test.features),
        models.high.predict(test.features),
    )
    baseline = baseline_metrics(test)
    assert gbr["mae_log"] < 0.8 * baseline["mae_log"]
    assert gbr["within_20pct"] > baseline["within_20pct"]


def test_metrics_match_a_hand_computed_example():
    metrics = likes_metrics(np.array([100, 200]), np.array([110, 100]), np.array([90, 50]), np.array([120, 150]))
    assert metrics["mdape"] == pytest.approx(0.3)
    assert metrics["within_20pct"] == 0.5
    assert metrics["within_30_likes"] == 0.5
    assert metrics["coverage_80"] == 0.5
    assert metrics["mae_log"] == pytest.approx((abs(np.log(111 / 101)) + abs(np.log(101 / 201))) / 2, abs=1e-4)


def test_crossing_quantiles_are_sorted():
    low, centre, high = ordered_range(np.array([0.5, -0.2]), np.array([0.1, 0.0]), np.array([-0.3, 0.2]))
    assert low.tolist() == [-0.3, -0.2] and centre.tolist() == [0.1, 0.0] and high.tolist() == [0.5, 0.2]


def test_onnx_export_matches_scikit_learn_on_held_out_rows(trained, tmp_path):
    *_, test, _, models = trained
    for model in (models.centre, models.low, models.high):
        path = export_gbr(model, tmp_path / "model.onnx")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        onnx_out = session.run(None, {"features": test.features})[0].reshape(-1)
        np.testing.assert_allclose(onnx_out, model.predict(test.features), atol=1e-4)


def test_committed_likes_models_match_the_feature_schema():
    card = json.loads(CARD_JSON.read_text())
    for name in ("likes", "likes_q10", "likes_q90"):
        entry = card["models"][name]
        assert entry["feature_schema"] == {"version": LIKES_FEATURES_VERSION, "names": LIKES_FEATURE_NAMES}
        assert sha256_of(MODELS_DIR / entry["file"]) == entry["sha256"]
        session = ort.InferenceSession(str(MODELS_DIR / entry["file"]), providers=["CPUExecutionProvider"])
        assert session.get_inputs()[0].shape[1] == len(LIKES_FEATURE_NAMES)
