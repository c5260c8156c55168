"""Stage `image-geolocate`: where was each image taken? Methods retrieval, geoclip and g3.

Key: `image_id` (a geo_images id or a caption id). Images come from the `dataset` setting
(geo_images rows of that dataset and captions of that dataset), with their image embedding of
`model_key` when there is one. Outputs `image_geo_predictions` (one row per image) and
`image_geo_candidates` (the evidence: neighbours, gallery points, LLM candidates).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.errors import GeosqlError
from geosql.registry import BatchResult, Stage, registry
from udfs.geoloc.revgeo import PlaceIndex, place_index_file
from udfs.geoloc.sphere import AGGREGATES, aggregate

METHODS = ("retrieval", "geoclip", "g3")

DEFAULTS: dict[str, Any] = {
    "method": "retrieval",
    "dataset": "",  # which images: a geo_images dataset or a captions dataset
    "model_key": "ViT-B-32/openai",  # image embeddings used by retrieval (and g3)
    "reference": "mp16",  # geo_images dataset whose embedded images are the database
    "k": 16,
    "aggregate": "cluster",  # top1 | mean | cluster
    "temperature": 0.05,
    "cluster_km": 25.0,
    "exclude_self": True,  # a query found in the reference does not count as its own neighbour
    "index": "auto",  # auto | flat | ivf | hnsw
    "flat_max": 200_000,
    "nlist": 0,  # IVF lists (0: ~2 sqrt(n))
    "nprobe": 16,
    "hnsw_m": 32,
    "ef_search": 64,
    "keep_candidates": 5,
    "max_place_km": 200.0,  # country of a prediction: nearest place within this distance
    "clip_path": "",  # geoclip: CLIP ViT-L/14 folder or hub id ('' = openai/clip-vit-large-patch14)
    "gallery": "",  # geoclip: CSV of GPS points ('' = the 100k gallery in the wheel)
    "top_k": 5,
    "image_root": "",
    "device": "auto",
    # g3 (see udfs/geoloc/g3.py)
    "llm_model": "gemini-2.5-flash",
    "n_positives": 5,
    "n_negatives": 5,
    "n_candidates": 5,
    "verify": "retrieval",  # retrieval | geoclip
    "verify_km": 100.0,
    "temperature_llm": 0.2,
    "max_output_tokens": 512,
    "max_image_px": 768,  # g3: larger images are re-encoded as JPEG of this size (fewer tokens)
}
try:  # g3's transport settings (mode, concurrency, rpm, tpm, retries...): the Gemini engine's
    from udfs.gemini.engine import TRANSPORT_SETTINGS
except ImportError:  # pragma: no cover - the gemini family is part of geosql
    TRANSPORT_SETTINGS = {}
DEFAULTS.update(TRANSPORT_SETTINGS)

INPUTS = """
    WITH imgs AS (
        SELECT image_id, any_value(image_path) AS image_path FROM (
            SELECT NULL AS image_id, NULL AS image_path
            WHERE {dataset} = '' AND error('set the images to locate: --set dataset=NAME')
            UNION ALL
            SELECT image_id, image_path FROM geo_images WHERE dataset = {dataset}
            UNION ALL
            SELECT caption_id, image_path FROM captions WHERE dataset = {dataset}
        ) GROUP BY image_id
    )
    SELECT i.image_id, i.image_path, e.embedding
    FROM imgs i
    LEFT JOIN embeddings e
      ON e.item_id = i.image_id AND e.kind = 'image' AND e.model_key = {model_key}
