"""The similarity head: learn a projection so that cosine follows hashtag overlap, or keep the default head.

Posts that have both a photo and hashtags give pairs (photo a, photo b, Jaccard of their tag sets). A linear
projection W of the centred embedding (through its top principal components) is fitted by gradient
descent (Adam) on the mean of (cos(W a, W b) - jaccard)^2 over pairs of training posts. Posts are split by account (by post when there
are fewer than `MIN_ACCOUNTS_FOR_ACCOUNT_SPLIT` accounts); both heads are judged by the Spearman correlation
between cosine and Jaccard over pairs of held-out posts. The trained head is shipped only if it beats the
default head (the normalised pretrained embedding) there; the card records which and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from scipy.stats import spearmanr

from core.progress import progress
from inference.appeal import appeal_input_size
from inference.card import MODELS_DIR, model_entry, update_card
from inference.encoder import EMBEDDING_SIZE, ImageEncoder
from inference.photo import PhotoError, decode_photo
from inference.similarity import SIMILARITY_FEATURE_NAMES, SIMILARITY_FEATURES_VERSION
from scraping.datasets import DatasetError, read_any

SIMILARITY_FILE = "similarity.onnx"
PROJECTION_DIMENSIONS = 32
PRINCIPAL_COMPONENTS = 64
STEPS = 200
LEARNING_RATE = 0.01
WEIGHT_DECAY = 1e-4
HELD_OUT_FRACTION = 0.2
MIN_ACCOUNTS_FOR_ACCOUNT_SPLIT = 5
MIN_POSTS = 12
MIN_HELD_OUT_POSTS = 4
# Posts per gradient step: all pairs of a batch of this many posts (bounded memory on large folders).
BATCH_POSTS = 400
ENCODE_BATCH = 8
Log = Callable[[str], None]


@dataclass(frozen=True)
class Projection:
    """y = normalise(((x - mean) / scale) @ weights); the default head is mean 0, scale 1, no weights."""

    mean: np.ndarray  # (1280,)
    scale: np.ndarray  # (1280,)
    weights: np.ndarray | None  # (1280, d)

    def apply(self, embeddings: np.ndarray) -> np.ndarray:
        projected = (np.asarray(embeddings, dtype=np.float64) - self.mean) / self.scale
        if self.weights is not None:
            projected = projected @ self.weights
        return normalise_rows(projected)

    @property
    def dimensions(self) -> int:
        return EMBEDDING_SIZE if self.weights is None else self.weights.shape[1]


DEFAULT_HEAD = Projection(np.zeros(EMBEDDING_SIZE), np.ones(EMBEDDING_SIZE), None)


# ---- maths (pure) -----------------------------------------------------------------------------------


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def jaccard_matrix(tag_sets: Sequence[frozenset[str]]) -> np.ndarray:
    """(n, n) Jaccard overlap of the tag sets (0 where both are empty)."""
    vocabulary = {tag: i for i, tag in enumerate(sorted(set().union(*tag_sets)))}
    indicator = np.zeros((len(tag_sets), max(1, len(vocabulary))))
    for row, tags in enumerate(tag_sets):
        indicator[row, [vocabulary[tag] for tag in tags]] = 1.0
    shared = indicator @ indicator.T
    sizes = indicator.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - shared
    return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)


def pair_spearman(vectors: np.ndarray, jaccard: np.ndarray) -> float:
    """Spearman correlation between the cosine of unit `vectors` and `jaccard`, over all distinct pairs."""
    upper = np.triu_indices(len(vectors), k=1)
    cosine = (vectors @ vectors.T)[upper]
    if np.ptp(cosine) == 0 or np.ptp(jaccard[upper]) == 0:
        return float("nan")
    return float(spearmanr(cosine, jaccard[upper])[0])


def fit_projection(
    embeddings: np.ndarray,
    tag_sets: Sequence[frozenset[str]],
    seed: int = 0,
    dimensions: int = PROJECTION_DIMENSIONS,
    steps: int = STEPS,
) -> Projection:
    """A projection whose cosine approximates the Jaccard overlap of `tag_sets`.

    The centred embeddings are first reduced to their top principal components (at most a third of the
    posts, so a few hundred posts cannot fit 1280 free directions), then a linear map starting at the
    first `dimensions` components is fitted by Adam on the squared error between cosine and Jaccard.
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    mean = embeddings.mean(axis=0)
    centred = embeddings - mean
    kept = max(2, min(PRINCIPAL_COMPONENTS, len(embeddings) // 3))
    components = np.linalg.svd(centred, full_matrices=False)[2][:kept].T  # (1280, kept)
    reduced = centred @ components
    jaccard = jaccard_matrix(tag_sets)
    rng = np.random.default_rng(seed)
    weights = np.eye(kept)[:, : min(dimensions, kept)]
    first_moment, second_moment = np.zeros_like(weights), np.zeros_like(weights)
    for step in range(1, steps + 1):
        batch = rng.choice(len(reduced), size=min(BATCH_POSTS, len(reduced)), replace=False)
        gradient = _loss_gradient(weights, reduced[batch], jaccard[np.ix_(batch, batch)]) + WEIGHT_DECAY * weights
        first_moment = 0.9 * first_moment + 0.1 * gradient
        second_moment = 0.999 * second_moment + 0.001 * gradient**2
        corrected = first_moment / (1 - 0.9**step) / (np.sqrt(second_moment / (1 - 0.999**step)) + 1e-8)
        weights -= LEARNING_RATE * corrected
    return Projection(mean, np.ones_like(mean), components @ weights)


def _loss_gradient(weights: np.ndarray, inputs: np.ndarray, jaccard: np.ndarray) -> np.ndarray:
    """Gradient in `weights` of the mean over distinct pairs of (cos - jaccard)^2."""
    projected = inputs @ weights
    norms = np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-12)
    unit = projected / norms
    pairs = len(inputs) * (len(inputs) - 1)  # ordered pairs; the matrix is symmetric
    residual = (unit @ unit.T - jaccard) * (2.0 / pairs)
    np.fill_diagonal(residual, 0.0)
    d_unit = 2.0 * residual @ unit
    d_projected = (d_unit - unit * np.sum(d_unit * unit, axis=1, keepdims=True)) / norms
    return inputs.T @ d_projected


# ---- export -------------------------------------------------------------------------------------------


def projection_graph(projection: Projection) -> onnx.ModelProto:
    """ONNX: (n, 1280) embeddings -> (n, d) unit vectors."""
    nodes, initializers = [], []
    current = "embedding"
    if projection.weights is not None:
        initializers += [
            numpy_helper.from_array(projection.mean.astype(np.float32), "mean"),
            numpy_helper.from_array(projection.scale.astype(np.float32), "scale"),
            numpy_helper.from_array(projection.weights.astype(np.float32), "weights"),
        ]
        nodes += [
            helper.make_node("Sub", [current, "mean"], ["centred"]),
            helper.make_node("Div", ["centred", "scale"], ["standardised"]),
            helper.make_node("MatMul", ["standardised", "weights"], ["projected"]),
        ]
        current = "projected"
    initializers.append(numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "epsilon"))
    nodes += [
        helper.make_node("ReduceL2", [current], ["norm"], axes=[1], keepdims=1),
        helper.make_node("Max", ["norm", "epsilon"], ["safe_norm"]),
        helper.make_node("Div", [current, "safe_norm"], ["vector"]),
    ]
    graph = helper.make_graph(
        nodes,
        "similarity_head",
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, EMBEDDING_SIZE])],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [None, projection.dimensions])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="likepredict")
    onnx.checker.check_model(model)
    return model


