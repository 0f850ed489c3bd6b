"""The appeal model: metrics, the training pipeline on tiny rated photos, and the committed model."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from inference.appeal import AppealModel
from inference.card import load_card
from inference.encoder import EncoderOutputs, ImageEncoder
from inference.photo import decode_photo, hand_features
from models.training.appeal import evaluate_appeal, pairwise_accuracy, ranking_metrics, train_appeal
from models.training.photo_dataset import read_labels
from scraping.datasets import DatasetError
from tests.image_fixtures import degraded, jpeg_bytes, models_dir_with_encoder, textured_photo

# ---- metrics ------------------------------------------------------------------------------------------


def test_pairwise_accuracy_counts_pairs_ordered_as_people_rated_them():
    truth = np.array([10.0, 20.0, 30.0, 40.0])
    assert pairwise_accuracy(truth * 2, truth) == 1.0
    assert pairwise_accuracy(-truth, truth) == 0.0
    assert pairwise_accuracy(np.zeros(4), truth) == 0.5  # a constant guess is a coin toss
    assert pairwise_accuracy(np.array([1.0, 3.0, 2.0, 4.0]), truth) == pytest.approx(5 / 6)


def test_pairs_people_rated_alike_are_left_out():
    assert pairwise_accuracy(np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0, 9.0])) == 1.0


def test_ranking_metrics_of_a_perfect_ranking():
    metrics = ranking_metrics(np.array([1.0, 2.0, 5.0]), np.array([3.0, 4.0, 10.0]))
    assert metrics["spearman"] == pytest.approx(1.0) and metrics["pairwise_accuracy"] == 1.0


# ---- labels -------------------------------------------------------------------------------------------


def test_a_folder_without_labels_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="labels.csv"):
        read_labels(tmp_path)


def test_labels_naming_a_missing_image_are_a_dataset_error(tmp_path):
    (tmp_path / "labels.csv").write_text("image,mos\nnope.jpg,50\nalso.jpg,60\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="nope.jpg is missing"):
        read_labels(tmp_path)


# ---- the pipeline on tiny rated photos ------------------------------------------------------------------


def rated_folder(folder: Path, count: int = 20) -> Path:
    """Photos whose rating falls with the blur and noise planted in them."""
    folder.mkdir()
    rows = []
    for index in range(count):
        damage = index / (count - 1)
        photo = degraded(textured_photo(320, 240, seed=index), blur=4.0 * damage, noise=25.0 * damage, seed=index)
        (folder / f"p{index}.jpg").write_bytes(jpeg_bytes(photo))
        rows.append({"image": f"p{index}.jpg", "mos": f"{80.0 - 60.0 * damage:.2f}"})
    with (folder / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["image", "mos"])
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    models_dir = models_dir_with_encoder(tmp_path_factory.mktemp("models"))
    photos = rated_folder(tmp_path_factory.mktemp("rated") / "photos")
    entries = train_appeal(photos, models_dir, seed=0, log=lambda line: None)
    return models_dir, photos, entries


def test_training_exports_the_model_and_writes_held_out_figures_to_the_card(trained):
    models_dir, _, entries = trained
    card_entry = load_card(models_dir / "card.json")["models"]["appeal"]
    assert (models_dir / "appeal.onnx").is_file() and card_entry == entries["appeal"]
    names = card_entry["feature_schema"]["names"]
    assert "embedding_0" in names and not {"width", "height", "aspect_ratio"} & set(names)
    assert card_entry["input_size"] in card_entry["sizes_tried"]
    metrics = card_entry["metrics"]
    for name in (
        "held_out_spearman",
        "held_out_pairwise_accuracy",
        "cv_spearman",
        "baseline_hand_spearman",
        "baseline_six_view_spearman",
        "baseline_single_view_spearman",
        "baseline_sharpness_spearman",
    ):
        assert np.isfinite(metrics[name]), name
    assert metrics["onnx_vs_sklearn_max_abs_diff"] < 1e-2
    assert card_entry["data"]["held_out"] == 4 and card_entry["data"]["train"] == 16


def test_the_trained_model_scores_a_fresh_sharp_photo_above_its_damaged_copy(trained):
    models_dir, _, _ = trained
    fresh = textured_photo(320, 240, seed=99)
    model = AppealModel(models_dir)
    photos = [
        decode_photo(jpeg_bytes(photo), encoder_size=model.input_size)
        for photo in (fresh, degraded(fresh, blur=4.0, noise=25.0))
    ]
    hand = np.stack([hand_features(photo) for photo in photos])
    sharp, damaged = model.score(hand, ImageEncoder(models_dir).encode(photos))
    assert 0.0 <= damaged < sharp <= 100.0


def test_evaluate_reports_the_committed_models_ranking_on_a_folder(trained):
    models_dir, photos, _ = trained
    metrics = evaluate_appeal(photos, models_dir)
    assert metrics["photos"] == 20
    assert metrics["spearman"] > 0.8  # mostly photos it was fitted on: this checks the plumbing, not skill
    assert set(metrics) >= {"pairwise_accuracy", "baseline_sharpness_spearman"}


# ---- the committed model ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["china.jpg", "flower.jpg"])
def test_the_committed_model_scores_a_real_photo_far_above_a_blurred_noisy_copy(sample):
    """scikit-learn's two bundled photographs, against copies blurred, noised and compressed hard."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    original = Image.fromarray(load_sample_image(sample))
    model = AppealModel()
    photos = [
        decode_photo(jpeg_bytes(original), encoder_size=model.input_size),
        decode_photo(jpeg_bytes(degraded(original, blur=6.0, noise=30.0), quality=30), encoder_size=model.input_size),
    ]
    hand = np.stack([hand_features(photo, model.hand_groups) for photo in photos])
    good, bad = model.score(hand, ImageEncoder().encode(photos))
    assert bad < good - 20


