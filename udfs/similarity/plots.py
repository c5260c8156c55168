"""Similarity plots (Altair): country x country heatmap and a PCA of per-country centroids.

Library functions, no click: `similarity_heatmap(con, topic)` and `centroid_pca(con, topic)`
return `altair.Chart`s (the HTML report embeds them); `save_chart(chart, path)` writes PNG or
SVG offline through vl-convert. Both read the view `topic_country_centroids`, so the heatmap's
cosines are those of `country_pair_similarity`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geosql.errors import GeosqlError, require

POOLED = "all datasets"


@dataclass
class Centroids:
    """The located (dataset, country) centroids of one topic and model."""

    model_key: str
    dataset: list[str]
    country: list[str]
    n: np.ndarray
    vectors: np.ndarray  # rows: centroids (not normalised)


def _alt() -> Any:
    return require("altair", "report")


def pick_model_key(con: Any, topic: str, model_key: str | None = None) -> str:
    """The model key to plot: the one given, else the one with most image embeddings of topic."""
    if model_key is not None:
        return model_key
    row = con.execute(
        "SELECT model_key FROM similarity_images WHERE topic = ? GROUP BY 1"
        " ORDER BY count(*) DESC, 1 LIMIT 1",
        [topic],
    ).fetchone()
    if row is None:
        raise GeosqlError(
            f"no image embeddings of topic {topic!r}: tag captions with it (ingest --entity-col"
            " or --entity) and run clip-embed (or `geosql embeddings import`) first"
        )
    return row[0]


def load_centroids(con: Any, topic: str, model_key: str | None = None) -> Centroids:
    """Centroids of the located (dataset, country) groups of `topic` (view topic_country_centroids)."""
    key = pick_model_key(con, topic, model_key)
    rows = con.execute(
        "SELECT dataset, country_code, n, centroid FROM topic_country_centroids"
        " WHERE topic = ? AND model_key = ? AND country_code IS NOT NULL ORDER BY 1, 2",
        [topic, key],
    ).fetchall()
    if not rows:
        raise GeosqlError(
            f"topic {topic!r} has no located images for model {key!r}: give the images a country"
            " (ingest --country-col, or a geoparse method listed in similarity_methods())"
        )
    return Centroids(
        key,
        [r[0] for r in rows],
        [r[1] for r in rows],
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.float64),
    )


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def pool_by_country(c: Centroids, datasets: Sequence[str] | None = None) -> Centroids:
    """One centroid per country over the chosen datasets (weighted by image counts)."""
    keep = [i for i, d in enumerate(c.dataset) if datasets is None or d in datasets]
    countries = sorted({c.country[i] for i in keep})
    vecs, ns = [], []
    for cc in countries:
        idx = [i for i in keep if c.country[i] == cc]
        n = c.n[idx]
        vecs.append((c.vectors[idx] * n[:, None]).sum(0) / n.sum())
        ns.append(int(n.sum()))
    label = ",".join(datasets) if datasets else POOLED
    dim = c.vectors.shape[1]
    return Centroids(
        c.model_key,
        [label] * len(countries),
        countries,
        np.array(ns, dtype=np.int64),
        np.array(vecs).reshape(len(countries), dim),
    )


def cluster_order(sim: np.ndarray) -> list[int]:
    """Leaf order of average-linkage hierarchical clustering on 1 - cosine (square `sim`).

    Deterministic: ties merge the pair with the smallest indexes first; within a merge the
    larger cluster goes first.
    """
    n = sim.shape[0]
    if n <= 2:
        return list(range(n))
    dist = 1.0 - np.asarray(sim, dtype=np.float64)
    clusters: dict[int, list[int]] = {i: [i] for i in range(n)}
    d = {(i, j): dist[i, j] for i in range(n) for j in range(i + 1, n)}
    nxt = n
    while len(clusters) > 1:
        (a, b), _ = min(d.items(), key=lambda kv: (round(kv[1], 12), kv[0]))
        ca, cb = clusters.pop(a), clusters.pop(b)
        merged = ca + cb if len(ca) >= len(cb) else cb + ca
        d = {k: v for k, v in d.items() if a not in k and b not in k}
        for k, members in clusters.items():
            d[(k, nxt)] = float(np.mean(dist[np.ix_(merged, members)]))
        clusters[nxt] = merged
        nxt += 1
    return next(iter(clusters.values()))


def short_key(model_key: str) -> str:
    """A model key for titles: the last two parts of a path-like key ('tiny.json/none')."""
    parts = model_key.split("/")
    return "/".join(parts[-2:]) if len(parts) > 2 else model_key


def _names(con: Any, codes: Sequence[str]) -> dict[str, str]:
    rows = con.execute(
        "SELECT iso2, name FROM countries WHERE list_contains(?, iso2)", [list(codes)]
    ).fetchall()
    names = {k: v.title() if v.islower() else v for k, v in rows}
    return {c: names.get(c, c) for c in codes}


def similarity_matrix(
    con: Any, topic: str, datasets: Sequence[str] | None = None, model_key: str | None = None
) -> tuple[Centroids, Centroids, np.ndarray]:
    """(row centroids, column centroids, cosine matrix) for the heatmap.

    datasets: None -> every dataset pooled per country on both axes; [A] -> A x A;
    [A, B] -> countries of A (rows) against countries of B (columns).
    """
    c = load_centroids(con, topic, model_key)
    have = sorted(set(c.dataset))
    for d in datasets or ():
        if d not in have:
            raise GeosqlError(
                f"--datasets: no located images of topic {topic!r} in dataset {d!r};"
                f" datasets with some: {', '.join(have)}"
            )
    if not datasets:
        rows = cols = pool_by_country(c)
    elif len(datasets) == 1 or datasets[0] == datasets[1]:
        rows = cols = pool_by_country(c, [datasets[0]])
    elif len(datasets) == 2:
        rows, cols = pool_by_country(c, [datasets[0]]), pool_by_country(c, [datasets[1]])
    else:
        raise GeosqlError("--datasets takes one dataset (A) or two (A,B: rows A, columns B)")
    sim = _unit(rows.vectors) @ _unit(cols.vectors).T
    return rows, cols, sim


def similarity_heatmap(
    con: Any,
    topic: str,
    datasets: Sequence[str] | None = None,
    model_key: str | None = None,
    *,
    values: bool | None = None,
) -> Any:
    """Country x country cosine heatmap of `topic`, both axes ordered by hierarchical clustering.

    values: print the cosine in each cell (default: when at most 15 countries per axis).
    """
    alt = _alt()
    pl = require("polars", "report")
    rows, cols, sim = similarity_matrix(con, topic, datasets, model_key)
    same = rows.country == cols.country and rows.dataset == cols.dataset
    if rows.country == cols.country:  # one order for both axes: the diagonal is each country
        r_order = c_order = cluster_order(sim if same else (sim + sim.T) / 2)
    else:
        r_order = cluster_order(_unit(rows.vectors) @ _unit(rows.vectors).T)
        c_order = cluster_order(_unit(cols.vectors) @ _unit(cols.vectors).T)
    names = _names(con, sorted(set(rows.country) | set(cols.country)))
    label = {cc: f"{names[cc]} ({cc})" if names[cc] != cc else cc for cc in names}
    recs = [
        {
            "row": label[rows.country[i]],
            "col": label[cols.country[j]],
            "cosine": float(sim[i, j]),
            "n_row": int(rows.n[i]),
            "n_col": int(cols.n[j]),
        }
        for i in range(len(rows.country))
        for j in range(len(cols.country))
    ]
    df = pl.DataFrame(recs)
    y_sort = [label[rows.country[i]] for i in r_order]
    x_sort = [label[cols.country[j]] for j in c_order]
    side = max(12, min(36, 600 // max(len(x_sort), len(y_sort))))
    off = sim[~np.eye(*sim.shape, dtype=bool)] if same and sim.shape[0] > 1 else sim.ravel()
    lo = float(np.floor(off.min() * 100) / 100) if off.size else 0.0
    base = alt.Chart(df).encode(
        x=alt.X("col:N", sort=x_sort, title=f"{cols.dataset[0]} (country)",
                axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("row:N", sort=y_sort, title=f"{rows.dataset[0]} (country)"),
    )  # fmt: skip
    rect = base.mark_rect().encode(
        color=alt.Color(
            "cosine:Q",
            scale=alt.Scale(scheme="viridis", domain=[lo, 1.0], clamp=True),
            title="cosine",
        ),
        tooltip=["row", "col", alt.Tooltip("cosine:Q", format=".3f"), "n_row", "n_col"],
    )
    layers = [rect]
    if values if values is not None else max(len(x_sort), len(y_sort)) <= 15:
        mid = (lo + 1.0) / 2
        layers.append(
            base.mark_text(fontSize=max(8, side // 3)).encode(
                text=alt.Text("cosine:Q", format=".2f" if 1.0 - lo > 0.1 else ".3f"),
                color=alt.condition(alt.datum.cosine > mid, alt.value("black"), alt.value("white")),
            )
        )
    return alt.layer(*layers).properties(
        width=side * len(x_sort),
        height=side * len(y_sort),
        title={
            "text": f"Visual similarity of '{topic}' images between countries",
            "subtitle": f"cosine of country centroids; {short_key(rows.model_key)};"
            " ordered by clustering",
        },
    )


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components of rows of x: (n x 2 scores, explained variance ratios)."""
    xc = x - x.mean(0)
    if xc.shape[0] < 2 or not np.any(xc):
        return np.zeros((x.shape[0], 2)), np.zeros(2)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    scores = u[:, :2] * s[:2]
    for k in range(scores.shape[1]):  # sign convention: largest loading positive
        if vt[k, np.argmax(np.abs(vt[k]))] < 0:
            scores[:, k] *= -1
    ratio = (s**2 / (s**2).sum())[:2]
    if scores.shape[1] < 2:
        scores = np.hstack([scores, np.zeros((scores.shape[0], 1))])
        ratio = np.append(ratio, 0.0)
    return scores, ratio


