"""The appeal model's inputs and head, chosen by 5-fold cross-validation on the training split only.

In order: the single-pass side and the blocks' weights (ridge), hand-feature groups added greedily, then the
head (the ridge, or an RBF support-vector regression on the same weighted inputs). Sides, groups and heads
are weighed by one exchange rate, `CV_GAIN_PER_MS` of cross-validated Spearman per millisecond they add to a
photo's answer. The CV itself is `models/training/appeal_cv.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from inference.appeal import APPEAL_HAND_CANDIDATES
from inference.encoder import EMBEDDING_SIZE, EncoderOutputs
from inference.photo import HAND_FEATURE_NAMES
from inference.photo_features import HAND_FEATURE_GROUPS, HAND_GROUP_COST_MS
from models.training.appeal_cv import (
    Choice,
    RbfChoice,
    best_rbf,
    best_weighting,
    gram,
    standardise,
    weighted_kernel,
    weights_label,
)
from models.training.photo_dataset import PhotoFeatures

RIDGE_ALPHAS = (30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0)
# Accuracy per millisecond: what a larger side or a hand-feature group must buy in cross-validated Spearman
# for each millisecond it adds to a photo's answer.
CV_GAIN_PER_MS = 0.002
# Median ms of what depends on the side for a 1080x1080 JPEG: decoding the working image (DCT scaling: 1/4,
# 270 px, up to a 256 px pass; 1/2, 540 px, above), the encoder's pass, and the hand features and pixel cues
# on that image, on the 2-core project machine (`python -m benchmarks.photo_cost`, steps "side_*").
PASS_COST_MS = {224: 13.0, 256: 15.0, 288: 21.5, 320: 24.5}
# Block weights tried (1 = weighs as much as the 1280-d embedding); the embedding always takes part.
DEEP_WEIGHTINGS = [
    {"embedding": 1.0, "stage_stats": stats, "logits": logits}
    for stats in (0.0, 1.0, 1.5, 2.0, 3.0)
    for logits in (0.0, 0.35)
]
HAND_WEIGHTS = (0.5, 1.0, 2.0)
# A hand-feature group is kept when it adds at least this much cross-validated Spearman, plus `CV_GAIN_PER_MS`
# per millisecond it costs on the working image.
MIN_HAND_GAIN = 0.002
# The RBF head (gamma relative to the mean squared distance of training rows, and C) replaces the ridge only
# when it adds `MIN_HEAD_GAIN` plus `CV_GAIN_PER_MS` for each millisecond more it costs per photo: with ~770
# support vectors over ~2,800 inputs it took 1.2 ms against the ridge's 0.2 ms (onnxruntime, one photo, the
# project machine), and its file is 10 MB against 42 kB.
RBF_GAMMA_SCALES = (0.5, 1.0, 2.0)
SVR_COSTS = (30.0, 100.0, 300.0)
MIN_HEAD_GAIN = 0.002
RBF_HEAD_EXTRA_MS = 1.0
Log = Callable[[str], None]


def relative_cost(size: int) -> float:
    return (size / 224) ** 2


def pass_cost_ms(size: int) -> float:
    """Decode + encoder pass at `size` (ms, 1080x1080); a side not measured is scaled from the nearest below."""
    known = max((s for s in PASS_COST_MS if s <= size), default=min(PASS_COST_MS))
    return PASS_COST_MS[known] * relative_cost(size) / relative_cost(known)


def deep_blocks(outputs: EncoderOutputs, rows: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "embedding": outputs.embedding[rows],
        "stage_stats": outputs.stage_stats[rows],
        "logits": outputs.logits[rows],
    }


def normalised_grams(blocks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gram matrices of standardised blocks, scaled so weight 1 means as heavy as the 1280-d embedding."""
    return {name: gram(standardise(values)) * (EMBEDDING_SIZE / values.shape[1]) for name, values in blocks.items()}


def hand_block(hand: np.ndarray, groups: list[str], rows: np.ndarray) -> np.ndarray:
    columns = np.array([HAND_FEATURE_NAMES.index(n) for n in hand_names(groups)], dtype=np.int64)
    return hand[np.ix_(rows, columns)]


def hand_names(groups: list[str]) -> list[str]:
    return [name for name in APPEAL_HAND_CANDIDATES if any(name in HAND_FEATURE_GROUPS[g] for g in groups)]


