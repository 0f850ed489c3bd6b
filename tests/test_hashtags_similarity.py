"""Image similarity in the hashtag engine, through a real `SimilarityModel` on a small real ONNX head.

The head keeps the first 4 embedding dimensions and L2-normalises them, so "beach" and "food" photos can
be given embeddings whose similarity is known exactly.
"""

from datetime import UTC, datetime, timedelta

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from core.records import Account, Post
from inference.analyzer import PhotoAnalysis
from inference.appeal import appeal_input_size
from inference.card import model_entry, update_card
from inference.encoder import EMBEDDING_SIZE
from inference.hashtags import HashtagEngine
from inference.similarity import SIMILARITY_FEATURE_NAMES, SIMILARITY_FEATURES_VERSION, SimilarityModel
from store import Store

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
DIMENSIONS = 4
BEACH, FOOD = 0, 1


def write_similarity_head(models_dir) -> None:
    weights = np.zeros((EMBEDDING_SIZE, DIMENSIONS), dtype=np.float32)
    weights[np.arange(DIMENSIONS), np.arange(DIMENSIONS)] = 1.0
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["embedding", "head"], ["projected"]),
            helper.make_node("LpNormalization", ["projected"], ["vector"], axis=1, p=2),
        ],
        "similarity_head",
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, EMBEDDING_SIZE])],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [None, DIMENSIONS])],
        [numpy_helper.from_array(weights, "head")],
    )
    path = models_dir / "similarity.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    update_card(
        {
            "similarity": model_entry(
                path,
                SIMILARITY_FEATURE_NAMES,
                SIMILARITY_FEATURES_VERSION,
                outputs={"vector": [-1, DIMENSIONS]},
                head="test-identity",
                input_size=appeal_input_size(),
            )
        },
        models_dir,
    )


def embedding(kind: int, wobble: float = 0.0) -> np.ndarray:
    vector = np.zeros(EMBEDDING_SIZE, dtype=np.float32)
    vector[kind] = 1.0
    vector[3] = wobble
    return vector


def photo_like(kind: int, similarity: SimilarityModel) -> PhotoAnalysis:
    emb = embedding(kind, 0.05)
    return PhotoAnalysis(
        sha256="draft",
        width=1080,
        height=1080,
        hand={},
        hand_vector=np.zeros(0, np.float32),
        embedding=emb,
        similarity_vector=similarity.project(emb)[0],
        appeal=50.0,
    )


@pytest.fixture
def similarity(tmp_path):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    write_similarity_head(models_dir)
    return SimilarityModel(models_dir)


def image_file(folder, name: str, colour: tuple[int, int, int]):
    path = folder / f"{name}.jpg"
    Image.new("RGB", (16, 16), colour).save(path)
    return path


def scene_account(tmp_path, handle: str, kind: int, tags, likes_pattern) -> Account:
    """An account whose posts all show one scene (a distinct image file each)."""
    posts = []
    for i, likes in enumerate(likes_pattern):
        image = image_file(tmp_path, f"{handle}{i}", (10 * i, 100 if kind == BEACH else 0, 200 if kind == FOOD else 0))
        posts.append(
            Post(f"{handle}-{i}", T0 - timedelta(days=i), likes, comments=0, hashtags=tuple(tags(i)), image_path=image)
        )
    return Account(handle, 1000, 10, len(posts), posts=tuple(posts), fetched_at=T0)


def cache_vectors(store: Store, engine: HashtagEngine, similarity: SimilarityModel, kinds: dict[str, int]) -> None:
    for post_id, sha, _ in store.accounts.posts_with_images():
        kind = kinds[sha]
        store.images.save_embedding(
            sha, engine.vector_version, similarity.project(embedding(kind, 0.01 * (post_id % 3)))[0]
        )


def build(tmp_path, store):
    """beachlife: #surfspot and #mixed posts do well; foodlife: its #mixed posts do badly."""
    beach = scene_account(
        tmp_path,
        "beachlife",
        BEACH,
        lambda i: ("surfspot", "mixed") if i % 2 else ("surfspot",),
        [200 if i % 2 else 100 for i in range(8)],
    )
    food = scene_account(
        tmp_path,
        "foodlife",
        FOOD,
        lambda i: ("brunchspot", "mixed") if i % 2 else ("brunchspot",),
        [50 if i % 2 else 100 for i in range(8)],
    )
    store.accounts.save(beach)
    store.accounts.save(food)
    kinds = {sha: BEACH if "surfspot" in tags else FOOD for _, sha, tags in store.accounts.posts_with_images()}
    me = Account(
        "me",
        500,
        10,
        3,
        posts=tuple(Post(f"me-{i}", T0 - timedelta(days=i), 40, 0, ("mine",)) for i in range(3)),
        fetched_at=T0,
    )
    store.accounts.save(me)
    return me, kinds