"""

_PRED = pa.schema(
    [
        ("image_id", pa.string()),
        ("method", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("country_code", pa.string()),
        ("admin1_code", pa.string()),
        ("score", pa.float64()),
        ("detail", pa.string()),
    ]
)
_CAND = pa.schema(
    [
        ("image_id", pa.string()),
        ("method", pa.string()),
        ("rank", pa.int32()),
        ("kind", pa.string()),
        ("ref_id", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("score", pa.float64()),
    ]
)


def cache_dir(con: Any) -> Path:
    """`<warehouse>.models/geoloc/` (a temp folder for in-memory warehouses)."""
    from geosql.paths import models_dir

    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    if row and row[0][0]:
        return models_dir(row[0][0]) / "geoloc"
    return Path(tempfile.gettempdir()) / "geosql-geoloc"


def check_config(cfg: dict) -> None:
    if cfg["method"] not in METHODS:
        raise GeosqlError(f"method must be one of {', '.join(METHODS)}, not {cfg['method']!r}")
    if not cfg["dataset"]:
        raise GeosqlError("image-geolocate needs --set dataset=NAME (the images to locate)")
    if cfg["aggregate"] not in AGGREGATES:
        raise GeosqlError(f"aggregate must be one of {', '.join(AGGREGATES)}")
    if cfg["verify"] not in ("retrieval", "geoclip"):
        raise GeosqlError("verify must be retrieval or geoclip")


def prepare(con: Any, cfg: dict) -> dict[str, Any]:
    """Files the worker needs: places, and the FAISS reference or the GeoCLIP gallery."""
    check_config(cfg)
    d = cache_dir(con)
    _, places = place_index_file(con, d)
    spec: dict[str, Any] = {"places": places}
    if cfg["method"] in ("retrieval", "g3"):
        from udfs.geoloc.index import prepare_reference

        with_vec = cfg["method"] == "g3" and cfg["verify"] == "retrieval"
        spec["ref"] = prepare_reference(con, cfg, d, with_vectors=with_vec)
    if cfg["method"] == "geoclip" or (cfg["method"] == "g3" and cfg["verify"] == "geoclip"):
        from udfs.geoloc.geoclip_method import gallery_features

        spec["geoclip"] = gallery_features(cfg["gallery"], d)
    if cfg["method"] == "g3":
        from udfs.geoloc.g3 import prepare_g3

        spec["g3"] = prepare_g3(con, cfg)
    return spec


def open_state(spec: dict[str, Any], cfg: dict) -> dict[str, Any]:
    state: dict[str, Any] = {"places": PlaceIndex.load(spec["places"]), "spec": spec}
    if "ref" in spec:
        from udfs.geoloc.index import open_reference

        state["ref"] = open_reference(spec["ref"], cfg)
    if "geoclip" in spec:
        from udfs.geoloc.geoclip_method import open_geoclip

        state["geoclip"] = open_geoclip(spec["geoclip"], cfg)
    if "g3" in spec:
        from udfs.geoloc.g3 import open_g3

        state["g3"] = open_g3(spec["g3"], cfg)
    return state


def close_state(state: dict[str, Any]) -> None:
    if "g3" in state:
        from udfs.geoloc.g3 import close_g3

        close_g3(state["g3"])


def predictions(
    state: dict[str, Any], ids: list[str], lat, lon, score, detail: list[str], cfg: dict
) -> pa.Table:
    """Prediction rows with the country/admin1 of the nearest place within max_place_km."""
    geo = state["places"].lookup(np.asarray(lat), np.asarray(lon), float(cfg["max_place_km"]))
    return pa.table(
        {
            "image_id": ids,
            "method": [cfg["method"]] * len(ids),
            "lat": pa.array(np.asarray(lat, float), from_pandas=True),  # NaN -> NULL
            "lon": pa.array(np.asarray(lon, float), from_pandas=True),
            "country_code": geo["country_code"],
            "admin1_code": geo["admin1_code"],
            "score": pa.array(np.where(np.isfinite(score), score, np.nan), from_pandas=True),
            "detail": detail,
        },
        schema=_PRED,
    )


def neighbours(
    state: dict[str, Any], ids: list[str], q: np.ndarray, cfg: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """k nearest reference images per query: (sims, lat, lon, ref index), self-matches dropped."""
    ref = state["ref"]
    k = int(cfg["k"])
    extra = 1 if cfg["exclude_self"] else 0
    sims, idx = ref.search(q, k + extra)
    if extra:
        self_hit = ref.ids[np.maximum(idx, 0)] == np.asarray(ids, dtype=str)[:, None]
        order = np.argsort(self_hit, axis=1, kind="stable")  # self-matches last
        sims = np.take_along_axis(sims, order, 1)[:, :k]
        idx = np.take_along_axis(idx, order, 1)[:, :k]
    missing = idx < 0  # fewer than k in the index (IVF with few lists probed)
    sims = np.where(missing, -np.inf, sims)
    j = np.maximum(idx, 0)
    lat = np.where(missing, np.nan, ref.lat[j])
    lon = np.where(missing, np.nan, ref.lon[j])
    return sims, lat, lon, idx


def candidates(ids, kind: str, method: str, lat, lon, score, ref_ids=None, keep: int = 5):
    """(n, k) candidate arrays -> rows, the first `keep` per image (NaN coordinates dropped)."""
    n, k = np.shape(lat)
    k = min(k, int(keep))
    rows: dict[str, list] = {f.name: [] for f in _CAND}
    for i in range(n):
        for r in range(k):
            if not np.isfinite(lat[i][r]):
                continue
            rows["image_id"].append(ids[i])
            rows["method"].append(method)
            rows["rank"].append(r + 1)
            rows["kind"].append(kind)
            rows["ref_id"].append(None if ref_ids is None else str(ref_ids[i][r]))
            rows["lat"].append(float(lat[i][r]))
            rows["lon"].append(float(lon[i][r]))
            rows["score"].append(float(score[i][r]))
    return pa.table(rows, schema=_CAND)


def _retrieval(state: dict[str, Any], batch: pa.Table, cfg: dict) -> BatchResult:
    from udfs.geoloc.index import vectors

    ids_all = batch["image_id"].to_pylist()
    has = np.asarray(batch["embedding"].is_valid())
    errors = [
        (i, "no_embedding", f"no image embedding of model {cfg['model_key']!r}")
        for i, ok in zip(ids_all, has, strict=True)
        if not ok
    ]
    ids = [i for i, ok in zip(ids_all, has, strict=True) if ok]
    if not ids:
        return BatchResult({"image_geo_predictions": _PRED.empty_table()}, errors=errors)
    q = vectors(batch["embedding"].filter(pa.array(has)))
    if q.shape[1] != state["ref"].dim:
        raise GeosqlError(f"query embeddings have {q.shape[1]} dims, the index {state['ref'].dim}")
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    sims, lat, lon, idx = neighbours(state, ids, q, cfg)
    how = cfg["aggregate"]
    la, lo, score = aggregate(
        lat, lon, sims, how, float(cfg["temperature"]), float(cfg["cluster_km"])
    )
    preds = predictions(state, ids, la, lo, score, [how] * len(ids), cfg)
    ref_ids = state["ref"].ids[np.maximum(idx, 0)]
    cand = candidates(
        ids, "neighbour", "retrieval", lat, lon, sims, ref_ids, int(cfg["keep_candidates"])
    )
    return BatchResult(
        {"image_geo_predictions": preds, "image_geo_candidates": cand}, errors=errors
    )


def load_images(batch: pa.Table, cfg: dict) -> tuple[list[str], list[Any], list[tuple]]:
    """Open each image as RGB; unreadable ones become row errors."""
    from geosql.errors import require

    image = require("PIL.Image", "geo")
    root = cfg.get("image_root") or ""
    ids, images, errors = [], [], []
    for i, p in zip(batch["image_id"].to_pylist(), batch["image_path"].to_pylist(), strict=True):
        if not p:
            errors.append((i, "no_image", "the image has no image_path"))
            continue
        full = Path(root) / p if root and not Path(p).is_absolute() else Path(p)
        try:
            with image.open(full) as im:
                images.append(im.convert("RGB"))
            ids.append(i)
        except (OSError, ValueError, SyntaxError) as e:
            errors.append((i, "bad_image", f"{full}: {str(e).splitlines()[0]}"))
    return ids, images, errors


def _geoclip(state: dict[str, Any], batch: pa.Table, cfg: dict) -> BatchResult:
    from udfs.geoloc.geoclip_method import predict_images

    ids, images, errors = load_images(batch, cfg)
    if not ids:
        return BatchResult({"image_geo_predictions": _PRED.empty_table()}, errors=errors)
    g = state["geoclip"]
    top, probs = predict_images(g, images, int(cfg["top_k"]))
    lat, lon = g.gps[top, 0].astype(float), g.gps[top, 1].astype(float)
    preds = predictions(
        state, ids, lat[:, 0], lon[:, 0], probs[:, 0], ["gallery top-1"] * len(ids), cfg
    )
    cand = candidates(ids, "gallery", "geoclip", lat, lon, probs, None, int(cfg["keep_candidates"]))
    return BatchResult(
        {"image_geo_predictions": preds, "image_geo_candidates": cand}, errors=errors
    )


def process(state: dict[str, Any], batch: pa.Table, cfg: dict) -> BatchResult:
    """Pure: one batch of images -> predictions and candidates."""
    if cfg["method"] == "retrieval":
        return _retrieval(state, batch, cfg)
    if cfg["method"] == "geoclip":
        return _geoclip(state, batch, cfg)
    from udfs.geoloc.g3 import process_g3

    return process_g3(state, batch, cfg)


def _batch_size(cfg: dict) -> int:
    return 4096 if cfg.get("method") == "retrieval" else 32


STAGE = registry.stage(
    Stage(
        name="image-geolocate",
        description="where was each image taken: retrieval over geotagged images, GeoCLIP, g3",
        inputs=INPUTS,
        outputs=("image_geo_predictions", "image_geo_candidates"),
        process=process,
        prepare=prepare,
        open=open_state,
        close=close_state,
        defaults=DEFAULTS,
        scope="method",
        key="image_id",
        version="1",
        batch_size=_batch_size,
        runtime_keys=("device", "image_root", *TRANSPORT_SETTINGS),
        hash_columns=("image_path", "embedding"),
        extra="geo",
    )
)


def locate(con: Any, config: dict | None = None, where: str | None = None) -> BatchResult:
    """Run the stage in this process without writing anything (ad-hoc queries, tests).

    `config` overrides the defaults; `where` filters the input rows (SQL on image_id...).
    """
    from geosql.db import literal

    cfg = {**DEFAULTS, **(config or {})}
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise GeosqlError(f"unknown image-geolocate settings: {', '.join(sorted(unknown))}")
    sql = INPUTS.format(**{k: literal(v) for k, v in cfg.items()})
    sql = f"SELECT * FROM ({sql}) WHERE {where or 'TRUE'} ORDER BY image_id"
    spec = prepare(con, cfg)
    batch = con.sql(sql).to_arrow_table()
    state = open_state(spec, cfg)
    try:
        return process(state, batch, cfg)
    finally:
        close_state(state)
