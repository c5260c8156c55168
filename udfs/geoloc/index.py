"""FAISS over reference image embeddings (inner product on L2-normalised vectors).

`index=auto` picks an exact flat index up to `flat_max` vectors and IVF (nlist ~ sqrt(n),
`nprobe` lists searched) above; `hnsw` is available too (M = `hnsw_m`, efSearch = `ef_search`).
The index and the reference coordinates are files in `<warehouse>.models/geoloc/`, keyed by
(dataset, model key, a fingerprint of the rows, index settings), so `prepare` builds them once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.errors import GeosqlError, require

INDEX_TYPES = ("auto", "flat", "ivf", "hnsw")


def index_kind(n: int, cfg: dict) -> str:
    kind = str(cfg.get("index", "auto"))
    if kind not in INDEX_TYPES:
        raise GeosqlError(f"index must be one of {', '.join(INDEX_TYPES)}, not {kind!r}")
    if kind == "auto":
        kind = "flat" if n <= int(cfg.get("flat_max", 200_000)) else "ivf"
    return kind


def build_index(x: np.ndarray, kind: str, cfg: dict, seed: int = 0) -> Any:
    """A FAISS inner-product index over the rows of x (float32, L2-normalised)."""
    faiss = require("faiss", "geo")
    n, d = x.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, int(cfg.get("hnsw_m", 32)), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(cfg.get("ef_construction", 80))
    elif kind == "ivf":
        nlist = int(cfg.get("nlist", 0)) or max(1, min(int(np.sqrt(n)), n // 40 or 1))
        quant = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quant, d, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        m = 40 * nlist  # faiss wants >= 39 training points per list
        sample = x if n <= m else x[np.sort(rng.choice(n, m, replace=False))]
        index.cp.seed = seed
        index.cp.niter = int(cfg.get("kmeans_iter", 10))
        index.train(sample)
    else:
        raise GeosqlError(f"unknown index type {kind!r}")
    index.add(x)
    tune(index, cfg)
    return index


def tune(index: Any, cfg: dict) -> None:
    """Apply search-time settings (nprobe, efSearch) to a loaded index."""
    faiss = require("faiss", "geo")
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = int(cfg.get("nprobe", 16))
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = int(cfg.get("ef_search", 64))


def vectors(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A list/array column of equal-length vectors -> (n, d) float32."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    n = len(arr)
    if n == 0:
        return np.zeros((0, 0), np.float32)
    if arr.null_count:
        raise GeosqlError("a NULL embedding reached the index (filter them first)")
    flat = np.array(arr.flatten().to_numpy(zero_copy_only=False), np.float32)
    if flat.size % n:
        raise GeosqlError("embeddings of different dimensions under one model key")
    return flat.reshape(n, flat.size // n)


@dataclass
class Reference:
    """Reference images: ids, coordinates and the FAISS index over their embeddings."""

    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    index: Any
    kind: str
    vectors: np.ndarray | None = None  # (n, d) memory-mapped, when prepared with_vectors
    _tree: Any = None

    def near(self, lat: float, lon: float, km: float, cap: int = 512) -> np.ndarray:
        """Indices of reference images within km of a point (at most `cap`, nearest first)."""
        from udfs.geoloc.sphere import EARTH_KM, to_unit

        if self._tree is None:
            spatial = require("scipy.spatial", "geo")
            self._tree = spatial.cKDTree(to_unit(self.lat, self.lon))
        chord = 2 * np.sin(min(km / EARTH_KM, np.pi) / 2)
        d, i = self._tree.query(to_unit(lat, lon), k=min(cap, len(self.ids)),
                                distance_upper_bound=chord)  # fmt: skip
        i = np.atleast_1d(i)
        return i[np.isfinite(np.atleast_1d(d))]

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(int(k), len(self.ids)))
        sims, idx = self.index.search(np.ascontiguousarray(q, np.float32), k)
        return sims, idx


_REF_SQL = """
    SELECT g.image_id, any_value(g.lat) AS lat, any_value(g.lon) AS lon,
           any_value(e.embedding) AS embedding
    FROM geo_images g
    JOIN embeddings e ON e.item_id = g.image_id AND e.kind = 'image' AND e.model_key = $model_key
    WHERE g.dataset = $dataset
    GROUP BY g.image_id ORDER BY g.image_id"""


def prepare_reference(
    con: Any, cfg: dict, cache_dir: Path, with_vectors: bool = False
) -> dict[str, Any]:
    """Build (or find) the reference files for (reference dataset, model key); returns paths.

    with_vectors: also keep the normalised vectors as .npy (memory-mapped by the worker, for
    g3's verification against the reference images near a candidate).
    """
    params = {"model_key": cfg["model_key"], "dataset": cfg["reference"]}
    n, fp = con.execute(
        f"SELECT count(*), coalesce(bit_xor(hash(image_id, lat, lon, embedding)), 0)::VARCHAR"
        f" FROM ({_REF_SQL})",
        params,
    ).fetchall()[0]
    if not n:
        raise GeosqlError(
            f"no reference images: dataset {cfg['reference']!r} in geo_images has no image "
            f"embeddings of model {cfg['model_key']!r} (ingest-geo, then clip-embed or "
            "`geosql embeddings import`)"
        )
    kind = index_kind(n, cfg)
    build_keys = {k: cfg.get(k) for k in ("nlist", "hnsw_m", "ef_construction")}
    blob = json.dumps([cfg["reference"], cfg["model_key"], n, fp, kind, build_keys], default=str)
    key = hashlib.sha1(blob.encode()).hexdigest()[:16]
    cache_dir.mkdir(parents=True, exist_ok=True)
    meta, idx_path = cache_dir / f"ref-{key}.npz", cache_dir / f"ref-{key}.faiss"
    vec_path = cache_dir / f"ref-{key}.vectors.npy"
    need_vec = with_vectors and not vec_path.is_file()
    if need_vec or not (meta.is_file() and idx_path.is_file()):
        t = con.sql(_REF_SQL, params=params).to_arrow_table()
        x = vectors(t["embedding"])
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        faiss = require("faiss", "geo")
        index = build_index(x, kind, cfg)
        tmp_i, tmp_m = idx_path.with_suffix(".tmp"), cache_dir / f".tmp-{meta.name}"
        faiss.write_index(index, str(tmp_i))
        np.savez(
            tmp_m,
            ids=np.asarray(t["image_id"].to_pylist(), dtype=str),
            lat=t["lat"].to_numpy(),
            lon=t["lon"].to_numpy(),
        )
        tmp_i.replace(idx_path)
        tmp_m.replace(meta)
        if with_vectors:
            tmp_v = cache_dir / f".tmp-{vec_path.name}"
            np.save(tmp_v, x)
            tmp_v.replace(vec_path)
    spec = {"meta": str(meta), "index": str(idx_path), "kind": kind, "n": int(n)}
    if with_vectors:
        spec["vectors"] = str(vec_path)
    return spec


def open_reference(spec: dict[str, Any], cfg: dict) -> Reference:
    faiss = require("faiss", "geo")
    index = faiss.read_index(spec["index"])
    tune(index, cfg)
    vec = np.load(spec["vectors"], mmap_mode="r") if spec.get("vectors") else None
    with np.load(spec["meta"], allow_pickle=False) as z:
        return Reference(z["ids"], z["lat"], z["lon"], index, spec["kind"], vec)
