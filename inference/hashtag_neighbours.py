"""Image neighbours for hashtags: the user's photo against the stored photos, with their embeddings cached.

The photo's similarity vector is compared with every stored image's (`PhotoContext`): posts whose images
look like the photo count more in a tag's score and fit, and their tags become candidates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from core.errors import LikepredictError
from core.tags import tag_set
from inference.hashtag_scoring import MIN_SIMILARITY, similarity_weights
from store import Store

SIMILAR_POSTS = 20
EMBED_BATCH = 32
# Embedding a stored image costs ~0.1-0.2 s (six encoder views); a request embeds at most this many new
# ones, newest first, and the cache fills over the next requests. `index_stored_images` does all at once.
EMBED_BUDGET = 16


class HasSimilarityVector(Protocol):
    """A photo as the image side describes it (`PhotoAnalysis`): all this module reads of it."""

    @property
    def similarity_vector(self) -> np.ndarray: ...


class Similarity(Protocol):
    """The similarity model (`SimilarityModel`): a version for the cache key and a cosine of one vector with many."""

    @property
    def version(self) -> str: ...

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...


class ImageEmbedder(Protocol):
    """The photo analyser (`PhotoAnalyzer`): photo files in, one analysis each out (raises a LikepredictError)."""

    def analyse(self, sources: Sequence[bytes | Path]) -> Sequence[HasSimilarityVector]: ...


@dataclass
class PhotoContext:
    """The user's photo against the stored images: weights per image sha256."""

    weights: dict[str, float] = field(default_factory=dict)
    similar_tags: Counter[str] = field(default_factory=Counter)  # tag -> how many of the posts most like the photo
    similar_share: dict[str, float] = field(default_factory=dict)  # tag -> similarity-weighted share of them
    stored_images: int = 0  # how many stored posts' images there are; `weights` covers those embedded so far

    def weight(self, image_sha256: str | None) -> float:
        """A post without an (embedded) image counts as the average stored photo: it neither pulls nor pushes."""
        if image_sha256 is None or image_sha256 not in self.weights:
            return self.average_weight
        return self.weights[image_sha256]

    @cached_property
    def average_weight(self) -> float:
        return float(np.mean(list(self.weights.values()))) if self.weights else 1.0


