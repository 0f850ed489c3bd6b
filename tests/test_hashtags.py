"""The hashtag engine: scoring maths, choice rules, and rankings on constructed stores where the answer is known."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.records import Account, Post
from inference.hashtag_scoring import (
    DEFAULT_SHRINKAGE_POSTS,
    PRIOR_POSTS,
    EvidencePost,
    RankedTag,
    TagScore,
    combine_priors,
    cooccurrence_prior,
    estimate_shrinkage,
    expected_engagement,
    load_banned_tags,
    post_lift,
    rank_tags,
    score_tag,
    similarity_weights,
    tag_fit,
)
from inference.hashtags import HashtagEngine

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def post(code: str, days_ago: float, likes: int, tags=(), comments: int = 0) -> Post:
    return Post(code, T0 - timedelta(days=days_ago), likes, comments=comments, hashtags=tuple(tags))


def account(handle: str, followers: int, posts) -> Account:
    return Account(handle, followers, 100, len(posts), posts=tuple(posts), fetched_at=T0)


def neighbour(handle: str, tags_that_win=("winner",)) -> Account:
    """10 posts, all #usual: 4 also carry the winning tags and get 200 likes, the rest 100 (#meh)."""
    posts = [post(f"{handle}-w{i}", i, 200, ("usual", *tags_that_win)) for i in range(4)]
    posts += [post(f"{handle}-m{i}", 10 + i, 100, ("usual", "meh")) for i in range(6)]
    return account(handle, 1000, posts)


def creator(extra_posts=()) -> Account:
    posts = [post(f"me-{i}", 20 + i, 100, ("usual",)) for i in range(9)] + list(extra_posts)
    return account("me", 2000, posts)


def tags_of(advice) -> list[str]:
    return [s.tag for s in advice.suggestions]


# ---- the maths -----------------------------------------------------------------------------------


def test_one_lucky_post_is_shrunk_hard_and_many_consistent_posts_keep_most_of_their_lift():
    lucky = score_tag("lucky", [EvidencePost(rate=0.2, account_rate=0.1)])
    steady = score_tag("steady", [EvidencePost(rate=0.125, account_rate=0.1)] * 40)
    assert lucky.raw_lift == pytest.approx(1.0)
    assert lucky.lift == pytest.approx(1.0 / (1 + DEFAULT_SHRINKAGE_POSTS))
    assert steady.lift == pytest.approx(0.25 * 40 / (40 + DEFAULT_SHRINKAGE_POSTS))
    assert steady.lift > lucky.lift


def test_a_viral_post_counts_as_at_most_three_times_its_account_usual():
    assert post_lift(rate=1.0, account_rate=0.1) == pytest.approx(2.0)
    assert post_lift(rate=0.05, account_rate=0.1) == pytest.approx(-0.5)


def test_similarity_weights_move_the_mean_and_shrink_by_their_sum():
    posts = [EvidencePost(0.2, 0.1, weight=1.0), EvidencePost(0.05, 0.1, weight=0.0), EvidencePost(0.1, 0.1, 1.0)]
    score = score_tag("t", posts, k=2.0)
    assert score.raw_lift == pytest.approx(0.5)  # the zero-weight post (-50%) does not count
    assert score.effective_posts == pytest.approx(2.0) and score.posts_seen == 3
    assert score.lift == pytest.approx(0.5 * 2 / 4)


def test_a_tag_whose_posts_are_all_unlike_the_photo_is_shrunk_like_a_rare_tag():
    unlike = score_tag("t", [EvidencePost(0.2, 0.1, weight=0.1)] * 10)
    alike = score_tag("t", [EvidencePost(0.2, 0.1, weight=1.0)] * 10)
    assert unlike.raw_lift == alike.raw_lift == pytest.approx(1.0)
    assert unlike.lift == pytest.approx(1.0 / (1 + DEFAULT_SHRINKAGE_POSTS))
    assert alike.lift == pytest.approx(10 / (10 + DEFAULT_SHRINKAGE_POSTS))
    assert score_tag("t", [EvidencePost(0.2, 0.1, weight=0.0)] * 3) == TagScore("t", 0.0, 0.0, 3, 0.0)


def test_similarity_weights_count_from_the_typical_stored_photo_up():
    cosines = np.array([0.3, 0.35, 0.4, 0.4, 0.4, 0.4, 0.45, 0.5, 0.7, 1.0])
    weights = similarity_weights(cosines)
    assert weights[:6] == pytest.approx([0.0] * 6) and weights[-1] == pytest.approx(1.0)
    assert weights[8] == pytest.approx(0.5)
    assert similarity_weights(np.array([0.5, -0.2])) == pytest.approx([0.5, 0.0])  # too few for a quartile


