"""Training the likes model: split by account across years, the past only, planted effects found, ONNX parity."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from inference.card import CARD_JSON, MODELS_DIR, sha256_of
from inference.likes_features import LIKES_FEATURE_NAMES, LIKES_FEATURES_VERSION, TagPopularity, photo_blind
from models.training.likes import export_gbr, fit_likes_models, range_widening
from models.training.likes_data import SourcedAccount, build_dataset, split_accounts, training_dataset
from models.training.likes_effects import concept_effects, slope_of, time_effect
from models.training.likes_metrics import (
    account_bootstrap,
    baseline_metrics,
    likes_metrics,
    model_metrics,
    pairwise_within_account,
    ratio,
    widen,
)
from models.training.likes_onnx import export_hist_gbr
from tests.likes_data import PEOPLE_BOOST, synthetic_accounts, synthetic_accounts_2019

SEED = 3


def _both_years(n: int, seed: int = SEED) -> list[SourcedAccount]:
    return [SourcedAccount(a, "2017") for a in synthetic_accounts(n, seed)] + [
        SourcedAccount(a, "2019") for a in synthetic_accounts_2019(n, seed)
    ]


@pytest.fixture(scope="module")
def trained():
    train_accounts, test_accounts = split_accounts(_both_years(40), SEED)
    train, popularity, folds = training_dataset(train_accounts, folds=3, seed=SEED)
    test = build_dataset(test_accounts, lambda i: popularity, keep_rows=True)
    models = fit_likes_models(train, SEED)
    return train, test, folds, popularity, models


def test_an_account_in_both_years_is_on_one_side_of_the_split_only():
    train, test = split_accounts(_both_years(20), SEED)
    assert {a.account.handle for a in train}.isdisjoint({a.account.handle for a in test})
    assert len({a.account.handle for a in test}) == 4
    assert sorted(a.source for a in test) == ["2017"] * 4 + ["2019"] * 4
    again = split_accounts(_both_years(20), SEED)
    assert [a.account.handle for a in again[1]] == [a.account.handle for a in test]


def test_every_post_with_three_previous_posts_is_one_row():
    accounts = [SourcedAccount(a, "2017") for a in synthetic_accounts(3)]
    data = build_dataset(accounts, lambda i: TagPopularity.empty())
    assert len(data) == sum(len(a.account.posts) - 3 for a in accounts)
    assert data.features.shape == (len(data), len(LIKES_FEATURE_NAMES))


def test_training_rows_score_tags_without_their_own_account(trained):
    train, _, _, popularity, _ = trained
    assert popularity.scores["goldenhour"] > 0.1
    column = LIKES_FEATURE_NAMES.index("tag_popularity_max")
    # out-of-fold tables differ from the full one, so training rows do not all carry the full table's score
    assert len(np.unique(np.round(train.features[:, column], 6))) > 2


def test_model_beats_the_median_baseline_on_planted_effects_in_each_year(trained):
    _, test, _, _, models = trained
    for year in ("2017", "2019"):
        part = test.subset(test.sources == year)
        low, centre, high = models.predict(part.features)
        assert model_metrics(part, centre, low, high)["mae_log"] < 0.8 * baseline_metrics(part)["mae_log"]


def test_the_range_widening_is_chosen_on_training_folds_to_cover_80_percent(trained):
    train, _, folds, _, _ = trained
    factor, cv = range_widening(train, folds, SEED, log=lambda line: None)
    assert 0.8 <= factor <= 2.0
    assert {"2017", "2019"} <= set(cv)


def test_the_planted_people_effect_is_found_within_accounts_and_holds_out(trained):
    train, test, *_ = trained
    effects = concept_effects(train.subset(train.sources == "2019"), test.subset(test.sources == "2019"), SEED)
    people = effects["people"]
    # log1p compresses the ratio of small like counts, so the estimate sits a little below the planted boost
    assert 0.5 * (PEOPLE_BOOST - 1) < people["low"] <= people["change"] <= people["high"] < PEOPLE_BOOST - 1 + 0.1
    assert people["supported"] is True
    assert not effects.get("text", {}).get("supported", False)  # nothing planted, nothing claimed


def test_the_photo_aware_model_orders_an_accounts_posts_better_than_photo_blind(trained):
    _, test, _, _, models = trained
    part = test.subset(test.sources == "2019")
    aware = models.centre.predict(part.features)
    blind = models.centre.predict(photo_blind(part.features))
    assert pairwise_within_account(part.groups, part.likes, aware) > pairwise_within_account(
        part.groups, part.likes, blind
    )


def test_posts_at_times_the_model_rates_higher_get_more_likes_on_planted_evenings(trained):
    _, test, _, _, models = trained
    effect = time_effect(test.subset(test.sources == "2019"), models.centre.predict, SEED)
    assert effect["change"] > 0 and effect["low"] <= effect["change"] <= effect["high"]
    assert 0 < effect["rating_slope_low"] <= effect["rating_slope"] <= effect["rating_slope_high"]


def test_metrics_match_a_hand_computed_example():
    metrics = likes_metrics(np.array([100, 200]), np.array([110, 100]), np.array([90, 50]), np.array([120, 150]))
    assert metrics["mdape"] == pytest.approx(0.3)
    assert metrics["within_20pct"] == 0.5
    assert metrics["within_30_likes"] == 0.5
    assert metrics["coverage_80"] == 0.5
    assert metrics["mae_log"] == pytest.approx((abs(np.log(111 / 101)) + abs(np.log(101 / 201))) / 2, abs=1e-4)


def test_the_bootstrap_counts_an_account_drawn_twice_twice_as_resampling_its_rows_would():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 12, size=80)
    values = rng.normal(size=80) + groups * 0.1
    low, high = account_bootstrap(groups, np.column_stack([values, np.ones(80)]), ratio, seed=5, draws=200)
    # the same draws, done the slow way: concatenate the rows of the accounts picked
    accounts = np.unique(groups)
    picked = np.random.default_rng(5).integers(0, len(accounts), size=(200, len(accounts)))
    means = [np.concatenate([values[groups == accounts[i]] for i in draw]).mean() for draw in picked]
    assert (low, high) == pytest.approx((np.percentile(means, 5), np.percentile(means, 95)))
    assert low < values.mean() < high


def test_pairwise_order_counts_pairs_within_an_account_only():
    groups = np.array([0, 0, 1, 1])
    actual = np.array([1.0, 2.0, 10.0, 20.0])
    # right within account 0, wrong within account 1; the cross-account order is irrelevant
    assert pairwise_within_account(groups, actual, np.array([5.0, 6.0, 2.0, 1.0])) == 0.5


def test_crossing_quantiles_keep_the_centre_and_the_range_widens_about_it():
    low, centre, high = widen(np.array([0.5, -0.2]), np.array([0.1, 0.0]), np.array([-0.3, 0.3]), 1.0)
    np.testing.assert_allclose(low, [-0.3, -0.2])
    np.testing.assert_allclose(high, [0.5, 0.3])
    assert centre.tolist() == [0.1, 0.0]
    low, centre, high = widen(np.array([0.2]), np.array([0.0]), np.array([0.4]), 1.0)  # both above the centre
    np.testing.assert_allclose([low[0], high[0]], [0.0, 0.4])
    low, centre, high = widen(np.array([-1.0]), np.array([0.0]), np.array([2.0]), 1.5)
    np.testing.assert_allclose([low[0], centre[0], high[0]], [-1.5, 0.0, 3.0])


def test_onnx_export_matches_scikit_learn_on_held_out_rows(trained, tmp_path):
    _, test, _, _, models = trained
    for model in (models.centre, models.low, models.high):
        path = export_gbr(model, tmp_path / "model.onnx")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        onnx_out = session.run(None, {"features": test.features})[0].reshape(-1)
        np.testing.assert_allclose(onnx_out, model.predict(test.features), atol=1e-4)


def test_histogram_gbr_export_splits_neighbouring_float32_values_as_scikit_learn_does(tmp_path):
    # the split lies halfway between two adjacent float32 values; rounded to float32 it would BE the upper one
    lower = np.nextafter(np.float32(1.0), np.float32(2.0))
    upper = np.nextafter(lower, np.float32(2.0))
    features = np.array([[lower]] * 40 + [[upper]] * 40, dtype=np.float32)
    model = HistGradientBoostingRegressor(max_iter=1, learning_rate=1.0, min_samples_leaf=5)
    model.fit(features, np.array([0.0] * 40 + [1.0] * 40))
    path = export_hist_gbr(model, tmp_path / "model.onnx", 1)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {"features": features})[0].reshape(-1)
    np.testing.assert_allclose(onnx_out, model.predict(features), atol=1e-6)
    assert onnx_out[-1] - onnx_out[0] > 0.9


def test_committed_likes_models_match_the_feature_schema():
    card = json.loads(CARD_JSON.read_text())
    for name in ("likes", "likes_q10", "likes_q90"):
        entry = card["models"][name]
        assert entry["feature_schema"] == {"version": LIKES_FEATURES_VERSION, "names": LIKES_FEATURE_NAMES}
        assert sha256_of(MODELS_DIR / entry["file"]) == entry["sha256"]
        session = ort.InferenceSession(str(MODELS_DIR / entry["file"]), providers=["CPUExecutionProvider"])
        assert session.get_inputs()[0].shape[1] == len(LIKES_FEATURE_NAMES)


def test_committed_card_gives_each_concept_and_the_time_effect_an_interval():
    entry = json.loads(CARD_JSON.read_text())["models"]["likes"]
    assert entry["concept_effects"]
    for effect in entry["concept_effects"].values():
        assert effect["low"] <= effect["change"] <= effect["high"]
    timing = entry["time_effect"]
    assert timing["low"] <= timing["change"] <= timing["high"]


def test_the_rating_slope_is_least_squares_from_sums():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    y = 3.0 + 2.0 * x
    sums = np.column_stack([x * y, x * x, x, y, np.ones(4)]).sum(axis=0)[None, :]
    assert slope_of(sums)[0] == pytest.approx(2.0)
    assert slope_of(np.zeros((1, 5)))[0] == 0.0  # no spread in the rating: no slope
