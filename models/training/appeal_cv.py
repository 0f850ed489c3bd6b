"""Cross-validated choice of the appeal model's inputs on the training part only: pure functions, no I/O.

Every candidate is a standardised ridge whose feature blocks (pooled embedding, stage statistics, logits,
hand features) are weighted: a block's weight scales its standardised columns, so with weight w a block of d
columns weighs like w² · d embedding columns. Ridge on n rows and thousands of columns is solved in its
dual form: one Gram matrix per block, summed with the weights, so trying a weighting costs an n×n solve.
The same weighted Gram matrix gives the squared distances of an RBF kernel, so a support-vector head on
exactly those inputs is tried from it too (`best_rbf`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr
from sklearn.model_selection import KFold
from sklearn.svm import SVR

CV_FOLDS = 5
# Support-vector regression's tube half-width, in points of the 0..100 target.
SVR_EPSILON = 1.0


@dataclass(frozen=True)
class Standardised:
    """Columns of one block standardised on the training rows (constant columns get scale 1)."""

    values: np.ndarray  # (n_train, d)
    mean: np.ndarray  # (d,)
    scale: np.ndarray  # (d,)


def standardise(values: np.ndarray) -> Standardised:
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    return Standardised(((values - mean) / scale).astype(np.float64), mean, scale)


def gram(block: Standardised) -> np.ndarray:
    return block.values @ block.values.T


def cv_predictions(
    kernel: np.ndarray, target: np.ndarray, alphas: Sequence[float], seed: int
) -> dict[float, np.ndarray]:
    """Out-of-fold predictions of kernel ridge (with a fold-mean intercept) for each alpha, from one eigh per fold."""
    folds = KFold(min(CV_FOLDS, len(target)), shuffle=True, random_state=seed)
    predicted = {alpha: np.zeros(len(target)) for alpha in alphas}
    for train, test in folds.split(kernel):
        centre = target[train].mean()
        values, vectors = np.linalg.eigh(kernel[np.ix_(train, train)])
        projected = vectors.T @ (target[train] - centre)
        cross = kernel[np.ix_(test, train)] @ vectors
        for alpha in alphas:
            predicted[alpha][test] = cross @ (projected / (np.maximum(values, 0.0) + alpha)) + centre
    return predicted


def spearman(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float("nan") if np.ptp(predicted) == 0 else float(spearmanr(predicted, truth)[0])


def weighted_kernel(grams: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The Gram matrix of the blocks' columns scaled by their weights: the sum of weight² × block Gram."""
    return np.asarray(sum(w * w * grams[name] for name, w in weights.items() if w > 0))


@dataclass(frozen=True)
class Choice:
    weights: dict[str, float]  # block -> weight (0 = left out)
    alpha: float
    cv_spearman: float


def best_weighting(
    grams: Mapping[str, np.ndarray],
    target: np.ndarray,
    weightings: Sequence[Mapping[str, float]],
    alphas: Sequence[float],
    seed: int,
    record: Callable[[str, float], None] | None = None,
) -> Choice:
    """The weighting and alpha with the highest cross-validated Spearman; `record(label, cv)` sees every one."""
    best: Choice | None = None
    for weights in weightings:
        for alpha, predicted in cv_predictions(weighted_kernel(grams, weights), target, alphas, seed).items():
            score = spearman(predicted, target)
            if record is not None:
                record(weights_label(weights) + f"_alpha_{alpha:g}", score)
            if best is None or np.nan_to_num(score, nan=-1.0) > best.cv_spearman:
                best = Choice(dict(weights), alpha, score)
    assert best is not None
    return best


def weights_label(weights: Mapping[str, float]) -> str:
    return "+".join(f"{name}{w:g}" for name, w in weights.items() if w > 0)


@dataclass(frozen=True)
class RbfChoice:
    """An RBF support-vector head: gamma = `gamma_scale` / the mean squared distance between training rows."""

    gamma_scale: float
    C: float
    gamma: float
    cv_spearman: float


def squared_distances(kernel: np.ndarray) -> np.ndarray:
    """Pairwise squared distances of the rows whose inner products are `kernel`."""
    diagonal = np.diag(kernel)
    return np.maximum(diagonal[:, None] + diagonal[None, :] - 2.0 * kernel, 0.0)


def best_rbf(
    kernel: np.ndarray,
    target: np.ndarray,
    gamma_scales: Sequence[float],
    costs: Sequence[float],
    seed: int,
    record: Callable[[str, float], None] | None = None,
) -> RbfChoice:
    """The RBF support-vector head with the highest cross-validated Spearman on the rows of a linear `kernel`."""
    distances = squared_distances(kernel)
    mean_distance = float(distances[np.triu_indices(len(distances), k=1)].mean()) or 1.0
    folds = list(KFold(min(CV_FOLDS, len(target)), shuffle=True, random_state=seed).split(kernel))
    best: RbfChoice | None = None
    for scale in gamma_scales:
        rbf = np.exp(-(scale / mean_distance) * distances)
        for cost in costs:
            predicted = np.zeros(len(target))
            for train, test in folds:
                model = SVR(kernel="precomputed", C=cost, epsilon=SVR_EPSILON).fit(
                    rbf[np.ix_(train, train)], target[train]
                )
                predicted[test] = model.predict(rbf[np.ix_(test, train)])
            score = spearman(predicted, target)
            if record is not None:
                record(f"rbf_svr_gamma{scale:g}_C{cost:g}", score)
            if best is None or np.nan_to_num(score, nan=-1.0) > best.cv_spearman:
                best = RbfChoice(scale, cost, scale / mean_distance, score)
    assert best is not None
    return best