def test_posts_of_accounts_without_engagement_are_ignored_and_no_evidence_scores_zero():
    assert score_tag("t", [EvidencePost(0.1, 0.0)]) == TagScore("t", 0.0, 0.0, 0, 0.0)
    assert score_tag("t", []).lift == 0.0


def test_estimated_shrinkage_matches_the_noise_to_signal_ratio_of_simulated_tags():
    rng = np.random.default_rng(7)
    tag_sd, post_sd = 0.2, 0.4  # true k = 0.16 / 0.04 = 4
    data = {f"t{i}": rng.normal(rng.normal(0, tag_sd), post_sd, size=20) for i in range(600)}
    assert estimate_shrinkage(data) == pytest.approx(4.0, rel=0.35)
    assert estimate_shrinkage({f"t{i}": [0.1, 0.1, 0.1] for i in range(5)}) is None  # no spread at all


def test_ranking_breaks_ties_by_posts_then_alphabet_and_drops_case_variants_and_blocked_tags():
    scores = [
        TagScore("b", 0.1, 0.1, 5, 5),
        TagScore("a", 0.1, 0.1, 5, 5),
        TagScore("c", 0.1, 0.1, 9, 9),
        TagScore("Top", 0.3, 0.3, 1, 1),
        TagScore("top", 0.3, 0.3, 1, 1),
        TagScore("l4l", 0.9, 0.9, 50, 50),
    ]
    ranked = rank_tags(scores, n=10, blocked={"L4L"})
    assert [s.tag for s in ranked] == ["Top", "c", "a", "b"]
    assert [s.tag for s in rank_tags(list(reversed(scores)), n=2, blocked={"l4l"})] == ["top", "c"]


def test_fit_is_the_share_of_recent_posts_smoothed_toward_the_prior():
    assert PRIOR_POSTS == 1.0
    assert tag_fit(uses=6, recent_posts=20, prior=0.0) == pytest.approx(6 / 21)
    assert tag_fit(uses=0, recent_posts=20, prior=0.5) == pytest.approx(0.5 / 21)
    assert tag_fit(uses=20, recent_posts=20, prior=1.0) == pytest.approx(1.0)
    assert tag_fit(uses=0, recent_posts=0, prior=0.3) == pytest.approx(0.3)  # no posts: the prior alone
    assert tag_fit(uses=2, recent_posts=4, prior=0.5, prior_posts=4.0) == pytest.approx((2 + 2) / 8)
    # one use in 20 posts outweighs any prior of a tag never used
    assert tag_fit(1, 20, prior=0.0) > tag_fit(0, 20, prior=1.0) * (1 - 1e-9)


def test_cooccurrence_prior_mixes_each_own_tags_neighbours_by_how_often_the_account_uses_it():
    uses = {"beach": 3, "food": 1}
    shared = {("sea", "beach"): 5, ("sea", "food"): 1, ("pasta", "food"): 4}
    posts_under = {"beach": 10, "food": 8}
    prior = cooccurrence_prior(uses, shared, posts_under)
    assert prior["sea"] == pytest.approx(0.75 * 5 / 10 + 0.25 * 1 / 8)
    assert prior["pasta"] == pytest.approx(0.25 * 4 / 8)
    assert cooccurrence_prior({}, shared, posts_under) == {}


def test_priors_from_two_sources_combine_as_either_one_leading_to_the_tag():
    assert combine_priors(0.5, 0.5) == pytest.approx(0.75)
    assert combine_priors(0.2) == pytest.approx(0.2) and combine_priors() == 0.0
    assert combine_priors(1.5, -1.0) == 1.0  # out-of-range chances are clipped


def test_expected_value_ranking_weighs_fit_against_lift():
    steady = RankedTag(TagScore("steady", 0.05, 0.05, 40, 40), fit=0.9)
    flashy = RankedTag(TagScore("flashy", 0.8, 0.8, 40, 40), fit=0.05)
    assert steady.expected_value == pytest.approx(0.9 * 1.05) and steady.tag == "steady" and steady.posts_seen == 40
    by_value = rank_tags([flashy, steady], n=2, key=lambda r: r.expected_value)
    assert [r.tag for r in by_value] == ["steady", "flashy"]
    assert [r.tag for r in rank_tags([steady, flashy], n=2, key=lambda r: r.score.lift)] == ["flashy", "steady"]


def test_expected_engagement_is_followers_times_rate_times_one_plus_mean_lift():
    engagement, rate = expected_engagement(2000, 0.05, [0.1, 0.3])
    assert rate == pytest.approx(0.05 * 1.2)
    assert engagement == pytest.approx(2000 * 0.06)
    assert expected_engagement(2000, 0.05, []) == (pytest.approx(100.0), pytest.approx(0.05))


