"""The hashtag evaluation on tiny constructed data where recall and the lift split are known."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.records import Account, Post
from inference.hashtag_eval import (
    evaluate_hashtags,
    half_of,
    hold_out_newest,
    most_used_tags,
    split_halves,
)
from likepredict.hashtags import format_report

T0 = datetime(2017, 5, 1, 12, tzinfo=UTC)


def post(days_ago: int, likes: int, tags=()) -> Post:
    return Post(f"p{days_ago}-{likes}", T0 - timedelta(days=days_ago), likes, hashtags=tuple(tags))


def account(handle: str, *posts: Post) -> Account:
    return Account(handle, 1000, 10, len(posts), posts=posts)


def tiny_data() -> list[Account]:
    """a: history #x #y, hides [x, z]; b (#x #z twice) makes z a neighbour of x; b hides [w];
    c has one post (nothing to learn from); d hides a post without tags."""
    return [
        account("a", post(1, 100, ("x", "z")), post(5, 100, ("x", "y")), post(6, 100, ("x",))),
        account("b", post(1, 100, ("w",)), post(5, 150, ("x", "z")), post(6, 50, ("x", "z"))),
        account("c", post(1, 100, ("x",))),
        account("d", post(1, 100), post(4, 100, ("y",))),
    ]


def test_holding_out_hides_every_newest_post_and_keeps_the_rest():
    remaining, held_out = hold_out_newest(tiny_data())
    assert [len(a.posts) for a in remaining] == [2, 2, 0, 1]
    assert [(h.history.handle, sorted(h.tags)) for h in held_out] == [("a", ["x", "z"]), ("b", ["w"]), ("d", [])]


def test_recall_of_engine_and_baseline_on_data_where_it_is_known():
    metrics = evaluate_hashtags(tiny_data(), n=10)
    assert metrics["held_out_posts"] == 3 and metrics["held_out_posts_with_tags"] == 2
    # a: the engine adds z (2 posts shared with x) and finds both tags; the baseline has only x, y.
    # b: nobody could guess #w.
    assert metrics["engine_recall_at_10"] == pytest.approx(0.5)
    assert metrics["baseline_recall_at_10"] == pytest.approx(0.25)
    assert metrics["engine_hit_rate_at_10"] == pytest.approx(0.5)
    assert metrics["baseline_hit_rate_at_10"] == pytest.approx(0.5)
    assert metrics["posts_in_store"] == 5
    json.dumps(metrics)  # the --json output is this dict


def test_baseline_is_the_most_used_tags_ties_alphabetical():
    history = account("h", post(1, 1, ("b", "a")), post(2, 1, ("c", "a")), post(3, 1, ("b",)))
    assert most_used_tags(history, 2) == ["a", "b"]


def test_split_halves_compares_posts_above_and_below_the_median_score_leaving_ties_out():
    pairs = [(0.1, 0.5), (0.2, 0.7), (0.0, -0.1), (-0.1, -0.3), (0.05, 0.0)]
    split = split_halves(pairs)
    assert split["high_mean"] == pytest.approx(0.6) and split["low_mean"] == pytest.approx(-0.2)
    assert split["gap"] == pytest.approx(0.8) and (split["high_n"], split["low_n"]) == (2, 2)
    assert split_halves([])["gap"] is None


def test_report_table_names_engine_baseline_and_both_metrics():
    metrics = evaluate_hashtags(tiny_data(), n=10)
    text = format_report(metrics)
    assert "recall@10" in text and "baseline (most used tags)" in text and "gap (high - low)" in text
    assert "0.500" in text and "0.250" in text


def test_engine_lift_gap_is_positive_when_a_tag_really_brings_likes():
    """Every #good post gets twice its account's usual likes; half the accounts' newest posts use it."""
    accounts = []
    for i in range(8):
        newest_tags, newest_likes = (("good",), 200) if i % 2 else (("plain",), 100)
        history = [post(d, 200 if d % 3 == 0 else 100, ("good",) if d % 3 == 0 else ("plain",)) for d in range(2, 14)]
        accounts.append(account(f"acct{i}", post(1, newest_likes, newest_tags), *history))
    metrics = evaluate_hashtags(accounts, n=10)
    assert (metrics["engine_high_half_posts"], metrics["engine_low_half_posts"]) == (4, 4)
    # outcomes are against each account's median (100 likes): +100% for #good, 0 for #plain
    assert metrics["engine_lift_high_half"] == pytest.approx(1.0) and metrics["engine_lift_low_half"] == pytest.approx(
        0.0
    )
    assert metrics["engine_lift_gap"] == pytest.approx(1.0)