def export_head(
    projection: Projection, head: str, models_dir: Path, metrics: dict[str, Any], data: dict[str, Any], notes: str
) -> dict[str, dict[str, Any]]:
    path = models_dir / SIMILARITY_FILE
    path.write_bytes(projection_graph(projection).SerializeToString())
    entry = model_entry(
        path,
        SIMILARITY_FEATURE_NAMES,
        SIMILARITY_FEATURES_VERSION,
        metrics=metrics,
        data=data,
        notes=notes,
        head=head,
        outputs={"vector": [-1, projection.dimensions]},
        input_size=appeal_input_size(models_dir),
    )
    update_card({"similarity": entry}, models_dir)
    return {"similarity": entry}


def export_default_head(
    models_dir: Path = MODELS_DIR, reason: str = "no training data given"
) -> dict[str, dict[str, Any]]:
    return export_head(DEFAULT_HEAD, "default", models_dir, {}, {}, f"normalised pretrained embedding ({reason})")


# ---- training -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaggedPhotos:
    embeddings: np.ndarray  # (n, 1280)
    tag_sets: list[frozenset[str]]
    groups: np.ndarray  # account index per post


def load_tagged_photos(data_path: Path, encoder: ImageEncoder, input_size: int) -> TaggedPhotos:
    """Embeddings and tag sets of every post with a readable photo and at least one hashtag."""
    posts = [
        (index, post)
        for index, account in enumerate(read_any(data_path))
        for post in account.posts
        if post.image_path is not None and post.hashtags and Path(post.image_path).is_file()
    ]
    kept, embeddings = [], []
    batches = [posts[start : start + ENCODE_BATCH] for start in range(0, len(posts), ENCODE_BATCH)]
    for batch in progress(batches, "similarity: embedding photos", total=len(batches)):
        decoded = []
        for account_index, post in batch:
            try:
                decoded.append(decode_photo(post.image_path, encoder_size=input_size))  # type: ignore[arg-type]
                kept.append((account_index, post))
            except PhotoError:
                continue  # a broken photo in a scraped folder is skipped, not fatal
        if decoded:
            embeddings.append(encoder.encode(decoded).embedding)
    if len(kept) < MIN_POSTS:
        raise DatasetError(
            f"{data_path}: needs at least {MIN_POSTS} posts with a photo and hashtags, found {len(kept)}"
        )
    return TaggedPhotos(
        np.concatenate(embeddings),
        [frozenset(post.hashtags) for _, post in kept],
        np.array([account_index for account_index, _ in kept]),
    )