def test_banned_list_holds_known_spam_tags_not_popular_ones_and_takes_extra_tags():
    banned = load_banned_tags(extra=["#MyBad ", ""])
    assert {"follow4follow", "like4like", "l4l", "f4f", "tagsforlikes", "mybad"} <= banned
    assert "instagood" not in banned and "" not in banned


# ---- the engine on constructed stores ---------------------------------------------------------------


def test_by_lift_alone_a_tag_whose_posts_clearly_out_perform_comes_first(store):
    for handle in ("n1", "n2", "n3", "n4", "n5"):
        store.accounts.save(neighbour(handle))
    me = creator()
    store.accounts.save(me)
    advice = HashtagEngine(store, ranking="lift").suggest(me)
    assert tags_of(advice)[0] == "winner"
    assert tags_of(advice).index("usual") < tags_of(advice).index("meh")
    winner = advice.suggestions[0]
    assert winner.posts_seen == 20 and winner.lift > 0.2
    assert "#winner get" in winner.reason and "more likes+comments" in winner.reason
    assert "used with your #usual on 20 posts" in winner.reason


def test_by_lift_alone_a_tag_seen_once_on_a_lucky_post_does_not_top_the_list(store):
    for handle in ("n1", "n2", "n3", "n4", "n5"):
        store.accounts.save(neighbour(handle))
    me = creator([post("me-lucky", 1, 900, ("usual", "lucky"))])
    store.accounts.save(me)
    advice = HashtagEngine(store, ranking="lift").suggest(me)
    lucky = next(s for s in advice.suggestions if s.tag == "lucky")
    assert tags_of(advice)[0] == "winner"
    assert lucky.posts_seen == 1 and 0 < lucky.lift < advice.suggestions[0].lift
    assert "1 post, so pulled toward 0" in lucky.reason and "you used it in 1 of your last 10 posts" in lucky.reason
    unshrunk = HashtagEngine(store, shrinkage=0.0, ranking="lift").suggest(me)
    assert tags_of(unshrunk)[0] == "lucky"  # what the shrinkage protects against


def test_a_tag_on_most_of_the_accounts_posts_beats_a_never_used_tag_with_a_big_lift(store):
    for handle in ("n1", "n2", "n3", "n4", "n5"):
        store.accounts.save(neighbour(handle))
    # my own #usual posts do a little better than my other posts
    me = creator([post(f"me-plain-{i}", 40 + i, 80) for i in range(3)])
    store.accounts.save(me)
    advice = HashtagEngine(store).suggest(me)
    usual, winner = (next(s for s in advice.suggestions if s.tag == t) for t in ("usual", "winner"))
    assert 0 < usual.lift < 0.1 < 0.2 < winner.lift
    assert tags_of(advice)[:2] == ["usual", "winner"]
    assert usual.fit == pytest.approx(9 / 13) and 0 < winner.fit < 1 / 13
    assert "you used it in 9 of your last 12 posts" in usual.reason
    assert tags_of(HashtagEngine(store, ranking="lift").suggest(me))[0] == "winner"  # what lift alone does


def test_a_tag_often_used_with_the_accounts_tags_beats_one_rarely_seen_with_them(store):
    # #close comes with #usual on all 8 posts; #far does better but is met with #usual on 2 of its 12 posts
    posts = [post(f"c{i}", i, 100, ("usual", "close")) for i in range(8)]
    posts += [post(f"f{i}", 10 + i, 100, ("usual", "far")) for i in range(2)]
    store.accounts.save(account("neighbour", 1000, posts))
    store.accounts.save(
        account("far_away", 1000, [post(f"x{i}", i, 150 if i < 10 else 100, ("far",)) for i in range(20)])
    )
    me = creator()
    store.accounts.save(me)
    advice = HashtagEngine(store).suggest(me)
    close, far = (next(s for s in advice.suggestions if s.tag == t) for t in ("close", "far"))
    assert far.lift > close.lift and close.fit > far.fit
    assert tags_of(advice) == ["usual", "close", "far"]
    assert tags_of(HashtagEngine(store, ranking="lift").suggest(me))[0] == "far"


def test_an_unknown_ranking_is_refused(store):
    with pytest.raises(ValueError):
        HashtagEngine(store, ranking="popularity")


def test_banned_and_excluded_tags_are_never_suggested_however_well_they_do(store):
    for handle in ("n1", "n2", "n3"):
        store.accounts.save(neighbour(handle, tags_that_win=("winner", "like4like", "sponsoredstuff")))
    me = creator()
    store.accounts.save(me)
    default = tags_of(HashtagEngine(store).suggest(me))
    assert "winner" in default and "sponsoredstuff" in default and "like4like" not in default
    chosen = tags_of(HashtagEngine(store, banned=["SponsoredStuff"], excluded=["#winner"]).suggest(me))
    assert not {"winner", "sponsoredstuff", "like4like"} & set(chosen) and "usual" in chosen


