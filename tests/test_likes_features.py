"""The likes feature row: only the past, settled likes, tag scores learned from other accounts."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from core.records import Post
from inference.likes_features import (
    LIKES_FEATURE_NAMES,
    PostFacts,
    TagPopularity,
    at_times,
    fit_tag_popularity,
    likes_features,
    photo_blind,
)
from tests.likes_data import FETCHED_AT, synthetic_account

EMPTY = TagPopularity.empty()


def _account(seed: int = 1):
    return synthetic_account(0, np.random.default_rng(seed))


def _row(account, post_facts, popularity=EMPTY, fetched_at=FETCHED_AT):
    return likes_features(
        account.posts, account.followers, account.following, account.posts_count, post_facts, popularity, fetched_at
    )


def test_row_has_one_float32_value_per_feature_name():
    account = _account()
    row = _row(account, PostFacts(FETCHED_AT))
    assert row.features.shape == (len(LIKES_FEATURE_NAMES),)
    assert row.features.dtype == np.float32
    assert np.all(np.isfinite(row.features))


def test_posts_dated_after_the_predicted_post_do_not_change_its_row():
    account = _account()
    middle = sorted(account.posts, key=lambda p: p.taken_at)[8]
    before = _row(account, PostFacts.of(middle))
    viral = Post("later", middle.taken_at + timedelta(days=1), likes=10**7, hashtags=("daily",))
    after = _row(replace(account, posts=account.posts + (viral,)), PostFacts.of(middle))
    np.testing.assert_array_equal(before.features, after.features)
    assert before.n_previous == 8


def test_baseline_is_the_median_of_previous_posts():
    account = _account()
    row = _row(account, PostFacts(FETCHED_AT))
    assert row.baseline_median == pytest.approx(float(np.median([p.likes for p in account.posts])))


def test_posts_too_fresh_at_fetch_time_are_left_out_of_the_likes_statistics():
    account = _account()
    fresh = Post("fresh", FETCHED_AT - timedelta(hours=3), likes=1)
    with_fresh = replace(account, posts=account.posts + (fresh,))
    row = _row(with_fresh, PostFacts(FETCHED_AT + timedelta(hours=1)))
    assert row.n_previous == len(account.posts)
    days_since = LIKES_FEATURE_NAMES.index("log_days_since_last_post")
    assert row.features[days_since] == pytest.approx(
        math.log1p(4 / 24), rel=1e-4
    )  # the fresh post still counts as posted


def test_tag_popularity_scores_a_tag_that_lifts_likes_across_accounts_and_drops_single_account_tags():
    residuals = {f"a{i}": [(("lift", "common"), 0.5), (("common",), 0.0), ((f"own{i}",), 1.0)] for i in range(10)}
    table = fit_tag_popularity(residuals, shrinkage=5.0)
    assert table.scores["lift"] == pytest.approx(10 * 0.5 / 15)
    assert table.scores["common"] == pytest.approx(10 * 0.25 / 15)
    assert "own3" not in table.scores


def test_tag_features_use_the_table_and_unknown_tags_score_zero():
    account = _account()
    table = TagPopularity({"sunset": 0.4, "food": -0.2}, accounts=10)
    row = _row(account, PostFacts(FETCHED_AT, hashtags=("sunset", "food", "neverseen")), table)
    values = dict(zip(LIKES_FEATURE_NAMES, row.features))
    assert values["tag_popularity_mean"] == pytest.approx(0.1)
    assert values["tag_popularity_max"] == pytest.approx(0.4)
    assert values["known_tag_share"] == pytest.approx(2 / 3)


def test_tag_popularity_round_trips_through_json_and_refuses_a_changed_file(tmp_path):
    table = TagPopularity({"sunset": 0.25, "café": -0.125}, accounts=12)
    path = tmp_path / "tags.json"
    sha = table.save(path)
    assert TagPopularity.load(path, sha) == table
    path.write_text(path.read_text().replace("0.25", "0.3"))
    with pytest.raises(ValueError, match="sha256"):
        TagPopularity.load(path, sha)


def test_an_account_without_posts_gives_a_row_with_no_history():
    account = replace(_account(), posts=())
    row = _row(account, PostFacts(FETCHED_AT))
    assert row.n_previous == 0 and row.baseline_median == 0
    assert np.all(np.isfinite(row.features))


def _value(row, name):
    return float(row.features[LIKES_FEATURE_NAMES.index(name)])


def _timed_account(hour: int):
    account = _account()
    posts = tuple(replace(p, taken_at=p.taken_at.replace(hour=hour, minute=0)) for p in account.posts)
    return replace(account, posts=posts)


def test_the_hour_is_compared_with_the_accounts_usual_posting_hour():
    account = _timed_account(20)
    at = FETCHED_AT.replace(hour=8)
    row = _row(account, PostFacts(at))
    assert _value(row, "hour") == 8
    assert _value(row, "hours_from_usual") == pytest.approx(12.0, abs=0.01)
    assert _value(row, "usual_hour_share") == 0.0
    assert _value(_row(account, PostFacts(FETCHED_AT.replace(hour=21))), "usual_hour_share") == 1.0


def test_a_day_only_post_has_its_hour_features_unknown_but_keeps_its_weekday():
    row = _row(_timed_account(20), PostFacts(FETCHED_AT, time_known=False))
    assert _value(row, "time_known") == 0 and _value(row, "hour") == -1 and _value(row, "hours_from_usual") == -1
    assert _value(row, "weekday") == FETCHED_AT.weekday()


def test_concepts_are_shown_not_shown_or_unknown_and_photo_blind_makes_them_unknown():
    account = _account()
    shown = _row(account, PostFacts(FETCHED_AT, concepts=frozenset({"people"})))
    assert _value(shown, "concept_people") == 1 and _value(shown, "concept_food") == 0
    assert _value(shown, "concepts_known") == 1
    unknown = _row(account, PostFacts(FETCHED_AT))
    assert _value(unknown, "concept_people") == -1 and _value(unknown, "concepts_known") == 0
    np.testing.assert_array_equal(photo_blind(shown.features), unknown.features)


def test_a_prediction_is_for_settled_likes_and_a_training_row_for_the_age_they_were_counted_at():
    account = _account()
    assert _value(_row(account, PostFacts(FETCHED_AT)), "log_age_days") == pytest.approx(math.log1p(30), abs=1e-5)
    young = _row(account, PostFacts(FETCHED_AT, age_days=1.5))
    assert _value(young, "log_age_days") == pytest.approx(math.log1p(1.5), abs=1e-5)


def test_comments_per_like_come_from_the_accounts_previous_posts():
    account = _account()
    with_comments = replace(account, posts=tuple(replace(p, comments=p.likes // 10) for p in account.posts))
    row = _row(with_comments, PostFacts(FETCHED_AT))
    assert _value(row, "comments_known") == 1
    assert _value(row, "log_comments_per_like") == pytest.approx(math.log(0.1), abs=0.05)
    assert _value(_row(account, PostFacts(FETCHED_AT)), "comments_known") == 0


def test_moving_a_row_to_other_times_changes_only_its_time_features():
    account = _timed_account(20)
    row = _row(account, PostFacts(FETCHED_AT.replace(hour=20)))
    [moved] = at_times(row, [FETCHED_AT.replace(hour=8)])
    changed = {LIKES_FEATURE_NAMES[i] for i in np.flatnonzero(moved != row.features)}
    assert changed == {"hour", "hours_from_usual", "usual_hour_share"}
