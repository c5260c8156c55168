"""Points on the sphere: unit vectors, great-circle distance, and neighbour aggregates.

The three ways `retrieval` turns k neighbours into one location (setting `aggregate`):
- `top1`: the nearest neighbour's coordinates;
- `mean`: the similarity-weighted spherical mean (weights softmax(sim / temperature), the mean
  of unit vectors projected back to the sphere);
- `cluster`: the densest cluster: for every neighbour, the summed weight of the neighbours
  within `cluster_km` of it; the best one's cluster is averaged (weighted spherical mean).
"""

from __future__ import annotations

import numpy as np

EARTH_KM = 6371.0088
AGGREGATES = ("top1", "mean", "cluster")


def to_unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Degrees -> (n, 3) unit vectors."""
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def from_unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) vectors (any length) -> latitude, longitude in degrees."""
    v = np.asarray(v, float)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km (same formula and radius as the SQL macro)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def weights(sims: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of similarities / temperature along the last axis (NaN similarities weigh 0)."""
    s = np.where(np.isfinite(sims), sims, -np.inf) / max(float(temperature), 1e-6)
    s = s - np.max(s, axis=-1, keepdims=True)
    w = np.exp(s)
    return w / np.sum(w, axis=-1, keepdims=True)


def spherical_mean(lat: np.ndarray, lon: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weighted mean direction per row of (n, k) coordinates; antipodal ties fall back to top-1."""
    v = to_unit(lat, lon)  # (n, k, 3)
    m = np.einsum("nk,nkc->nc", w, v)
    bad = np.linalg.norm(m, axis=-1) < 1e-9
    m[bad] = v[bad, 0]
    return from_unit(m)


def aggregate(
    lat: np.ndarray,
    lon: np.ndarray,
    sims: np.ndarray,
    how: str,
    temperature: float = 0.05,
    cluster_km: float = 25.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, k) neighbour coordinates and similarities -> (lat, lon, score) per row."""
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, not {how!r}")
    if how == "top1":
        return lat[:, 0].copy(), lon[:, 0].copy(), sims[:, 0].astype(float)
    w = weights(sims, temperature)
    if how == "mean":
        la, lo = spherical_mean(lat, lon, w)
        return la, lo, np.max(w, axis=-1)
    # densest cluster: pairwise distances between the k neighbours of each row
    d = haversine_km(lat[:, :, None], lon[:, :, None], lat[:, None, :], lon[:, None, :])
    near = d <= cluster_km  # (n, k, k)
    density = np.einsum("nij,nj->ni", near, w)
    best = np.argmax(density, axis=-1)
    members = near[np.arange(len(best)), best] * w  # weights of the winning cluster
    score = members.sum(axis=-1)
    la, lo = spherical_mean(lat, lon, members / np.maximum(score[:, None], 1e-12))
    return la, lo, score