class ImageNeighbours:
    """Finds the stored posts whose images look like a photo; embeds (within a budget) and caches stored images.

    Without an `embedder`, only vectors already in the cache are used; without `similarity` there is no
    photo to compare (the cache can still be read).
    """

    def __init__(
        self,
        store: Store,
        similarity: Similarity | None,
        embedder: ImageEmbedder | None = None,
        embed_budget: int | None = EMBED_BUDGET,
    ) -> None:
        self.store = store
        self.similarity = similarity
        self.embedder = embedder
        self.embed_budget = embed_budget
        # a stored image's vector under one model never changes: kept in memory once read (key: vector_version)
        self._vectors: tuple[str, dict[str, np.ndarray]] = ("", {})
        self._with_images: tuple[int, list[tuple[int, str, tuple[str, ...]]]] | None = None
        self._stacked: tuple[tuple[str, list[str]], np.ndarray] | None = None

    def photo_context(
        self,
        photo: HasSimilarityVector | None,
        first: Sequence[str] = (),
        fingerprint: int | None = None,
    ) -> PhotoContext | None:
        """The photo's similarity to every stored image (None without a photo or a similarity model).

        Images not yet embedded are embedded within the budget, those in `first` (the account's own) first.
        `fingerprint` is the store's `Tags.fingerprint` when the caller has just read it.
        """
        if photo is None or self.similarity is None:
            return None
        stored = self.posts_with_images(fingerprint)
        newest_first = list(dict.fromkeys([*first, *(sha for _, sha, _ in reversed(stored))]))
        vectors = self.stored_vectors(newest_first, self.embed_budget)
        if not vectors:
            return PhotoContext(stored_images=len(newest_first))
        shas = sorted(vectors)
        cosines = np.asarray(
            self.similarity.similarity(
                np.asarray(photo.similarity_vector, dtype=np.float32), self._matrix(shas, vectors)
            ),
            dtype=float,
        )
        weights = dict(zip(shas, (float(w) for w in similarity_weights(cosines))))
        nearest = sorted(
            ((weights[sha], post_id, tags) for post_id, sha, tags in stored if sha in weights),
            key=lambda item: (-item[0], item[1]),
        )[:SIMILAR_POSTS]
        alike = [(w, tag_set(tags)) for w, _, tags in nearest if w >= MIN_SIMILARITY]
        similar_tags = Counter(t for _, tags in alike for t in tags)
        total = sum(w for w, _ in alike)
        share = {tag: sum(w for w, tags in alike if tag in tags) / total for tag in similar_tags} if total else {}
        return PhotoContext(weights, similar_tags, share, len(newest_first))

    def _matrix(self, shas: list[str], vectors: dict[str, np.ndarray]) -> np.ndarray:
        """The vectors of `shas` stacked in that order, kept while the same images are compared."""
        key = (self.vector_version, shas)
        if self._stacked is None or self._stacked[0] != key:
            self._stacked = (key, np.stack([vectors[s] for s in shas]))
        return self._stacked[1]

    def posts_with_images(self, fingerprint: int | None = None) -> list[tuple[int, str, tuple[str, ...]]]:
        """The store's posts with a photo (`Accounts.posts_with_images`), read again only when they change."""
        fingerprint = self.store.tags.fingerprint() if fingerprint is None else fingerprint
        if self._with_images is None or self._with_images[0] != fingerprint:
            self._with_images = (fingerprint, self.store.accounts.posts_with_images())
        return self._with_images[1]

    def index_stored_images(self, should_stop: Callable[[], bool] | None = None) -> int:
        """Embed every stored image not yet cached (after an import or a fetch); returns how many are cached.

        Works in batches and, when `should_stop` is given, asks it between batches, so a closing service
        is not held up by a long backlog.
        """
        shas = list(dict.fromkeys(sha for _, sha, _ in self.store.accounts.posts_with_images()))
        cached = 0
        for start in range(0, len(shas), EMBED_BATCH):
            if should_stop is not None and should_stop():
                break
            cached += len(self.stored_vectors(shas[start : start + EMBED_BATCH], budget=None))
        return cached

    @property
    def vector_version(self) -> str:
        """The embedding cache key: vectors are only comparable under the same similarity model."""
        return vector_version(self.similarity)

    def stored_vectors(self, shas: Sequence[str], budget: int | None = None) -> dict[str, np.ndarray]:
        """Similarity vectors of stored images: from the cache, else (the first `budget` missing, in the
        order given; all when None) computed with the embedder and cached."""
        version = self.vector_version
        if self._vectors[0] != version:
            self._vectors = (version, {})
        known = self._vectors[1]
        vectors = {sha: known[sha] for sha in shas if sha in known}
        read = self.store.images.embeddings([sha for sha in shas if sha not in known], version)
        known.update(read)
        vectors.update(read)
        paths = self.store.images.paths(sha for sha in shas if sha not in vectors)
        missing = [(sha, paths[sha]) for sha in dict.fromkeys(shas) if sha in paths and paths[sha].is_file()]
        if self.embedder is not None:
            missing = missing if budget is None else missing[:budget]
            for start in range(0, len(missing), EMBED_BATCH):
                vectors.update(self._embed_and_cache(self.embedder, missing[start : start + EMBED_BATCH]))
        return vectors

    def _embed_and_cache(self, embedder: ImageEmbedder, images: list[tuple[str, Path]]) -> dict[str, np.ndarray]:
        try:
            analyses = embedder.analyse([path for _, path in images])
        except LikepredictError:
            if len(images) == 1:
                return {}  # an unreadable stored image simply counts as a post without one
            return {sha: vector for one in images for sha, vector in self._embed_and_cache(embedder, [one]).items()}
        vectors = {}
        for (sha, _), analysis in zip(images, analyses):
            vectors[sha] = np.asarray(analysis.similarity_vector, dtype=np.float32)
            self.store.images.save_embedding(sha, self.vector_version, vectors[sha])
            if self._vectors[0] == self.vector_version:
                self._vectors[1][sha] = vectors[sha]
        return vectors


def vector_version(similarity: Similarity | None) -> str:
    """The cache key of vectors made under `similarity` (one key for "no model", never compared with)."""
    return f"hashtag-similarity:{similarity.version if similarity is not None else 'unversioned'}"
