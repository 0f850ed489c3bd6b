"""The Predictor on the committed models: sane figures for any account size, honest notes, loud mismatches."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np
import pytest

from core.paths import DEMO_DATA, DEMO_HANDLE
from core.records import Post
from inference.card import MODELS_DIR
from inference.likes_image_features import PHOTO_TRAITS
from inference.onnx_model import ModelMismatchError
from inference.predictor import Predictor
from scraping.datasets import read_accounts_jsonl
from tests.likes_data import FETCHED_AT, synthetic_account

AT = FETCHED_AT + timedelta(hours=6)


@dataclass(frozen=True)
class Analysed:
    appeal: float
    hand: dict[str, float] = field(default_factory=lambda: {t: 0.0 for t in PHOTO_TRAITS})


@pytest.fixture(scope="module")
def predictor():
    return Predictor(MODELS_DIR)


def _account_with_likes(followers: int, likes: list[int]):
    base = synthetic_account(0, np.random.default_rng(2), followers=followers)
    posts = tuple(
        Post(f"p{i}", FETCHED_AT - timedelta(days=2 + 3 * i), likes=n, hashtags=("daily",)) for i, n in enumerate(likes)
    )
    return replace(base, followers=followers, posts=posts)


@pytest.mark.parametrize("followers,scale", [(10, 1), (10_000_000, 100_000)])
def test_prediction_stays_near_the_accounts_own_likes_for_tiny_and_huge_accounts(predictor, followers, scale):
    likes = [scale * n for n in (2, 3, 2, 4, 3, 2, 3, 5, 3, 2)]
    [prediction] = predictor.predict(_account_with_likes(followers, likes), [], at=AT)
    assert prediction.baseline_median == pytest.approx(np.median(likes))
    assert 0.33 * prediction.baseline_median <= prediction.likes <= 3 * prediction.baseline_median
    assert prediction.low <= prediction.likes <= prediction.high
    assert prediction.model_version.startswith("likes:")


def test_demo_account_gets_a_figure_per_photo_with_appeal_beside_it(predictor):
    account = next(a for a in read_accounts_jsonl(DEMO_DATA) if a.handle == DEMO_HANDLE)
    photos = [Analysed(30.0), Analysed(80.0)]
    predictions = predictor.predict(
        account, photos, at=account.fetched_at, hashtags=["#Beach", "sunset"], account_photos=[Analysed(50.0)] * 5
    )
    assert [p.appeal for p in predictions] == [30.0, 80.0]
    likes = sorted(p.likes for p in account.posts)
    for prediction in predictions:
        assert likes[0] / 3 <= prediction.likes <= likes[-1] * 3
        assert prediction.low <= prediction.likes <= prediction.high


def test_without_an_image_model_for_the_account_the_note_says_the_photo_effect_is_not_modelled(predictor):
    account = _account_with_likes(5000, [100, 120, 90, 110, 130])
    [prediction] = predictor.predict(account, [Analysed(90.0)], at=AT, account_photos=[Analysed(50.0)] * 5)
    assert not prediction.photo_effect_modelled
    assert "not modelled" in prediction.note
    assert prediction.appeal == 90.0


def test_an_account_without_posts_is_told_so(predictor):
    account = replace(_account_with_likes(500, [1]), posts=())
    [prediction] = predictor.predict(account, [Analysed(60.0)], at=AT)
    assert prediction.likes == 0 and "no earlier posts" in prediction.note
    assert prediction.appeal == 60.0


def _copy_models(tmp_path):
    card = json.loads((MODELS_DIR / "card.json").read_text())
    files = {e["file"] for n, e in card["models"].items() if n.startswith("likes")}
    files |= {card["models"]["likes"]["tag_popularity"]["file"], "card.json"}
    for name in files:
        shutil.copy(MODELS_DIR / name, tmp_path / name)
    return card


def test_a_card_whose_feature_schema_differs_fails_loudly(tmp_path):
    card = _copy_models(tmp_path)
    card["models"]["likes"]["feature_schema"]["names"][0] = "something_else"
    (tmp_path / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelMismatchError):
        Predictor(tmp_path)


def test_a_changed_tag_table_fails_loudly(tmp_path):
    card = _copy_models(tmp_path)
    path = tmp_path / card["models"]["likes"]["tag_popularity"]["file"]
    path.write_text(path.read_text().replace('"accounts": ', '"accounts": 1'))
    with pytest.raises(ModelMismatchError, match="sha256"):
        Predictor(tmp_path)


def test_predict_command_ranks_sample_photos_for_the_demo_account_offline(tmp_path, monkeypatch, capsys):
    from core.paths import DEMO_SAMPLES
    from likepredict.cli import main

    monkeypatch.setenv("LIKEPREDICT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIKEPREDICT_SOURCE", "demo")
    photos = sorted(DEMO_SAMPLES.glob("*.jpg"))[:2]
    assert main(["predict", *map(str, photos), "--handle", "@demo_creator", "--hashtags", "beach,sunset"]) == 0
    out = capsys.readouterr().out
    assert "@demo_creator" in out
    for photo in photos:
        assert f"{photo.name}: about " in out and "appeal " in out
    assert "Ranking: 1. " in out


def test_a_real_accounts_photo_moves_its_prediction_through_what_the_photo_shows(predictor):
    from core.paths import DEMO_SAMPLES
    from inference.analyzer import PhotoAnalyzer

    analyses = PhotoAnalyzer(MODELS_DIR).analyse(sorted(DEMO_SAMPLES.glob("*.jpg")))
    demo = next(a for a in read_accounts_jsonl(DEMO_DATA) if a.handle == DEMO_HANDLE)
    real = replace(demo, handle="someone_real")  # not one of the synthetic accounts
    predictions = predictor.predict(real, analyses, at=demo.fetched_at)
    assert all(p.photo_effect_modelled for p in predictions)
    assert "real 2019 posts" in predictions[0].note
    # photos showing different things get different figures, and differ from the photo-blind one
    assert len({round(p.likes, 6) for p in predictions}) > 1
    assert any(abs(p.likes - p.photo_blind_likes) > 1e-6 for p in predictions)


def test_photo_effect_is_not_applied_on_an_appeal_scale_it_was_not_trained_with(tmp_path):
    card = _copy_models(tmp_path)
    demo = next(a for a in read_accounts_jsonl(DEMO_DATA) if a.handle == DEMO_HANDLE)
    card["models"]["appeal"]["sha256"] = "f" * 64  # as if the appeal model had been retrained since
    (tmp_path / "card.json").write_text(json.dumps(card))
    [prediction] = Predictor(tmp_path).predict(
        demo, [Analysed(70.0)], at=demo.fetched_at, account_photos=[Analysed(50.0)] * 5
    )
    assert not prediction.photo_effect_modelled
    assert "appeal model changed" in prediction.note


@dataclass(frozen=True)
class WithConcepts:
    """An analysed photo as the concept detectors describe it."""

    appeal: float
    concepts: frozenset[str]
    width: int = 1080
    height: int = 1350


def test_the_photos_concepts_move_its_prediction_and_photo_blind_leaves_them_out(predictor):
    account = _account_with_likes(5000, [100, 120, 90, 110, 130, 100, 95])
    nature, people = WithConcepts(50.0, frozenset({"nature"})), WithConcepts(50.0, frozenset({"people", "closeup"}))
    shows_nature, shows_people = predictor.predict(account, [nature, people], at=AT)
    assert shows_nature.photo_blind_likes == pytest.approx(shows_people.photo_blind_likes)
    # the model weighs concepts together with everything else, so only the change is certain, not its sign
    assert shows_nature.likes != pytest.approx(shows_people.likes, rel=1e-4)
    assert shows_people.likes != pytest.approx(shows_people.nothing_shown_likes, rel=1e-4)
    assert shows_nature.photo_effect_modelled and shows_people.photo_effect_modelled


def test_a_concept_whose_detector_is_wrong_more_often_than_right_does_not_move_the_prediction(predictor):
    account = _account_with_likes(5000, [100, 120, 90, 110, 130, 100, 95])
    unreliable = sorted(set(predictor.concept_effects) - predictor.reliable_concepts)
    assert "text" in unreliable  # the committed card: text fired right on 3 of 11 held-out CLIVE photos
    shown, plain = predictor.predict(
        account, [WithConcepts(50.0, frozenset(unreliable)), WithConcepts(50.0, frozenset())], at=AT
    )
    assert shown.likes == pytest.approx(plain.likes) == pytest.approx(plain.nothing_shown_likes)
    assert shown.photo_effects == ()


def test_only_supported_effects_of_concepts_the_photo_shows_are_named(predictor):
    account = _account_with_likes(5000, [100, 120, 90, 110, 130, 100, 95])
    everything = frozenset(predictor.concept_effects)
    [prediction] = predictor.predict(account, [WithConcepts(50.0, everything)], at=AT)
    supported = {name for name, effect in predictor.concept_effects.items() if effect.supported}
    assert {effect.concept for effect in prediction.photo_effects} == supported & predictor.reliable_concepts
    for effect in prediction.photo_effects:
        assert effect.low <= effect.change <= effect.high
    [nothing] = predictor.predict(account, [WithConcepts(50.0, frozenset())], at=AT)
    assert nothing.photo_effects == ()


def test_a_photo_without_detected_concepts_is_predicted_photo_blind(predictor):
    account = _account_with_likes(5000, [100, 120, 90, 110, 130])
    [prediction] = predictor.predict(account, [Analysed(70.0)], at=AT, account_photos=[Analysed(50.0)] * 5)
    assert prediction.photo_blind_likes == pytest.approx(prediction.likes)
    assert prediction.photo_effects == ()