def split_posts(
    groups: np.ndarray, seed: int, fraction: float = HELD_OUT_FRACTION
) -> tuple[np.ndarray, np.ndarray, str]:
    """Train and held-out post indices: whole accounts held out where there are enough accounts."""
    rng = np.random.default_rng(seed)
    accounts = np.unique(groups)
    if len(accounts) >= MIN_ACCOUNTS_FOR_ACCOUNT_SPLIT:
        held_accounts = rng.permutation(accounts)[: max(1, round(len(accounts) * fraction))]
        held = np.isin(groups, held_accounts)
        return np.flatnonzero(~held), np.flatnonzero(held), "by account"
    order = rng.permutation(len(groups))
    count = max(MIN_HELD_OUT_POSTS, round(len(groups) * fraction))
    return np.sort(order[count:]), np.sort(order[:count]), "by post"


def train_similarity(
    data_path: Path, models_dir: Path = MODELS_DIR, seed: int = 0, log: Log = print
) -> dict[str, dict[str, Any]]:
    """Fit a projection on `data_path`, compare it with the default head on held-out pairs, export the better."""
    data_path = Path(data_path)
    photos = load_tagged_photos(data_path, ImageEncoder(models_dir), appeal_input_size(models_dir))
    train_rows, test_rows, split = split_posts(photos.groups, seed)
    projection = fit_projection(photos.embeddings[train_rows], [photos.tag_sets[i] for i in train_rows], seed)
    held_jaccard = jaccard_matrix([photos.tag_sets[i] for i in test_rows])
    trained = pair_spearman(projection.apply(photos.embeddings[test_rows]), held_jaccard)
    default = pair_spearman(DEFAULT_HEAD.apply(photos.embeddings[test_rows]), held_jaccard)
    use_trained = bool(np.isfinite(trained) and (not np.isfinite(default) or trained > default))
    # JSON has no NaN: a figure that cannot be computed (no varied pairs) is recorded as null.
    metrics = {
        "held_out_spearman_trained_head": trained if np.isfinite(trained) else None,
        "held_out_spearman_default_head": default if np.isfinite(default) else None,
        "held_out_pairs": len(test_rows) * (len(test_rows) - 1) // 2,
    }
    data = {
        "source": data_path.name,
        "posts_with_photo_and_tags": len(photos.tag_sets),
        "train_posts": len(train_rows),
        "held_out_posts": len(test_rows),
        "split": split,
        "seed": seed,
    }
    verdict = (
        f"trained head kept: held-out Spearman(cosine, Jaccard) {trained:.3f} vs default {default:.3f}"
        if use_trained
        else f"default head kept: the trained head did not beat it on held-out pairs ({trained:.3f} vs {default:.3f})"
    )
    log(f"similarity: {verdict}")
    if use_trained:
        return export_head(
            projection,
            "trained",
            models_dir,
            metrics,
            data,
            f"{PROJECTION_DIMENSIONS}-d linear projection fitted so cosine follows hashtag Jaccard; {verdict}",
        )
    return export_head(
        DEFAULT_HEAD, "default", models_dir, metrics, data, f"normalised pretrained embedding; {verdict}"
    )