def test_the_committed_model_refuses_inputs_of_the_wrong_shape():
    with pytest.raises(ValueError, match="expected"):
        AppealModel().score(
            np.zeros((1, 5)), EncoderOutputs(np.zeros((1, 1280)), np.zeros((1, 1488)), np.zeros((1, 1000)))
        )


# ---- cross-validated choice (pure) -------------------------------------------------------------------


def test_dual_ridge_cross_validation_gives_the_same_predictions_as_scikit_learn_ridge():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold

    from models.training.appeal_cv import cv_predictions, gram, standardise

    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 60))
    target = features[:, :3].sum(axis=1) + rng.normal(scale=0.1, size=40)
    block = standardise(features)
    predicted = cv_predictions(gram(block), target, [10.0], seed=0)[10.0]
    expected = np.zeros(40)
    for train, test in KFold(5, shuffle=True, random_state=0).split(features):
        centre = target[train].mean()
        model = Ridge(alpha=10.0, fit_intercept=False).fit(block.values[train], target[train] - centre)
        expected[test] = model.predict(block.values[test]) + centre
    np.testing.assert_allclose(predicted, expected, atol=1e-8)


def test_the_weighting_that_carries_the_signal_is_chosen():
    from models.training.appeal_cv import best_weighting, gram, standardise

    rng = np.random.default_rng(1)
    signal, noise = rng.normal(size=(60, 20)), rng.normal(size=(60, 20))
    target = signal[:, 0] * 3 + signal[:, 1]
    grams = {"signal": gram(standardise(signal)), "noise": gram(standardise(noise))}
    seen: list[str] = []
    choice = best_weighting(
        grams,
        target,
        [{"signal": 1.0, "noise": 0.0}, {"signal": 0.0, "noise": 1.0}],
        [1.0, 10.0],
        seed=0,
        record=lambda label, score: seen.append(label),
    )
    assert choice.weights["signal"] == 1.0 and choice.cv_spearman > 0.8
    assert len(seen) == 4  # every weighting at every alpha is recorded


def test_block_weights_folded_into_the_scaler_match_the_weighted_ridge():
    from sklearn.linear_model import Ridge

    from models.training.appeal import fit_weighted_ridge

    rng = np.random.default_rng(2)
    features, target = rng.normal(size=(30, 4)), rng.normal(size=30)
    weights = np.array([2.0, 1.0, 0.5, 1.0])
    model = fit_weighted_ridge(features, target, weights, alpha=3.0)
    standardised = (features - features.mean(axis=0)) / features.std(axis=0) * weights
    expected = Ridge(alpha=3.0).fit(standardised, target).predict(standardised)
    np.testing.assert_allclose(model.predict(features), expected, atol=1e-8)


def test_rbf_head_cross_validation_is_scikit_learn_svr_on_the_same_standardised_inputs():
    from sklearn.model_selection import KFold
    from sklearn.svm import SVR

    from models.training.appeal_cv import SVR_EPSILON, best_rbf, gram, spearman, standardise

    rng = np.random.default_rng(3)
    features = rng.normal(size=(50, 8))
    target = 10 * np.sin(features[:, 0]) + features[:, 1] ** 2
    block = standardise(features)
    choice = best_rbf(gram(block), target, [1.0], [30.0], seed=0)
    distances = ((block.values[:, None] - block.values[None]) ** 2).sum(axis=-1)
    gamma = 1.0 / distances[np.triu_indices(50, k=1)].mean()
    expected = np.zeros(50)
    for train, test in KFold(5, shuffle=True, random_state=0).split(features):
        model = SVR(kernel="rbf", gamma=gamma, C=30.0, epsilon=SVR_EPSILON).fit(block.values[train], target[train])
        expected[test] = model.predict(block.values[test])
    assert choice.gamma == pytest.approx(gamma)
    assert choice.cv_spearman == pytest.approx(spearman(expected, target), abs=1e-9)


def test_the_rbf_head_ships_only_when_it_buys_more_than_its_cost():
    from models.training.appeal_choice import CV_GAIN_PER_MS, MIN_HEAD_GAIN, RBF_HEAD_EXTRA_MS, InputChoice
    from models.training.appeal_cv import Choice, RbfChoice

    ridge = Choice({"embedding": 1.0}, 100.0, 0.7)
    needed = MIN_HEAD_GAIN + CV_GAIN_PER_MS * RBF_HEAD_EXTRA_MS

    def head(rbf_cv: float) -> str:
        return InputChoice(320, ridge, [], RbfChoice(1.0, 100.0, 0.01, rbf_cv), {}).head

    assert head(0.7 + needed * 0.9) == "ridge"
    assert head(0.7 + needed * 1.1) == "rbf_svr"


def test_an_rbf_head_exports_to_onnx_with_its_block_weights(tmp_path):
    from models.training.appeal import export_onnx, fit_weighted_rbf, onnx_parity
    from models.training.appeal_cv import RbfChoice

    rng = np.random.default_rng(4)
    features = rng.normal(size=(40, 5))
    target = 50 + 10 * features[:, 0] - 5 * features[:, 2] ** 2
    model = fit_weighted_rbf(features, target, np.array([2.0, 1.0, 1.0, 0.5, 1.0]), RbfChoice(1.0, 100.0, 0.1, 0.0))
    export_onnx(model, 5, tmp_path / "appeal.onnx")
    assert onnx_parity(tmp_path / "appeal.onnx", model, features) < 1e-2
    assert np.corrcoef(model.predict(features), target)[0, 1] > 0.9
