"""Synthetic warehouses for the diversity tests: captions with entity and a `label` country
(through `geosql.ingest.ingest(country_col=...)`) and unit embeddings chosen by the test."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from geosql.ingest import ingest


def add_items(
    con,
    tmp: Path,
    dataset: str,
    groups: dict[tuple[str, str], np.ndarray],
    *,
    kind: str = "image",
    model_key: str = "test/model",
) -> list[str]:
    """Ingest one caption per vector of groups[(entity, country name)] and store its vector.

    Returns the caption ids in the order of the vectors.
    """
    batch = len(list(tmp.iterdir()))
    f = tmp / f"{dataset}-{kind}-{batch}.csv"
    ids, vecs = [], []
    with f.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "entity", "country"])
        for (entity, country), x in groups.items():
            for i in range(len(x)):
                rid = f"{entity}-{country}-{batch}-{i}"
                w.writerow([rid, f"a {entity}", entity, country])
                ids.append(f"{dataset}:{rid}")
            vecs.append(np.asarray(x, dtype=np.float32))
    ingest(con, [f], dataset, id_col="id", entity_col="entity", country_col="country")
    v = np.concatenate(vecs)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    t = pa.table(
        {
            "item_id": ids,
            "kind": [kind] * len(ids),
            "model_key": [model_key] * len(ids),
            "dim": pa.array([v.shape[1]] * len(ids), pa.int32()),
            "embedding": pa.array(list(v), pa.list_(pa.float32())),
            "norm": pa.array([1.0] * len(ids), pa.float32()),
        }
    )
    con.register("_t_emb", t)
    con.execute("INSERT INTO embeddings BY NAME SELECT * FROM _t_emb")
    con.unregister("_t_emb")
    return ids


def unit(rng: np.random.Generator, n: int, d: int = 512) -> np.ndarray:
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clusters(rng: np.random.Generator, n: int, centers: np.ndarray, spread: float = 0.01):
    """n vectors split evenly over the centers, each a tiny perturbation of its center."""
    idx = np.arange(n) % len(centers)
    return centers[idx] + spread * rng.normal(size=(n, centers.shape[1]))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def synth():
    """The helpers above, for tests: synth.add(con, tmp, dataset, groups), unit, clusters."""
    from types import SimpleNamespace

    return SimpleNamespace(add=add_items, unit=unit, clusters=clusters)
