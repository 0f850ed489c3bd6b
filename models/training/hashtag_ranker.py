"""The `hashtags` step of `likepredict train`: the learned hashtag ranker over both years of influencer data.

load -> hold out every account's newest post (the store and the concept table hold only the earlier posts,
so an account's hidden post is never in its own rows) -> candidates and features per held-out post ->
split by account (`half_of`: half "a" trains, half "b" is measured) -> choose C by 5-fold cross-validation
over half "a"'s accounts -> fit (each post's rows weighted by 1 / its tag count, as in recall; chosen over
unweighted rows, gradient boosting and pairwise interactions by the same cross-validation) -> export ONNX -> measure the engine with it on half "b" of each year
against the lift-only ranking and the most-used baseline -> card entry.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from core.records import Account
from inference.card import model_entry, sha256_of
from inference.hashtag_concepts import ConceptTags
from inference.hashtag_eval import build_store, concept_table, evaluate_hashtags, half_of, hold_out_newest, queries
from inference.hashtag_ranker import (
    CONCEPT_TAGS_FILE,
    FEATURE_NAMES,
    FEATURES_VERSION,
    RANKER_FILE,
    RANKER_NAME,
    HashtagRanker,
    feature_matrix,
)
from inference.hashtags import DEFAULT_COUNT, HashtagEngine

Log = Callable[[str], None]
C_GRID = (0.01, 0.1, 1.0, 10.0)
TRAIN_HALF, MEASURED_HALF = "a", "b"
# The numbers the card keeps from each year's measurement on the held-out half.
REPORTED = (
    "held_out_posts_with_tags",
    "engine_recall_at_10",
    "engine_hit_rate_at_10",
    "engine_ndcg_at_10",
    "expected_ranking_recall_at_10",
    "lift_ranking_recall_at_10",
    "lift_ranking_hit_rate_at_10",
    "lift_ranking_ndcg_at_10",
    "baseline_recall_at_10",
    "baseline_hit_rate_at_10",
    "baseline_ndcg_at_10",
    "engine_recall_at_10_vs_baseline",
    "oracle_candidates_recall_at_10",
    "oracle_own_tags_recall_at_10",
    "engine_lift_gap",
    "engine_lift_gap_ci90",
)


@dataclass(frozen=True)
class QueryRows:
    """One held-out post's candidates: features, which were really used, and how many tags it had."""

    handle: str
    year: str
    features: np.ndarray
    used: np.ndarray  # bool per row
    actual_tags: int


def candidate_rows(accounts: Sequence[Account], year: str) -> list[QueryRows]:
    """Rows for every held-out post with tags, the engine's candidates for it as features (no ranker)."""
    remaining, held_out = hold_out_newest(accounts)
    rows = []
    with tempfile.TemporaryDirectory(prefix="likepredict-hashtag-rows-") as tmp:
        store = build_store(remaining, Path(tmp))
        try:
            engine = HashtagEngine(store, concept_tags=concept_table(remaining))
            for query in queries(held_out):
                history = query.held.history
                candidates = engine.candidates(history, concepts=query.concepts)
                scores = engine.score_tags(candidates)
                inputs = engine.ranker_inputs(history, candidates, scores, concepts=query.concepts)
                tags, features = feature_matrix(inputs)
                used = np.array([tag in query.held.tags for tag in tags], dtype=bool)
                rows.append(QueryRows(history.handle, year, features, used, len(query.held.tags)))
        finally:
            store.close()
    return rows


def recall_at(model: Pipeline, queries_: Sequence[QueryRows], n: int = DEFAULT_COUNT) -> float:
    """Mean recall@n of the model's top n candidates (tags outside the candidates count as missed)."""
    recalls = []
    for query in queries_:
        if len(query.features) == 0:
            recalls.append(0.0)
            continue
        chance = model.predict_proba(query.features)[:, 1]
        top = np.argsort(-chance, kind="stable")[:n]
        recalls.append(float(query.used[top].sum()) / query.actual_tags)
    return float(np.mean(recalls)) if recalls else 0.0


def stacked(queries_: Sequence[QueryRows]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, used, weights): each post's rows weigh 1 / its tag count, as its tags do in recall."""
    features = np.vstack([q.features for q in queries_])
    used = np.concatenate([q.used for q in queries_]).astype(int)
    weights = np.concatenate([np.full(len(q.features), 1.0 / q.actual_tags) for q in queries_])
    return features, used, weights