def centroid_pca(
    con: Any,
    topic: str,
    model_key: str | None = None,
    *,
    datasets: Sequence[str] | None = None,
    high: Sequence[str] | None = None,
) -> Any:
    """2-D PCA of the per-(dataset, country) centroids of `topic` (unit length), labelled.

    Colour = dataset; shape = low- or high-resource. high: the high-resource datasets (default:
    the dataset with the most images of the topic, when there are two or more datasets).
    """
    alt = _alt()
    pl = require("polars", "report")
    c = load_centroids(con, topic, model_key)
    keep = [i for i, d in enumerate(c.dataset) if datasets is None or d in datasets]
    if not keep:
        raise GeosqlError(f"--datasets: none of {', '.join(datasets or [])} has topic {topic!r}")
    ds = [c.dataset[i] for i in keep]
    totals = {d: int(sum(c.n[i] for i in keep if c.dataset[i] == d)) for d in set(ds)}
    if high is None:
        high = [max(sorted(totals), key=lambda d: totals[d])] if len(totals) > 1 else []
    scores, ratio = pca_2d(_unit(c.vectors[keep]))
    names = _names(con, sorted({c.country[i] for i in keep}))
    df = pl.DataFrame(
        {
            "pc1": scores[:, 0],
            "pc2": scores[:, 1],
            "dataset": ds,
            "resource": ["high" if d in high else "low" for d in ds],
            "country": [c.country[i] for i in keep],
            "name": [names[c.country[i]] for i in keep],
            "n": [int(c.n[i]) for i in keep],
        }
    )
    base = alt.Chart(df).encode(
        x=alt.X("pc1:Q", title=f"PC1 ({ratio[0]:.0%} of variance)"),
        y=alt.Y("pc2:Q", title=f"PC2 ({ratio[1]:.0%} of variance)"),
    )
    points = base.mark_point(size=90, filled=True, opacity=0.85).encode(
        color=alt.Color("dataset:N", title="dataset"),
        shape=alt.Shape(
            "resource:N", scale=alt.Scale(domain=["low", "high"], range=["circle", "triangle-up"])
        ),
        tooltip=["name", "country", "dataset", "resource", "n"],
    )
    text = base.mark_text(dx=7, dy=-7, fontSize=10, align="left", color="#333").encode(
        text="country:N"
    )
    return (points + text).properties(
        width=420,
        height=360,
        title={
            "text": f"Country centroids of '{topic}' images (PCA)",
            "subtitle": f"{short_key(c.model_key)}; each point: one country in one dataset",
        },
    )


def save_chart(chart: Any, path: str | Path, scale: float = 2.0) -> Path:
    """Write an Altair chart as PNG (scale x pixels) or SVG, offline (vl-convert)."""
    require("vl_convert", "report")
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise GeosqlError(f"{p}: --out must end in .png or .svg")
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        chart.save(str(p), format="png", scale_factor=scale)
    else:
        chart.save(str(p), format="svg")
    return p
