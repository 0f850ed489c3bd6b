"""Tags of accounts with habits like this one's, and the in-memory tag graph the engine reads them from."""

from datetime import UTC, datetime, timedelta

import pytest

from core.records import Account, Post
from inference.hashtag_accounts import AccountProfiles, top_new_tags
from inference.hashtag_candidates import Candidate, candidate_sources, photo_supported
from inference.hashtag_index import TagIndex
from inference.hashtags import HashtagEngine

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def post(code: str, days_ago: float, tags: tuple[str, ...], likes: int = 100) -> Post:
    return Post(code, T0 - timedelta(days=days_ago), likes, hashtags=tags)


def account(handle: str, tag_sets: list[tuple[str, ...]]) -> Account:
    posts = tuple(post(f"{handle}-{i}", i + 1, tags, likes=100 + 10 * i) for i, tags in enumerate(tag_sets))
    return Account(handle, 1000, 100, len(posts), posts=posts, fetched_at=T0)


SURFER = account("surfer", [("surf", "beach")] * 4)
OTHER_SURFER = account("other_surfer", [("surf", "beach", "wave")] * 3 + [("wetsuit",)])
COOK = account("cook", [("food", "pasta")] * 4)


def test_the_accounts_most_alike_share_tag_habits_and_bring_the_tags_they_use_that_this_one_does_not():
    profiles = AccountProfiles.build(
        {"other_surfer": {"surf": 4, "beach": 3, "wave": 3}, "cook": {"food": 4, "pasta": 4}},
        {"other_surfer": 4, "cook": 4},
    )
    alike = profiles.similar_accounts({"surf": 1.0, "beach": 1.0}, exclude="surfer")
    assert [handle for handle, _ in alike] == ["other_surfer"]  # the cook shares no tag: not alike at all
    evidence = profiles.tag_evidence(alike)
    assert evidence["wave"].accounts == 1 and evidence["wave"].share == pytest.approx(0.75)
    assert top_new_tags(evidence, own={"surf", "beach"}, limit=5) == ["wave"]
    assert profiles.similar_accounts({"unknown": 1.0}, exclude="surfer") == []


def test_an_account_is_never_its_own_neighbour():
    profiles = AccountProfiles.build({"surfer": {"surf": 4}}, {"surfer": 4})
    assert profiles.similar_accounts({"surf": 1.0}, exclude="surfer") == []


def test_the_engine_offers_an_alike_accounts_tag_with_a_reason_saying_so(store):
    for stored in (SURFER, OTHER_SURFER, COOK):
        store.accounts.save(stored)
    engine = HashtagEngine(store)
    candidates = engine.candidates(SURFER)
    assert candidate_sources(candidates["wetsuit"]) == {"alike_accounts"}  # never on a post with the surfer's tags
    assert "food" not in candidates and "pasta" not in candidates
    advice = engine.suggest(SURFER, n=5)
    wetsuit = next(s for s in advice.suggestions if s.tag == "wetsuit")
    assert wetsuit.reason.endswith("used by 1 of the accounts whose tags are most like yours")


def test_with_the_photo_compared_a_tag_only_alike_accounts_use_needs_the_photos_support():
    compared_own = Candidate("surf", own_uses=2, own_uses_compared=2, own_uses_like_photo=2)
    habit_only = Candidate("wave", alike_accounts=3, alike_share=0.5)
    on_like_photos = Candidate("sea", alike_accounts=3, alike_share=0.5, similar_posts=2)
    kept = photo_supported({c.tag: c for c in (compared_own, habit_only, on_like_photos)})
    assert kept == {"surf", "sea"}
    # without any photo compared, the alike accounts' habit is evidence enough
    assert photo_supported({"wave": habit_only, "surf": Candidate("surf", own_uses=2)}) == {"wave", "surf"}


def test_the_in_memory_index_answers_as_the_stores_queries_do(store):
    for stored in (SURFER, OTHER_SURFER, COOK):
        store.accounts.save(stored)
    tags = store.tags
    index = TagIndex.build(tags.post_tags(), tags.account_post_counts(), tags.all_evidence())
    asked = ["surf", "beach", "wave", "food", "absent"]
    assert index.post_counts(asked) == tags.post_counts(asked)
    assert index.shared_post_counts(asked, ["surf", "food"]) == tags.shared_post_counts(asked, ["surf", "food"])
    assert index.cooccurring_with_partner(["surf"], 10, 1) == tags.cooccurring_with_partner(["surf"], 10, 1)
    assert index.evidence(asked, per_tag=2) == tags.evidence(asked, per_tag=2)


def test_the_engine_rebuilds_its_index_when_a_post_is_saved_again_with_other_tags(store):
    store.accounts.save(SURFER)
    engine = HashtagEngine(store)
    before = store.tags.fingerprint()
    assert "beach" in engine.tag_index().posts_by_tag
    newest = SURFER.posts[-1]  # the last saved: its tag rows are the newest, so their rowids are reused
    store.accounts.save(
        Account("surfer", 1000, 100, 4, posts=(Post(newest.shortcode, newest.taken_at, 1, hashtags=("surf", "kelp")),))
    )
    assert store.tags.fingerprint() != before
    assert "kelp" in engine.tag_index().posts_by_tag


def test_the_engine_sees_new_likes_of_the_last_saved_post_though_its_tags_and_their_rowids_are_the_same(store):
    store.accounts.save(SURFER)
    engine = HashtagEngine(store)
    before = engine.score_tags(["surf"])["surf"]
    newest = SURFER.posts[-1]  # the last saved: saved again with the same tags, its tag rows get the same rowids
    liked = Post(newest.shortcode, newest.taken_at, (newest.likes or 0) * 3, hashtags=newest.hashtags)
    store.accounts.save(Account("surfer", 1000, 100, 4, posts=(liked,), fetched_at=T0))
    after = engine.score_tags(["surf"])["surf"]
    assert after == HashtagEngine(store).score_tags(["surf"])["surf"]  # the kept engine answers as a fresh one
    assert after.raw_lift != before.raw_lift
