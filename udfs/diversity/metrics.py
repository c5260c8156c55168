"""Pure numpy metrics: exact Vendi score at a fixed sample size, and PRDC (Naeem et al. 2020).

Vendi (Friedman & Dieng 2023) of n unit vectors X is exp of the Shannon entropy of the
eigenvalues of K/n, K = X Xᵀ (cosine similarity, diagonal 1). Vendi grows with n, so groups are
compared at a fixed k: the mean over seeded draws of k items, with a bootstrap interval over the
draws. Only k×k matrices are ever built.
"""

from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass

import numpy as np


def vendi(x: np.ndarray) -> float:
    """Exact Vendi score of the rows of `x` (normalised here; cosine similarity kernel)."""
    return float(vendi_many(np.asarray(x)[None])[0])


_BLAS: list = []


def one_blas_thread():
    """Single-threaded BLAS for the many small k×k products: on a busy machine a BLAS thread
    pool spinning over 100×100 matrices was 30× slower (no-op without threadpoolctl)."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _BLAS.append(None)
        else:
            _BLAS.append(ThreadpoolController())  # scanning the loaded libraries: once
    ctl = _BLAS[0]
    return contextlib.nullcontext() if ctl is None else ctl.limit(limits=1, user_api="blas")


def vendi_many(xs: np.ndarray) -> np.ndarray:
    """Vendi of each stacked sample: xs has shape (draws, k, d); returns (draws,)."""
    xs = np.asarray(xs, dtype=np.float64)
    norms = np.linalg.norm(xs, axis=2, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("Vendi: zero vector in the sample")
    xs = xs / norms
    k = xs.shape[1]
    with one_blas_thread():
        gram = xs @ np.swapaxes(xs, 1, 2) / k
        w = np.linalg.eigvalsh(gram)
    w = np.clip(w, 0.0, None)
    w = w / w.sum(axis=1, keepdims=True)  # trace is 1 up to rounding
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(w > 0, w * np.log(w), 0.0).sum(axis=1)
    return np.exp(h)


def group_rng(seed: int, group: str) -> np.random.Generator:
    """A generator fixed by (seed, group name): results never depend on batching or order."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(group.encode())])


def draw_indices(pool: int, k: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, k) indices into a pool of `pool` items (pool >= k).

    When the pool holds draws×k items the draws are disjoint blocks of one permutation,
    otherwise independent k-subsets without replacement.
    """
    if pool < k:
        raise ValueError(f"pool of {pool} items is smaller than k={k}")
    if pool >= draws * k:
        return rng.permutation(pool)[: draws * k].reshape(draws, k)
    return np.stack([rng.choice(pool, size=k, replace=False) for _ in range(draws)])


@dataclass
class VendiEstimate:
    vendi: float
    ci_low: float
    ci_high: float
    draws: np.ndarray  # the per-draw scores


def vendi_fixed_k(
    pool: np.ndarray,
    k: int,
    draws: int,
    rng: np.random.Generator,
    *,
    bootstrap: int = 1000,
    ci: float = 0.95,
) -> VendiEstimate:
    """Mean Vendi of `draws` seeded k-subsets of `pool` (rows), with a percentile bootstrap
    interval of that mean (resampling the draws)."""
    idx = draw_indices(len(pool), k, draws, rng)
    scores = vendi_many(np.asarray(pool)[idx])
    mean = float(scores.mean())
    if draws > 1 and bootstrap > 0:
        boot = scores[rng.integers(0, draws, size=(bootstrap, draws))].mean(axis=1)
        a = (1.0 - ci) / 2.0
        lo, hi = np.quantile(boot, [a, 1.0 - a])
    else:
        lo = hi = mean
    return VendiEstimate(mean, float(lo), float(hi), scores)


# --------------------------------------------------------------------------- PRDC


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _dist2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between rows of unit vectors (|a-b|² = 2 - 2 a·b), float32:
    balls are compared on squared radii, so no square roots are taken."""
    return np.maximum(2.0 - 2.0 * (a @ b.T), 0.0, dtype=np.float32)


def _kth_radius2(x: np.ndarray, nearest_k: int, block: int = 2048) -> np.ndarray:
    """Squared distance of each row to its nearest_k-th neighbour (itself excluded)."""
    out = np.empty(len(x), dtype=np.float32)
    for s in range(0, len(x), block):
        d = _dist2(x[s : s + block], x)
        out[s : s + block] = np.partition(d, nearest_k, axis=1)[:, nearest_k]
    return out


@dataclass
class Prdc:
    precision: float
    recall: float
    density: float
    coverage: float


def prdc(real: np.ndarray, fake: np.ndarray, nearest_k: int = 5) -> Prdc:
    """Precision, recall, density and coverage of `fake` against `real` (k-NN balls).

    The same definitions as the `prdc` package (Naeem et al. 2020) on L2-normalised vectors:
    precision = share of fake items inside some real item's k-NN ball; recall = share of real
    items inside some fake item's ball; density = mean number of real balls holding a fake
    item / k; coverage = share of real items whose ball holds a fake item.
    """
    real, fake = _unit(real), _unit(fake)
    if len(real) <= nearest_k or len(fake) <= nearest_k:
        raise ValueError(f"PRDC needs more than nearest_k={nearest_k} items on each side")
    r_real = _kth_radius2(real, nearest_k)
    r_fake = _kth_radius2(fake, nearest_k)
    in_real_ball = np.zeros(len(fake), dtype=bool)
    balls_per_fake = np.zeros(len(fake))
    covered = np.zeros(len(real), dtype=bool)
    recalled = np.zeros(len(real), dtype=bool)
    for s in range(0, len(real), 2048):
        d = _dist2(real[s : s + 2048], fake)  # (block of real, fake)
        inside = d < r_real[s : s + 2048, None]
        in_real_ball |= inside.any(axis=0)
        balls_per_fake += inside.sum(axis=0)
        covered[s : s + 2048] = inside.any(axis=1)
        recalled[s : s + 2048] = (d < r_fake[None, :]).any(axis=1)
    return Prdc(
        precision=float(in_real_ball.mean()),
        recall=float(recalled.mean()),
        density=float(balls_per_fake.mean() / nearest_k),
        coverage=float(covered.mean()),
    )