def test_case_variants_of_a_tag_are_one_suggestion(store):
    for handle in ("n1", "n2"):
        store.accounts.save(neighbour(handle))
    me = account("me", 2000, [post("a", 3, 100, ("Usual",)), post("b", 2, 100, ("USUAL", "usual"))])
    advice = HashtagEngine(store).suggest(me)
    assert [t.lower() for t in tags_of(advice)].count("usual") == 1


def test_ties_are_ordered_the_same_way_every_time(store):
    twin = [post(f"t-{i}", i, 100 + 50 * (i % 2), ("zeta", "alpha", "mid")) for i in range(8)]
    store.accounts.save(account("twins", 1000, twin))
    me = account("me", 500, [post("x", 1, 50, ("mid",))])
    first = HashtagEngine(store).suggest(me)
    scores = {s.tag: s.lift for s in first.suggestions}
    assert scores["alpha"] == pytest.approx(scores["zeta"])
    assert tags_of(first).index("alpha") < tags_of(first).index("zeta")
    assert all(tags_of(HashtagEngine(store).suggest(me)) == tags_of(first) for _ in range(3))


def test_the_count_is_respected_and_capped_at_instagrams_thirty(store):
    tags = [f"tag{i:02d}" for i in range(40)]
    store.accounts.save(account("big", 1000, [post(f"p{i}", i, 100 + i, tags) for i in range(3)]))
    me = account("me", 500, [post("x", 1, 50, tags)])
    assert len(HashtagEngine(store).suggest(me, n=5).suggestions) == 5
    assert len(HashtagEngine(store).suggest(me, n=100).suggestions) == 30


def test_an_account_with_no_hashtags_gets_no_tags_but_still_its_expected_engagement(store):
    for handle in ("n1", "n2"):
        store.accounts.save(neighbour(handle))
    me = account("me", 2000, [post(f"p{i}", i, 100, (), comments=10) for i in range(5)])
    advice = HashtagEngine(store).suggest(me)
    assert advice.suggestions == []
    assert advice.account_rate == pytest.approx(110 / 2000)
    assert advice.expected_engagement == pytest.approx(110.0)
    assert "5.50% average rate" in advice.note


def test_an_empty_store_still_offers_the_accounts_own_tags_without_claiming_a_lift(store):
    me = account("me", 2000, [post("a", 2, 100, ("beach", "sea")), post("b", 1, 120, ("beach",))])
    advice = HashtagEngine(store).suggest(me)
    assert tags_of(advice) == ["beach", "sea"]  # equal (zero) lift: ties go alphabetical
    assert all(s.lift == 0.0 and s.posts_seen == 0 for s in advice.suggestions)
    assert advice.suggestions[0].reason.startswith("no stored posts under #beach to judge it by yet")
    assert advice.expected_engagement == pytest.approx(110.0)


def test_an_account_without_posts_gets_an_explanation_instead_of_a_figure(store):
    advice = HashtagEngine(store).suggest(account("new", 300, []))
    assert advice.suggestions == [] and advice.expected_engagement == 0.0
    assert "No previous posts" in advice.note


# ---- beside the likes model --------------------------------------------------------------------


def likes_prediction(likes: float, low: float, high: float, baseline_median: float):
    from inference.predictor import LikesPrediction

    return LikesPrediction(
        likes=likes,
        low=low,
        high=high,
        appeal=None,
        baseline_median=baseline_median,
        photo_effect_modelled=False,
        note="",
        model_version="likes:test",
    )


def test_the_estimate_agrees_with_a_likes_prediction_whose_range_holds_it(store):
    me = account("me", 2000, [post(f"p{i}", i, 100, ("sea",), comments=10) for i in range(5)])
    advice = HashtagEngine(store).suggest(me, likes_prediction=likes_prediction(95, 80, 120, 100))
    assert advice.expected_engagement == pytest.approx(110.0)
    assert "about 100 of them likes, within the range the likes model predicts 95 likes (80-120)" in advice.note


def test_a_gap_to_the_likes_prediction_is_explained_not_left_silent(store):
    # one big hit makes the mean (280) far above the median (100) the likes model starts from
    posts = [post(f"p{i}", i, 100, ("sea",)) for i in range(4)] + [post("hit", 9, 1000, ("sea",))]
    me = account("me", 2000, posts)
    advice = HashtagEngine(store).suggest(me, likes_prediction=likes_prediction(105, 80, 140, 100))
    assert "above the range the likes model predicts 105 likes (80-140)" in advice.note
    assert "your average (280 likes; a few big hits pull it up)" in advice.note
    assert "your median (100)" in advice.note and "Trust the model for the count" in advice.note
