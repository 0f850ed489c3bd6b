"""The learned hashtag ranker: its features, the concept-tag table, training to a real ONNX file, and serving it."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.records import Account, Post
from inference.card import load_card, update_card
from inference.hashtag_candidates import Candidate
from inference.hashtag_concepts import concept_tags_from
from inference.hashtag_eval import evaluate_hashtags, ndcg, oracle_recall
from inference.hashtag_ranker import FEATURE_NAMES, HashtagRanker, RankerInputs, feature_matrix
from inference.hashtags import HashtagEngine
from inference.onnx_model import ModelMismatchError
from models.training.hashtag_ranker import train_hashtag_ranker

T0 = datetime(2019, 4, 1, 12, tzinfo=UTC)


def post(code: str, days_ago: float, tags=(), concepts=None, likes: int = 100) -> Post:
    return Post(
        code,
        T0 - timedelta(days=days_ago),
        likes,
        comments=0,
        hashtags=tuple(tags),
        image_concepts=None if concepts is None else tuple(concepts),
    )


def feature(tags: list[str], matrix: np.ndarray, tag: str, name: str) -> float:
    return float(matrix[tags.index(tag), FEATURE_NAMES.index(name)])


def test_features_say_how_often_and_how_recently_the_account_used_each_tag():
    recent = [post("p0", 0, ("new",)), post("p1", 1, ("old", "new")), post("p2", 2, ("old",)), post("p3", 3, ("old",))]
    candidates = {"new": Candidate("new", own_uses=2), "old": Candidate("old", own_uses=3), "far": Candidate("far")}
    tags, matrix = feature_matrix(RankerInputs(recent, candidates, {}, {"far": 9, "old": 5}, {"far": 0.5}))
    assert tags == ["far", "new", "old"] and matrix.shape == (3, len(FEATURE_NAMES))
    assert feature(tags, matrix, "old", "own_share") == pytest.approx(0.75)
    assert feature(tags, matrix, "new", "recency_share") > feature(tags, matrix, "old", "recency_share")
    assert feature(tags, matrix, "new", "used_last_post") == 1.0 and feature(tags, matrix, "old", "used_last_post") == 0
    assert feature(tags, matrix, "old", "posts_since_last_use_log") == pytest.approx(np.log1p(1))
    assert feature(tags, matrix, "far", "never_used") == 1.0
    assert feature(tags, matrix, "far", "others_posts_log") == pytest.approx(np.log1p(9))
    assert feature(tags, matrix, "old", "others_posts_log") == pytest.approx(np.log1p(5 - 3))  # own uses left out
    assert feature(tags, matrix, "far", "store_cooccurrence_last_post") == 0.5
    assert feature(tags, matrix, "old", "concepts_known") == 0.0


def test_concept_features_weigh_the_accounts_posts_by_how_much_they_show_what_the_photo_shows():
    recent = [
        post("b", 0, ("sand",), ["beach"]),
        post("f", 1, ("pasta",), ["food"]),
        post("f2", 2, ("pasta",), ["food"]),
    ]
    candidates = {"sand": Candidate("sand", own_uses=1), "pasta": Candidate("pasta", own_uses=2)}
    tags, matrix = feature_matrix(RankerInputs(recent, candidates, {}, {}, {}, concepts=frozenset({"water"})))
    assert feature(tags, matrix, "sand", "concept_own_share") == 1.0
    assert feature(tags, matrix, "pasta", "concept_own_share") == 0.0
    assert feature(tags, matrix, "pasta", "own_share") > feature(tags, matrix, "sand", "own_share")


def concept_accounts() -> list[Account]:
    """Beach photos carry #sea, food photos #pasta; #daily goes on everything."""
    posts = [post(f"s{i}", i, ("sea", "daily"), ["beach", "outdoor"]) for i in range(6)]
    posts += [post(f"f{i}", 10 + i, ("pasta", "daily"), ["food"]) for i in range(6)]
    return [Account("mixed", 1000, 10, len(posts), posts=tuple(posts))]


def test_the_concept_table_associates_a_tag_with_the_concepts_its_photos_show():
    table = concept_tags_from(concept_accounts())
    assert table.association({"water"}, "sea") > 0.5
    assert table.association({"water"}, "pasta") == 0.0  # never on such photos
    assert table.association({"water"}, "daily") < table.association({"water"}, "sea")  # everywhere: no lift
    assert table.top_tags({"food"}, 3) == ["pasta"]
    assert table.strongest({"water", "food"}, "sea") == (table.association({"water"}, "sea"), "water")
    assert json.loads(table.to_json())["concept_posts"]["food"] == 6