def test_a_tag_only_similar_images_use_is_suggested_for_a_photo_like_them(tmp_path, store, similarity):
    me, kinds = build(tmp_path, store)
    engine = HashtagEngine(store, similarity=similarity)
    cache_vectors(store, engine, similarity, kinds)
    with_photo = engine.suggest(me, photo_like(BEACH, similarity))
    tags = [s.tag for s in with_photo.suggestions]
    assert "surfspot" in tags and "brunchspot" not in tags
    surf = next(s for s in with_photo.suggestions if s.tag == "surfspot")
    assert surf.reason.startswith("posts like yours under #surfspot")
    assert "of the stored posts most like your photo" in surf.reason
    assert [s.tag for s in engine.suggest(me).suggestions] == ["mine"]  # no photo: no neighbours to find


def test_a_tag_on_more_of_the_posts_like_the_photo_fits_it_better(tmp_path, store, similarity):
    me, kinds = build(tmp_path, store)
    engine = HashtagEngine(store, similarity=similarity)
    cache_vectors(store, engine, similarity, kinds)
    context = engine.photo_context(photo_like(BEACH, similarity))
    assert context.similar_share["surfspot"] == pytest.approx(1.0)  # on every beach post
    assert 0.3 < context.similar_share["mixed"] < 0.7  # on every other one
    assert "brunchspot" not in context.similar_share
    advice = engine.suggest(me, photo_like(BEACH, similarity))
    fits = {s.tag: s.fit for s in advice.suggestions}
    assert fits["mine"] > fits["surfspot"] > fits["mixed"] > 0  # own habit first, then what photos like it use
    assert [s.tag for s in advice.suggestions] == ["mine", "surfspot", "mixed"]


def test_similarity_weights_judge_a_tag_by_the_posts_whose_images_look_like_the_photo(tmp_path, store, similarity):
    _me, kinds = build(tmp_path, store)
    engine = HashtagEngine(store, similarity=similarity)
    cache_vectors(store, engine, similarity, kinds)
    mixed_for = {}
    for kind in (BEACH, FOOD):
        scores = engine.score_tags(["mixed"], engine.photo_context(photo_like(kind, similarity)))
        mixed_for[kind] = scores["mixed"]
    unweighted = engine.score_tags(["mixed"])["mixed"]
    assert mixed_for[BEACH].lift > unweighted.lift > mixed_for[FOOD].lift
    assert mixed_for[BEACH].lift > 0 > mixed_for[FOOD].lift
    assert mixed_for[BEACH].similarity_weighted and not unweighted.similarity_weighted


def test_stored_vectors_are_cached_under_the_similarity_models_version(tmp_path, store, similarity):
    _me, kinds = build(tmp_path, store)
    engine = HashtagEngine(store, similarity=similarity)
    assert engine.vector_version.endswith(similarity.version)
    assert (
        engine.stored_vectors([sha for _, sha, _ in store.accounts.posts_with_images()]) == {}
    )  # no analyser: nothing to do
    cache_vectors(store, engine, similarity, kinds)
    vectors = engine.stored_vectors(sorted(kinds))
    assert len(vectors) == len(kinds) == 16
    assert all(np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5) for v in vectors.values())


def test_stored_vectors_read_every_cached_vector_in_one_query(tmp_path, store, similarity):
    _me, kinds = build(tmp_path, store)
    engine = HashtagEngine(store, similarity=similarity)
    cache_vectors(store, engine, similarity, kinds)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        vectors = engine.stored_vectors(sorted(kinds))
    finally:
        store.db.conn.set_trace_callback(None)
    assert len(vectors) == len(kinds) == 16
    assert sum("image_embeddings" in statement for statement in statements) == 1


def trained_image_models() -> bool:
    from inference.card import CARD_JSON, load_card

    return {"encoder", "appeal", "similarity"} <= set(load_card(CARD_JSON).get("models", {}))