def test_bootstrap_interval_brackets_a_clear_gap_and_needs_a_few_posts():
    from inference.hashtag_eval import bootstrap_gap

    pairs = [(float(i), 1.0 + 0.01 * (i % 5)) for i in range(20)] + [(-float(i) - 1, 0.0) for i in range(20)]
    low, high = bootstrap_gap(pairs, draws=200)
    assert 0.5 < low <= split_halves(pairs)["gap"] <= high < 1.1
    assert bootstrap_gap(pairs[:3]) is None


def habits_and_a_flashy_tag() -> list[Account]:
    """Six accounts that reuse #mine on every post; #flashy does well on a stranger's posts but nobody reuses it."""
    accounts = [account(f"creator{i}", *(post(d, 100, ("mine", f"own{i}")) for d in range(1, 8))) for i in range(6)]
    flashy = [post(d, 300 if d % 2 else 100, ("flashy", "mine") if d % 2 else ("mine",)) for d in range(1, 12)]
    return accounts + [account("stranger", *flashy)]


def test_the_expected_value_ranking_finds_the_tags_people_reuse_where_lift_alone_does_not():
    metrics = evaluate_hashtags(habits_and_a_flashy_tag(), n=1)
    assert metrics["ranking"] == "expected"
    assert metrics["expected_ranking_recall_at_1"] == pytest.approx(0.5)  # #mine or #ownN: both used every time
    assert metrics["lift_ranking_recall_at_1"] == pytest.approx(1 / 14)  # #flashy is right only for the stranger
    assert metrics["engine_recall_at_1"] == metrics["expected_ranking_recall_at_1"]
    text = format_report(metrics)
    assert "fit x (1+lift)" in text and "lift alone" in text and "engine default ranking: expected" in text


def test_halves_split_accounts_by_a_stable_hash_and_measure_only_their_own_posts():
    handles = [f"acct{i}" for i in range(200)]
    halves = [half_of(h) for h in handles]
    assert set(halves) == {"a", "b"} and 60 < halves.count("a") < 140
    assert [half_of(h) for h in handles] == halves
    data = habits_and_a_flashy_tag()
    whole = evaluate_hashtags(data, n=1)
    parts = {half: evaluate_hashtags(data, n=1, half=half) for half in ("a", "b")}
    assert parts["a"]["held_out_posts"] + parts["b"]["held_out_posts"] == whole["held_out_posts"] == 7
    assert parts["a"]["posts_in_store"] == parts["b"]["posts_in_store"] == whole["posts_in_store"]
    in_a = sum(half_of(a.handle) == "a" for a in data)
    assert parts["a"]["held_out_posts"] == in_a and parts["a"]["half"] == "a"
    assert "accounts of half 'a'" in format_report(parts["a"])
    with pytest.raises(ValueError):
        evaluate_hashtags(data, half="c")


def test_candidate_recall_traces_the_hidden_tags_to_the_sources_that_brought_them():
    metrics = evaluate_hashtags(tiny_data(), n=10)
    # a hides [x, z]: x is its own, z new to it but next to #x on b's posts, and b's tags are like a's.
    # b hides [w], in no stored post: no source can bring it.
    assert metrics["candidate_recall"] == pytest.approx(0.5)
    assert metrics["candidate_recall_own"] == pytest.approx(0.25)
    assert metrics["candidate_recall_cooccurring"] == pytest.approx(0.25)
    assert metrics["candidate_recall_alike_accounts"] == pytest.approx(0.25)
    assert metrics["candidate_recall_concepts"] == 0.0 and metrics["candidate_recall_similar_posts"] == 0.0


def test_ceilings_widen_from_what_the_account_points_to_to_every_stored_tag():
    """a hides [x, q, v, w]: x is its own, q shares one post with #x (b's), v is only on c's posts, which have
    nothing of a's, and w is on no stored post at all."""
    data = [
        account("a", post(1, 100, ("x", "q", "v", "w")), post(5, 100, ("x", "y")), post(6, 100, ("x",))),
        account("b", post(1, 100), post(5, 100, ("x", "q"))),
        account("c", post(1, 100), post(5, 100, ("v", "u")), post(6, 100, ("v",))),
    ]
    metrics = evaluate_hashtags(data, n=10)
    assert metrics["held_out_posts_with_tags"] == 1
    assert metrics["baseline_recall_at_10"] == pytest.approx(0.25)
    assert metrics["oracle_widest_recall_at_10"] == pytest.approx(0.5)
    assert metrics["oracle_vocabulary_recall_at_10"] == pytest.approx(0.75)
    assert metrics["hidden_tags_in_no_stored_post"] == pytest.approx(0.25)
    assert metrics["oracle_vocabulary_recall_at_10_vs_baseline"] == pytest.approx(3.0)
    assert metrics["widest_candidates_per_post"] == 3  # x, y and q: nothing of c's