@dataclass(frozen=True)
class InputChoice:
    size: int
    ridge: Choice  # block weights (hand included when groups were kept), alpha, CV Spearman
    groups: list[str]
    rbf: RbfChoice  # the RBF head on the same weighted inputs
    variants: dict[str, float]  # every variant tried -> its CV Spearman

    @property
    def head(self) -> str:
        needed = MIN_HEAD_GAIN + CV_GAIN_PER_MS * RBF_HEAD_EXTRA_MS
        return "rbf_svr" if self.rbf.cv_spearman >= self.ridge.cv_spearman + needed else "ridge"

    @property
    def cv_spearman(self) -> float:
        return self.rbf.cv_spearman if self.head == "rbf_svr" else self.ridge.cv_spearman


def choose_inputs(features: PhotoFeatures, target: np.ndarray, rows: np.ndarray, seed: int, log: Log) -> InputChoice:
    """Size, block weights, alpha, hand-feature groups and head by cross-validation on `rows` (the training split)."""
    variants: dict[str, float] = {}

    def recorder(prefix: str) -> Callable[[str, float], None]:
        def record(label: str, score: float) -> None:
            # One key per variant: its best alpha (ridge) or gamma and C (RBF head).
            key = f"cv_{prefix}_{re.split('_alpha_|_gamma', label, maxsplit=1)[0]}"
            variants[key] = max(variants.get(key, -1.0), float(np.nan_to_num(score, nan=-1.0)))

        return record

    y = target[rows]
    per_size: dict[int, Choice] = {}
    grams_by_size: dict[int, dict[str, np.ndarray]] = {}
    for size, outputs in features.single_pass.items():
        grams_by_size[size] = normalised_grams(deep_blocks(outputs, rows))
        per_size[size] = best_weighting(
            grams_by_size[size], y, DEEP_WEIGHTINGS, RIDGE_ALPHAS, seed, recorder(f"size{size}")
        )
        rbf = best_rbf(
            weighted_kernel(grams_by_size[size], per_size[size].weights),
            y,
            RBF_GAMMA_SCALES,
            SVR_COSTS,
            seed,
            recorder(f"size{size}"),
        )
        log(
            f"appeal: size {size}: CV Spearman {per_size[size].cv_spearman:.4f} ({weights_label(per_size[size].weights)}), "
            f"RBF head {rbf.cv_spearman:.4f}"
        )
    size = max(per_size, key=lambda s: per_size[s].cv_spearman - CV_GAIN_PER_MS * pass_cost_ms(s))
    deep = per_size[size]
    grams = dict(grams_by_size[size])
    candidates = [g for g in HAND_FEATURE_GROUPS if g != "size"]
    chosen: list[str] = []
    best = deep
    while candidates:
        trials = {}
        for group in candidates:
            grams["hand"] = normalised_grams({"hand": hand_block(features.hand[size], chosen + [group], rows)})["hand"]
            weightings = [{**deep.weights, "hand": w} for w in HAND_WEIGHTS]
            trials[group] = best_weighting(
                grams, y, weightings, RIDGE_ALPHAS, seed, recorder(f"hand_{'+'.join(chosen + [group])}")
            )
        group = max(trials, key=lambda g: trials[g].cv_spearman - CV_GAIN_PER_MS * HAND_GROUP_COST_MS[g])
        gain = trials[group].cv_spearman - best.cv_spearman
        needed = MIN_HAND_GAIN + CV_GAIN_PER_MS * HAND_GROUP_COST_MS[group]
        log(f"appeal: + {group}: CV gain {gain:+.4f} (needs {needed:.4f})")
        if gain < needed:
            break
        chosen.append(group)
        candidates.remove(group)
        best = trials[group]
    if chosen:
        grams["hand"] = normalised_grams({"hand": hand_block(features.hand[size], chosen, rows)})["hand"]
    rbf = best_rbf(weighted_kernel(grams, best.weights), y, RBF_GAMMA_SCALES, SVR_COSTS, seed, recorder("head"))
    log(f"appeal: RBF head CV Spearman {rbf.cv_spearman:.4f} against the ridge's {best.cv_spearman:.4f}")
    return InputChoice(size, best, chosen, rbf, variants)