def fit_ranker(c: float, seed: int, queries_: Sequence[QueryRows]) -> Pipeline:
    features, used, weights = stacked(queries_)
    return make_ranker(c, seed).fit(features, used, logisticregression__sample_weight=weights)


def make_ranker(c: float, seed: int) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, random_state=seed))


def choose_c(train: Sequence[QueryRows], seed: int, log: Log) -> tuple[float, dict[str, float]]:
    """C by recall@10 over 5 folds of half "a"'s accounts (an account's rows stay in one fold)."""
    handles = np.array([q.handle for q in train])
    folds = list(GroupKFold(n_splits=5).split(np.zeros(len(train)), groups=handles))
    scores: dict[str, float] = {}
    for c in C_GRID:
        fold_recalls = []
        for fit_index, test_index in folds:
            model = fit_ranker(c, seed, [train[i] for i in fit_index])
            fold_recalls.append(recall_at(model, [train[i] for i in test_index]))
        scores[f"{c:g}"] = float(np.mean(fold_recalls))
        log(f"[hashtags] C={c:g}: cross-validated recall@10 {scores[f'{c:g}']:.3f}")
    best = max(C_GRID, key=lambda c: (scores[f"{c:g}"], -c))
    return best, scores


def export_ranker(model: Pipeline, path: Path) -> Path:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onnx_model = convert_sklearn(
        model,
        initial_types=[("features", FloatTensorType([None, len(FEATURE_NAMES)]))],
        options={id(model.steps[-1][1]): {"zipmap": False}},
        target_opset=17,
    )
    path.write_bytes(onnx_model.SerializeToString())
    return path


def coefficients(model: Pipeline) -> dict[str, float]:
    """Standardised coefficients: how much one standard deviation of each feature moves the log-odds."""
    weights = model.steps[-1][1].coef_[0]
    return {name: round(float(w), 4) for name, w in sorted(zip(FEATURE_NAMES, weights), key=lambda item: -abs(item[1]))}


def train_hashtag_ranker(
    years: Mapping[str, Sequence[Account]], models_dir: Path, seed: int, data_names: dict[str, str], log: Log = print
) -> dict[str, dict[str, Any]]:
    """Fit on half "a" of every year, export, measure on half "b" of each year; returns the card entry."""
    rows = [row for year, accounts in years.items() for row in candidate_rows(accounts, year)]
    train = [q for q in rows if half_of(q.handle) == TRAIN_HALF]
    log(f"[hashtags] {len(rows)} held-out posts with tags; {len(train)} of half {TRAIN_HALF!r} train the ranker")
    c, cv_scores = choose_c(train, seed, log)
    model = fit_ranker(c, seed, train)
    path = export_ranker(model, models_dir / RANKER_FILE)
    # the concept table served beside the ranker: the same earlier posts the training features saw
    concepts = [concept_table(hold_out_newest(accounts)[0]) for accounts in years.values()]
    table = next((t for t in concepts if t is not None), ConceptTags(0, {}, {}, {}))
    concept_path = models_dir / CONCEPT_TAGS_FILE
    concept_path.write_text(table.to_json() + "\n", encoding="utf-8")
    entry = model_entry(
        path,
        list(FEATURE_NAMES),
        FEATURES_VERSION,
        data={"files": data_names, "half": TRAIN_HALF, "training_posts": len(train), "measured_half": MEASURED_HALF},
        notes=(
            "Logistic regression over the hashtag engine's candidates; orders them only (value and reasons stay "
            "with the lift). Trained on half 'a' of the accounts (hash of the handle) of every year, C chosen by "
            "5-fold CV on half 'a'; metrics measured on half 'b' by `likepredict evaluate hashtags`'s protocol."
        ),
        concept_tags={"file": concept_path.name, "sha256": sha256_of(concept_path)},
        params={"C": c, "cv_recall_at_10": cv_scores},
        coefficients=coefficients(model),
    )
    entries = {RANKER_NAME: entry}
    ranker = HashtagRanker(models_dir, card={"models": entries})  # loaded as serving loads it
    for year, accounts in years.items():
        measured = evaluate_hashtags(accounts, half=MEASURED_HALF, ranker=ranker)
        entry["metrics"][year] = {key: measured.get(key) for key in REPORTED}
        log(
            f"[hashtags] {year} half {MEASURED_HALF!r}: recall@10 engine {measured['engine_recall_at_10']:.3f}, "
            f"lift only {measured['lift_ranking_recall_at_10']:.3f}, "
            f"baseline {measured['baseline_recall_at_10']:.3f}"
        )
    return entries
