"""The similarity head: learning a planted relation, the ONNX graph, training on data, the committed head."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from core.paths import DEMO_SAMPLES
from inference.card import load_card
from inference.encoder import EMBEDDING_SIZE, ImageEncoder
from inference.photo import decode_photo
from inference.similarity import SimilarityModel
from models.training.similarity import (
    DEFAULT_HEAD,
    Projection,
    export_head,
    fit_projection,
    jaccard_matrix,
    pair_spearman,
    projection_graph,
    split_posts,
    train_similarity,
)
from tests.image_fixtures import jpeg_bytes, models_dir_with_encoder


def planted_posts(count: int, seed: int) -> tuple[np.ndarray, list[frozenset[str]], np.ndarray]:
    """Embeddings whose hashtags depend only on a topic hidden in 12 of 1280 noisy dimensions."""
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, 4, size=count)
    embeddings = rng.uniform(0.0, 1.0, size=(count, EMBEDDING_SIZE))
    # A strong nuisance unrelated to the tags (think lighting) dominates raw cosine and the top components.
    embeddings[:, 100:106] += rng.uniform(0.0, 6.0, size=(count, 6))
    signal_dims = np.arange(12).reshape(4, 3)
    for row, topic in enumerate(topics):
        embeddings[row, signal_dims[topic]] += 1.5
    pools = [[f"topic{t}_tag{i}" for i in range(5)] for t in range(4)]
    tag_sets = [frozenset(rng.choice(pools[topic], size=3, replace=False)) for topic in topics]
    return embeddings, tag_sets, rng.integers(0, 10, size=count)


def test_jaccard_of_tag_sets():
    jaccard = jaccard_matrix([frozenset({"a", "b"}), frozenset({"b", "c"}), frozenset({"d"})])
    assert jaccard[0, 1] == pytest.approx(1 / 3) and jaccard[0, 2] == 0.0 and jaccard[1, 1] == 1.0


def test_a_learned_projection_finds_a_planted_relation_the_default_head_misses():
    embeddings, tag_sets, groups = planted_posts(200, seed=1)
    train, held, _ = split_posts(groups, seed=0)
    projection = fit_projection(embeddings[train], [tag_sets[i] for i in train], seed=0)
    held_jaccard = jaccard_matrix([tag_sets[i] for i in held])
    trained = pair_spearman(projection.apply(embeddings[held]), held_jaccard)
    default = pair_spearman(DEFAULT_HEAD.apply(embeddings[held]), held_jaccard)
    assert trained > 0.5 and trained > default + 0.2


def test_posts_are_held_out_by_whole_accounts():
    groups = np.repeat(np.arange(10), 5)
    train, held, how = split_posts(groups, seed=3)
    assert how == "by account" and not set(groups[train]) & set(groups[held]) and len(held) == 10


def test_the_onnx_graph_computes_the_projection():
    rng = np.random.default_rng(0)
    projection = Projection(
        rng.normal(size=EMBEDDING_SIZE),
        rng.uniform(0.5, 2.0, size=EMBEDDING_SIZE),
        rng.normal(size=(EMBEDDING_SIZE, 8)),
    )
    embeddings = rng.uniform(0, 3, size=(5, EMBEDDING_SIZE)).astype(np.float32)
    for head in (projection, DEFAULT_HEAD):
        session = ort.InferenceSession(projection_graph(head).SerializeToString(), providers=["CPUExecutionProvider"])
        vectors = session.run(None, {"embedding": embeddings})[0]
        np.testing.assert_allclose(vectors, head.apply(embeddings), atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_an_exported_trained_head_loads_and_projects(tmp_path):
    embeddings, tag_sets, _ = planted_posts(60, seed=2)
    projection = fit_projection(embeddings, tag_sets, seed=0, steps=20)
    export_head(projection, "trained", tmp_path, {}, {}, "test")
    model = SimilarityModel(tmp_path)
    assert model.head == "trained" and model.dimensions == projection.dimensions
    vectors = model.project(embeddings[:3])
    np.testing.assert_allclose(vectors, projection.apply(embeddings[:3]), atol=1e-4)
    np.testing.assert_allclose(model.similarity(vectors[0], vectors), vectors @ vectors[0], atol=1e-6)


def scene_dataset(folder: Path) -> Path:
    """A tiny data file: three accounts, two scenes (sea and forest), hashtags that follow the scene."""
    (folder / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    accounts = []
    for handle in ("alpha", "beta", "gamma"):
        posts = []
        for index in range(8):
            scene = "sea" if index % 2 else "forest"
            colour = (30, 90, 200) if scene == "sea" else (30, 140, 40)
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, size=(96, 128, 3)), 0, 255).astype(np.uint8)
            name = f"images/{handle}_{index}.jpg"
            Image.fromarray(pixels).save(folder / name, quality=90)
            tags = {"sea": ["sea", "blue", "waves"], "forest": ["forest", "green", "trees"]}[scene]
            posts.append(
                {
                    "shortcode": f"{handle}{index}",
                    "taken_at": f"2026-01-{index + 1:02d}T12:00:00+00:00",
                    "likes": 100,
                    "hashtags": list(rng.choice(tags, size=2, replace=False)),
                    "image": name,
                }
            )
        accounts.append({"handle": handle, "followers": 1000, "posts": posts})
    path = folder / "data.jsonl"
    path.write_text("\n".join(json.dumps(account) for account in accounts) + "\n", encoding="utf-8")
    return path


def test_training_on_data_exports_the_head_that_did_better_on_held_out_pairs(tmp_path):
    models_dir = models_dir_with_encoder(tmp_path / "models")
    entries = train_similarity(scene_dataset(tmp_path / "data"), models_dir, seed=0, log=lambda line: None)
    entry = load_card(models_dir / "card.json")["models"]["similarity"]
    assert entry == entries["similarity"]
    metrics = entry["metrics"]
    trained_won = metrics["held_out_spearman_trained_head"] > metrics["held_out_spearman_default_head"]
    assert entry["head"] == ("trained" if trained_won else "default")
    assert entry["data"]["posts_with_photo_and_tags"] == 24 and entry["data"]["split"] == "by post"
    model = SimilarityModel(models_dir)
    vectors = model.project(
        ImageEncoder(models_dir).encode([decode_photo(tmp_path / "data" / "images" / "alpha_0.jpg")]).embedding
    )
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)


def test_the_committed_head_finds_a_recompressed_copy_closer_than_another_photo():
    valley = Image.open(DEMO_SAMPLES / "valley.jpg").convert("RGB")
    photos = [
        decode_photo(DEMO_SAMPLES / "valley.jpg"),
        decode_photo(jpeg_bytes(valley.resize((700, 700)), quality=40)),
        decode_photo(DEMO_SAMPLES / "skyline.jpg"),
    ]
    model = SimilarityModel()
    vectors = model.project(ImageEncoder().encode(photos).embedding)
    similarity = model.similarity(vectors[0], vectors)
    assert similarity[0] == pytest.approx(1.0, abs=1e-5)
    assert similarity[1] > similarity[2]