@pytest.mark.skipif(not trained_image_models(), reason="needs the committed image models (likepredict train)")
def test_a_request_embeds_only_a_few_new_stored_photos_and_indexing_does_the_rest(tmp_path, store):
    from core.paths import DEMO_DATA, DEMO_SAMPLES
    from inference.analyzer import PhotoAnalyzer
    from scraping.datasets import read_accounts_jsonl

    demo = next(iter(read_accounts_jsonl(DEMO_DATA)))
    store.accounts.save(Account(demo.handle, demo.followers, demo.following, 6, posts=demo.posts[:6], fetched_at=T0))
    analyzer = PhotoAnalyzer()
    engine = HashtagEngine(store, similarity=analyzer.similarity, analyzer=analyzer, embed_budget=2)
    [photo] = analyzer.analyse([DEMO_SAMPLES / "sunset_beach.jpg"])
    advice = engine.suggest(store.accounts.get(demo.handle).account, photo)
    assert "compared with 2 of 6 stored photos so far" in advice.note
    assert engine.index_stored_images() == 6
    assert "stored photos so far" not in engine.suggest(store.accounts.get(demo.handle).account, photo).note


def sand_and_pasta(tmp_path, store, similarity) -> tuple[HashtagEngine, Account]:
    """me2 puts #sand on 3 beach photos and #pasta on 5 food photos (their cached vectors say so)."""
    build(tmp_path, store)
    mine = scene_account(tmp_path, "me2", BEACH, lambda i: ("sand",) if i < 3 else ("pasta",), [40] * 8)
    store.accounts.save(mine)
    engine = HashtagEngine(store, similarity=similarity)
    kinds = {
        sha: BEACH if {"surfspot", "sand"} & set(tags) else FOOD for _, sha, tags in store.accounts.posts_with_images()
    }
    cache_vectors(store, engine, similarity, kinds)
    me = store.accounts.get("me2").account
    return engine, me


def test_own_tags_count_by_how_alike_their_photos_are_to_this_one(tmp_path, store, similarity):
    engine, me = sand_and_pasta(tmp_path, store, similarity)
    plain = engine.suggest(me)
    assert [s.tag for s in plain.suggestions][:2] == ["pasta", "sand"]  # 5 uses against 3
    for_beach = {s.tag: s for s in engine.suggest(me, photo_like(BEACH, similarity)).suggestions}
    assert "you used it in 3 of your last 8 posts, all on photos like this one" in for_beach["sand"].reason
    assert (
        for_beach["sand"].fit > engine.candidates(me, engine.photo_context(photo_like(BEACH, similarity)))["pasta"].fit
    )


def test_a_tag_used_only_on_photos_unlike_this_one_is_not_suggested_for_it(tmp_path, store, similarity):
    engine, me = sand_and_pasta(tmp_path, store, similarity)
    context = engine.photo_context(photo_like(BEACH, similarity))
    assert engine.candidates(me, context)["pasta"].own_uses_like_photo == 0  # a candidate, but only on food photos
    for_beach = engine.suggest(me, photo_like(BEACH, similarity)).suggestions
    assert "pasta" not in [s.tag for s in for_beach] and "sand" in [s.tag for s in for_beach]
    assert not any("none of them on photos like this one" in s.reason for s in for_beach)
    assert "pasta" in [s.tag for s in engine.suggest(me).suggestions]  # without the photo it is still a habit


FOOD_TAGS = {"food", "foodie", "brunch", "homemade", "yummy", "coffee"}


@pytest.mark.skipif(not trained_image_models(), reason="needs the committed image models (likepredict train)")
def test_the_demo_accounts_beach_photo_gets_no_food_tags_it_used_only_on_other_photos(tmp_path, store):
    from core.paths import DEMO_DATA, DEMO_SAMPLES
    from inference.analyzer import PhotoAnalyzer
    from scraping.datasets import read_accounts_jsonl

    demo = next(a for a in read_accounts_jsonl(DEMO_DATA) if a.handle == "demo_creator")
    store.accounts.save(demo)
    analyzer = PhotoAnalyzer()
    engine = HashtagEngine(store, similarity=analyzer.similarity, analyzer=analyzer)
    engine.index_stored_images()
    [photo] = analyzer.analyse([DEMO_SAMPLES / "sunset_beach.jpg"])
    account = store.accounts.get(demo.handle).account
    own_food = {t for p in account.posts for t in p.hashtags} & FOOD_TAGS
    assert own_food  # the account does use food tags, on its food photos
    suggestions = engine.suggest(account, photo, n=30).suggestions
    assert not {s.tag for s in suggestions} & FOOD_TAGS
    assert not any("none of them on photos like this one" in s.reason for s in suggestions)
    assert {"beach", "sunset"} <= {s.tag for s in suggestions}
