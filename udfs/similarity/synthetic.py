"""Synthetic image embeddings with a known structure, for tests and the benchmark.

Countries get random points on the sphere and fall into `n_clusters` visual clusters drawn
independently of where they are, so visual similarity is unrelated to geography; a topic in
`geo_topics` instead looks like a smooth function of the country's location (nearer = more
alike), so its distance correlation must be clearly negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa


@dataclass
class Synthetic:
    countries: list[str]
    lat: np.ndarray
    lon: np.ndarray
    cluster: np.ndarray  # visual cluster of each country (topics not in geo_topics)
    topics: list[str]


def country_codes(n: int) -> list[str]:
    """n two-letter codes ('AA', 'AB', ...): synthetic, not ISO countries."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [letters[i // 26] + letters[i % 26] for i in range(n)]


def write_countries(con: Any, syn: Synthetic) -> None:
    """countries + places rows (a GeoNames-style point per country) for the synthetic codes."""
    ids = [9_000_000 + i for i in range(len(syn.countries))]
    t = pa.table(
        {
            "iso2": syn.countries,
            "name": [f"country {c}" for c in syn.countries],
            "geonameid": ids,
            "lat": syn.lat,
            "lon": syn.lon,
        }
    )
    con.register("_syn_countries", t)
    con.execute(
        "INSERT INTO countries (iso2, name, geonameid) SELECT iso2, name, geonameid"
        " FROM _syn_countries"
    )
    con.execute(
        "INSERT INTO places (geonameid, name, lat, lon, feature_class, feature_code,"
        " country_code) SELECT geonameid, name, lat, lon, 'A', 'PCLI', iso2 FROM _syn_countries"
    )
    con.unregister("_syn_countries")


def _embedding_array(x: np.ndarray) -> pa.ListArray:
    n, d = x.shape
    offsets = pa.array(np.arange(0, n * d + 1, d, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(x.astype(np.float32).ravel()))


def generate(
    con: Any,
    *,
    n_countries: int = 20,
    n_topics: int = 1,
    images_per_group: int = 10,
    n_images: int | None = None,
    dim: int = 16,
    n_clusters: int = 2,
    noise: float = 0.3,
    datasets: tuple[str, ...] = ("low",),
    geo_topics: tuple[str, ...] = (),
    model_key: str = "synthetic/none",
    seed: int = 0,
    chunk: int = 100_000,
) -> Synthetic:
    """Write captions, caption_entities, geo_predictions (method label) and embeddings.

    Every (dataset, topic, country) gets `images_per_group` images, or with `n_images` the
    images are spread at random over the groups. Topics are 't000', 't001', ... plus
    `geo_topics`. Embeddings: cluster prototype (or geographic feature) + noise, L2-normalised.
    """
    rng = np.random.default_rng(seed)
    codes = country_codes(n_countries)
    z = rng.uniform(-1, 1, n_countries)
    lon = rng.uniform(-180, 180, n_countries)
    lat = np.degrees(np.arcsin(z))
    cluster = np.arange(n_countries) % n_clusters
    rng.shuffle(cluster)
    topics = [f"t{i:03d}" for i in range(n_topics)] + list(geo_topics)
    syn = Synthetic(codes, lat, lon, cluster, topics)
    write_countries(con, syn)
    protos = rng.standard_normal((len(topics), n_clusters, dim))
    xyz = np.stack(
        [np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
         np.cos(np.radians(lat)) * np.sin(np.radians(lon)), np.sin(np.radians(lat))], axis=1
    )  # fmt: skip
    geo_proj = rng.standard_normal((3, dim))
    n_groups = len(datasets) * len(topics) * n_countries
    total = n_images if n_images is not None else n_groups * images_per_group
    con.begin()
    for start in range(0, total, chunk):
        m = min(chunk, total - start)
        g = (
            rng.integers(0, n_groups, m)
            if n_images is not None
            else (np.arange(start, start + m) // images_per_group)
        )
        d_idx, rest = np.divmod(g, len(topics) * n_countries)
        t_idx, c_idx = np.divmod(rest, n_countries)
        base = protos[t_idx, cluster[c_idx]]
        geo = np.isin(t_idx, [topics.index(t) for t in geo_topics])
        base[geo] = 2.0 * (xyz[c_idx[geo]] @ geo_proj)
        x = base + noise * rng.standard_normal((m, dim))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        ds = np.array(datasets)[d_idx]
        ids = [f"{d}:{i}" for d, i in zip(ds, range(start, start + m), strict=True)]
        batch = pa.table(
            {
                "caption_id": ids,
                "dataset": ds,
                "topic": np.array(topics)[t_idx],
                "country": np.array(codes)[c_idx],
                "embedding": _embedding_array(x),
            }
        )
        con.register("_syn", batch)
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text) SELECT caption_id, dataset,"
            " topic || ' in ' || country FROM _syn"
        )
        con.execute("INSERT INTO caption_entities SELECT caption_id, topic FROM _syn")
        con.execute(
            "INSERT INTO geo_predictions (caption_id, method, country_code, confidence,"
            " evidence, config_key) SELECT caption_id, 'label', country, 1.0, country, NULL"
            " FROM _syn"
        )
        con.execute(
            "INSERT INTO embeddings (item_id, kind, model_key, dim, embedding, norm, config_key)"
            f" SELECT caption_id, 'image', ?, {dim}, embedding, 1.0, NULL FROM _syn",
            [model_key],
        )
        con.unregister("_syn")
    con.commit()
    return syn