def test_photo_concepts_bring_the_tags_other_accounts_use_on_such_photos_with_a_reason(store):
    for account in concept_accounts():
        store.accounts.save(account)
    me = Account("me", 500, 10, 2, posts=(post("m0", 1, ("mine",)), post("m1", 2, ("mine",))))
    store.accounts.save(me)
    engine = HashtagEngine(store, concept_tags=concept_tags_from(concept_accounts()))
    advice = engine.suggest(me, concepts=frozenset({"water"}))
    by_tag = {s.tag: s for s in advice.suggestions}
    assert "sea" in by_tag and "pasta" not in by_tag
    assert by_tag["sea"].reason.endswith("often on other accounts' photos showing water, as yours does")
    assert "sea" not in {s.tag for s in engine.suggest(me).suggestions}  # nothing known about the photo


def test_ndcg_rewards_hits_near_the_top_and_the_oracle_is_the_ceiling_of_any_order():
    assert ndcg(["a", "b", "x"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert 0 < ndcg(["x", "a", "b"], {"a", "b"}, 10) < 1.0
    assert ndcg(["x"], {"a"}, 10) == 0.0
    assert oracle_recall(["a", "x", "y"], {"a", "b"}, 10) == 0.5
    assert oracle_recall(["a", "b"], {"a", "b"}, 1) == 0.5


def habit_accounts(year: int, count: int = 24) -> list[Account]:
    """Accounts that reuse their newest tag (#fresh_i) and drop a tag they used often long ago (#stale_i)."""
    accounts = []
    for i in range(count):
        posts = [post(f"{year}-{i}-new{d}", d, (f"fresh{i}",), ["food"] if year == 2019 else None) for d in range(3)]
        posts += [post(f"{year}-{i}-old{d}", 10 + d, (f"stale{i}", "common")) for d in range(8)]
        accounts.append(Account(f"acct{i}", 1000, 10, len(posts), posts=tuple(posts)))
    return accounts


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("models")
    years = {"influencers-2017": habit_accounts(2017), "influencers-2019": habit_accounts(2019)}
    entries = train_hashtag_ranker(years, models_dir, 7, {y: y + ".jsonl" for y in years}, log=lambda _: None)
    update_card(entries, models_dir)
    return models_dir, years


def test_training_writes_the_onnx_ranker_with_its_schema_and_both_years_metrics_in_the_card(trained):
    models_dir, _ = trained
    entry = load_card(models_dir / "card.json")["models"]["hashtag_ranker"]
    assert (models_dir / entry["file"]).is_file() and entry["feature_schema"]["names"] == list(FEATURE_NAMES)
    assert entry["data"]["half"] == "a" and entry["concept_tags"]["file"] == "hashtag_concepts.json"
    for year in ("influencers-2017", "influencers-2019"):
        metrics = entry["metrics"][year]
        assert {"engine_recall_at_10", "lift_ranking_recall_at_10", "baseline_recall_at_10"} <= set(metrics)


def test_the_served_ranker_prefers_what_the_account_uses_now_over_what_it_used_most(trained):
    models_dir, years = trained
    ranker = HashtagRanker(models_dir)
    metrics = evaluate_hashtags(years["influencers-2017"], n=1, half="b", ranker=ranker)
    assert metrics["ranking"] == "learned" and metrics["ranker_trained_on_half"] == "a"
    assert metrics["ranker_measured_on_its_training_accounts"] is False
    assert metrics["engine_recall_at_1"] == 1.0  # the newest habit, #fresh_i
    assert metrics["baseline_recall_at_1"] == 0.0  # the most used, #stale_i


def test_a_ranker_whose_schema_differs_from_the_features_fails_loudly(trained, tmp_path):
    models_dir, _ = trained
    card = load_card(models_dir / "card.json")
    card["models"]["hashtag_ranker"]["feature_schema"]["names"] = ["own_share"]
    with pytest.raises(ModelMismatchError):
        HashtagRanker(models_dir, card=card)


def test_measuring_the_ranker_on_its_own_training_half_is_flagged(trained):
    models_dir, years = trained
    metrics = evaluate_hashtags(years["influencers-2017"], half="a", ranker=HashtagRanker(models_dir))
    assert metrics["ranker_measured_on_its_training_accounts"] is True
