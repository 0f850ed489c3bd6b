"""The Store verbs the hashtag engine reads: a tag's evidence and its co-occurrence neighbourhood."""

from datetime import UTC, datetime, timedelta

import pytest

from core.records import Account, Post

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def post(code: str, days_ago: float, likes: int, tags=(), comments=None) -> Post:
    return Post(code, T0 - timedelta(days=days_ago), likes, comments=comments, hashtags=tuple(tags))


def test_tag_evidence_takes_the_most_recent_posts_not_the_best_ones(store):
    posts = [post(f"p{i}", days_ago=i, likes=1000 * i, tags=("sea",)) for i in range(6)]
    store.accounts.save(Account("a", 100, 1, 6, posts=tuple(posts)))
    evidence = store.tags.evidence(["SEA", "nothing"], per_tag=3)
    assert [p.likes for p in evidence["sea"]] == [0, 1000, 2000]
    assert evidence["nothing"] == []


def test_tag_evidence_carries_each_account_mean_rate_over_all_its_posts(store):
    store.accounts.save(Account("a", 100, 1, 2, posts=(post("x", 1, 10, ("sea",), comments=2), post("y", 2, 30))))
    store.accounts.save(Account("b", 1000, 1, 1, posts=(post("z", 1, 50, ("sea",)),)))
    evidence = {p.handle: p for p in store.tags.evidence(["sea"])["sea"]}
    assert evidence["a"].account_mean_rate == pytest.approx((12 / 100 + 30 / 100) / 2)
    assert evidence["a"].comments == 2 and evidence["b"].comments == 0
    assert evidence["b"].account_mean_rate == pytest.approx(0.05)


def test_cooccurring_with_partner_names_the_strongest_partner_and_drops_one_off_pairs(store):
    posts = [
        post("1", 1, 1, ("beach", "sun")),
        post("2", 2, 1, ("beach", "sun")),
        post("3", 3, 1, ("sea", "sun")),
        post("4", 4, 1, ("beach", "once")),
        post("5", 5, 1, ("sea", "waves")),
        post("6", 6, 1, ("sea", "waves")),
    ]
    store.accounts.save(Account("a", 100, 1, 6, posts=tuple(posts)))
    rows = store.tags.cooccurring_with_partner(["beach", "sea"], limit=10, min_shared=2)
    assert rows == [("sun", 3, "beach", 2), ("waves", 2, "sea", 2)]
    assert ("once", 1, "beach", 1) in store.tags.cooccurring_with_partner(["beach"], limit=10)
    assert store.tags.cooccurring_with_partner([]) == []


def test_shared_post_counts_counts_posts_carrying_both_tags_per_pair(store):
    posts = [post("1", 1, 1, ("beach", "Sun")), post("2", 2, 1, ("beach", "sun", "sea")), post("3", 3, 1, ("sea",))]
    store.accounts.save(Account("a", 100, 1, 3, posts=tuple(posts)))
    counts = store.tags.shared_post_counts(["sun", "sea", "absent"], ["BEACH", "sea"])
    assert counts == {("sun", "beach"): 2, ("sun", "sea"): 1, ("sea", "beach"): 1}
    assert store.tags.shared_post_counts([], ["beach"]) == {} and store.tags.shared_post_counts(["sun"], []) == {}


def test_post_image_shas_maps_an_accounts_posts_with_photos_to_their_images(store, tmp_path):
    from PIL import Image

    photo = tmp_path / "p.jpg"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(photo)
    with_photo = Post("x", T0, 1, hashtags=("sea",), image_path=photo)
    store.accounts.save(Account("a", 100, 1, 2, posts=(with_photo, post("y", 1, 1))))
    store.accounts.save(Account("b", 100, 1, 1, posts=(Post("z", T0, 1, image_path=photo),)))
    shas = store.accounts.post_image_shas("a")
    assert list(shas) == ["x"] and store.images.path(shas["x"]).is_file()
    assert store.accounts.post_image_shas("nobody") == {}
