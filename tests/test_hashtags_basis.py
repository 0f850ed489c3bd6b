"""The per-account basis of the hashtag answer (`inference.hashtag_basis`): kept between photos, the answers
are the same as a fresh engine's, and a change of the store or of the account is seen.

Real store with the demo accounts, the committed image models and (when trained) the learned ranker.
"""

from dataclasses import replace
from datetime import timedelta

import pytest

from core.paths import DEMO_DATA, DEMO_HANDLE, DEMO_SAMPLES
from core.records import Account, Post
from inference.card import CARD_JSON, MODELS_DIR, load_card
from inference.hashtag_ranker import HashtagRanker
from inference.hashtags import HashtagEngine
from scraping.datasets import read_accounts_jsonl
from store import Store

pytestmark = pytest.mark.skipif(
    not {"encoder", "appeal", "similarity"} <= set(load_card(CARD_JSON).get("models", {})),
    reason="needs the committed image models (likepredict train)",
)


@pytest.fixture(scope="module")
def analyzer():
    from inference.analyzer import PhotoAnalyzer

    return PhotoAnalyzer()


@pytest.fixture(scope="module")
def photos(analyzer):
    return analyzer.analyse([DEMO_SAMPLES / "sunset_beach.jpg", DEMO_SAMPLES / "pancakes.jpg"])


def engine_on(store: Store, analyzer) -> HashtagEngine:
    ranker = HashtagRanker(MODELS_DIR) if HashtagRanker.available(MODELS_DIR) else None
    return HashtagEngine(store, similarity=analyzer.similarity, analyzer=analyzer, ranker=ranker)


@pytest.fixture
def demo_store(store: Store, analyzer) -> Store:
    for account in read_accounts_jsonl(DEMO_DATA):
        store.accounts.save(account)
    engine_on(store, analyzer).index_stored_images()
    return store


def demo_account(store: Store) -> Account:
    return store.accounts.get(DEMO_HANDLE).account


def test_answers_for_two_photos_from_one_engine_equal_a_fresh_engines(demo_store, analyzer, photos):
    engine, account = engine_on(demo_store, analyzer), demo_account(demo_store)
    kept = [engine.suggest(account, photo, n=30, concepts=frozenset({"water"})) for photo in photos]
    assert engine.basis(account) is engine.basis(account)  # the second photo used the first one's basis
    fresh = [engine_on(demo_store, analyzer).suggest(account, p, n=30, concepts=frozenset({"water"})) for p in photos]
    assert kept == fresh
    assert [s.tag for s in kept[0].suggestions] != [s.tag for s in kept[1].suggestions]  # the photos matter
    assert engine.suggest(account) == engine_on(demo_store, analyzer).suggest(account)


def test_a_change_of_the_stored_tags_or_of_the_account_is_seen(demo_store, analyzer, photos):
    engine, account = engine_on(demo_store, analyzer), demo_account(demo_store)
    before = engine.suggest(account, photos[0], n=30)
    basis = engine.basis(account)
    assert "kelpforest" not in engine.candidates(account)
    other = demo_store.accounts.get("sandy_toes").account
    newest = max(p.taken_at for p in other.posts)
    partner = sorted(basis.own_uses)[0]
    extra = tuple(
        Post(f"kelp{i}", newest + timedelta(hours=i + 1), 5000, hashtags=(partner, "kelpforest")) for i in range(3)
    )
    demo_store.accounts.save(replace(other, posts=(*extra, *other.posts)))
    after = engine.suggest(account, photos[0], n=30)
    assert engine.basis(account) is not basis
    assert "kelpforest" in engine.candidates(account)  # co-occurs with one of the account's tags now
    assert after == engine_on(demo_store, analyzer).suggest(account, photos[0], n=30) != before
    shorter = replace(account, posts=account.posts[1:])
    assert engine.basis(shorter) is not engine.basis(account)
    assert engine.suggest(shorter, photos[1]) == engine_on(demo_store, analyzer).suggest(shorter, photos[1])
