"""Exact Vendi and PRDC on synthetic embeddings whose answers are known, and against the
reference packages (vendi_score 0.0.3, prdc 0.2)."""

from __future__ import annotations

import numpy as np
import pytest

from udfs.diversity.metrics import (
    draw_indices,
    group_rng,
    prdc,
    vendi,
    vendi_fixed_k,
    vendi_many,
)


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_identical_vectors_score_one(rng):
    x = np.repeat(_unit(rng.normal(size=(1, 512))), 100, axis=0)
    assert vendi(x) == pytest.approx(1.0, abs=1e-6)


def test_two_tight_clusters_score_two(rng):
    c = _unit(rng.normal(size=(2, 512)))
    x = np.repeat(c, 50, axis=0) + 0.0005 * rng.normal(size=(100, 512))
    assert vendi(x) == pytest.approx(2.0, abs=0.05)


def test_random_unit_vectors_score_about_k(rng):
    x = _unit(rng.normal(size=(100, 512)))
    v = vendi(x)
    assert 85 < v <= 100  # Marchenko-Pastur spread at k/d = 0.2 keeps it a little below k


def test_matches_vendi_score_package(rng):
    vs = pytest.importorskip("vendi_score.vendi")
    for n, d in ((30, 8), (100, 512), (64, 16)):
        x = rng.normal(size=(n, d))
        assert vendi(x) == pytest.approx(vs.score_X(x), rel=1e-9)
        k = _unit(x) @ _unit(x).T
        assert vendi(x) == pytest.approx(vs.score_K(k), rel=1e-9)


def test_stacked_draws_equal_single_scores(rng):
    xs = rng.normal(size=(5, 40, 32))
    assert np.allclose(vendi_many(xs), [vendi(x) for x in xs])


def test_fixed_k_draws_and_interval(rng):
    pool = _unit(rng.normal(size=(1000, 64)))
    est = vendi_fixed_k(pool, 100, 10, group_rng(0, "g"))
    assert len(est.draws) == 10
    assert est.ci_low <= est.vendi <= est.ci_high
    again = vendi_fixed_k(pool, 100, 10, group_rng(0, "g"))
    assert again.vendi == est.vendi  # seeded
    other = vendi_fixed_k(pool, 100, 10, group_rng(1, "g"))
    assert other.vendi != est.vendi


def test_draws_are_disjoint_when_the_pool_allows(rng):
    idx = draw_indices(1000, 100, 10, rng)
    assert len(np.unique(idx)) == 1000
    small = draw_indices(150, 100, 10, rng)
    assert small.shape == (10, 100)
    assert all(len(set(r)) == 100 for r in small)
    with pytest.raises(ValueError):
        draw_indices(50, 100, 1, rng)


def test_vendi_grows_with_sample_size_which_is_why_k_is_fixed(rng):
    x = _unit(rng.normal(size=(400, 32)))
    assert vendi(x[:50]) < vendi(x)


def test_prdc_generated_is_one_of_two_real_clusters(rng):
    c = _unit(rng.normal(size=(2, 512)))
    b0 = np.linalg.qr(rng.normal(size=(512, 3)))[0].T
    b1 = np.linalg.qr(rng.normal(size=(512, 3)))[0].T
    real = np.concatenate([c[0] + 0.05 * rng.normal(size=(300, 3)) @ b0,
                           c[1] + 0.05 * rng.normal(size=(300, 3)) @ b1])  # fmt: skip
    fake = c[0] + 0.05 * rng.normal(size=(300, 3)) @ b0
    # each cluster varies in a 3-d subspace: embeddings lie on low-dimensional manifolds
    # (with isotropic 512-d noise, k-NN precision of identical distributions is only ~0.8)
    p = prdc(real, fake, 5)
    assert p.precision == pytest.approx(1.0, abs=0.05)
    assert p.coverage == pytest.approx(0.5, abs=0.05)
    assert p.recall == pytest.approx(0.5, abs=0.05)


def test_prdc_matches_prdc_package(rng, capsys):
    ref = pytest.importorskip("prdc")
    real = _unit(rng.normal(size=(300, 16)))
    fake = _unit(rng.normal(size=(250, 16)) + 0.4)
    ours = prdc(real, fake, 5)
    theirs = ref.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
    for name in ("precision", "recall", "density", "coverage"):
        assert getattr(ours, name) == pytest.approx(float(theirs[name]), abs=1e-9), name


def test_prdc_needs_more_than_nearest_k(rng):
    with pytest.raises(ValueError):
        prdc(rng.normal(size=(5, 4)), rng.normal(size=(50, 4)), 5)
