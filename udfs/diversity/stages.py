"""Stages `diversity` (Vendi per country) and `coverage` (generated vs real, PRDC + Vendi).

Both are group-level (key `group_id`; SQL in `queries.py`). The inputs give one row per group
with its size and a fingerprint of its members. `prepare` exports each group's seeded sample of
vectors (picked by rank in SQL, fetched by rowid) — draws×k for `diversity`, at most `cap` per side for `coverage`, never the whole
group — to one .npy per dimension in a temp folder (removed at exit) with an index
group -> rows; `open` memory-maps it; `process` is pure numpy on k×k matrices.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.errors import GeosqlError
from geosql.registry import BatchResult, Stage, registry
from geosql.runner import format_inputs
from udfs.diversity import queries
from udfs.diversity.metrics import group_rng, prdc, vendi_fixed_k


def export_pools(con: Any, sql: str, config: dict) -> dict:
    """Pick each group's sample with a `*_PICK` query and write its vectors, grouped by
    (group_id, side) in rank order, to `<tmp>/pool-<dim>.npy`. Returns the spec
    {"files": {dim: path}, "index": {(group_id, side): (dim, start, stop)}}."""
    cur = con.cursor()  # its own temp table; the runner streams on another cursor
    try:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _geosql_pool AS {format_inputs(sql, config)}")
        return _write_pools(cur.sql(queries.FETCH).to_arrow_reader(65_536))
    finally:
        cur.execute("DROP TABLE IF EXISTS _geosql_pool")
        cur.close()


def _write_pools(reader: pa.RecordBatchReader) -> dict:
    import pyarrow.compute as pc

    parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for b in reader:
        if not b.num_rows:
            continue
        emb = b.column("embedding")
        lengths = np.asarray(pc.list_value_length(emb))
        flat = np.asarray(pc.list_flatten(emb).to_numpy(zero_copy_only=False), np.float32)
        keys = np.char.add(
            np.asarray(b.column("group_id").to_pylist(), dtype=str),
            np.char.add("\x1f", np.asarray(b.column("side").to_pylist(), dtype=str)),
        )
        ranks = np.asarray(b.column("r"))
        for d in np.unique(lengths):
            sel = lengths == d
            rows = flat if sel.all() else flat[np.repeat(sel, lengths)]
            parts.setdefault(int(d), []).append((keys[sel], ranks[sel], rows.reshape(-1, int(d))))
    tmp = Path(tempfile.mkdtemp(prefix="geosql-diversity-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    files, index = {}, {}
    for d, chunks in parts.items():
        keys = np.concatenate([c[0] for c in chunks])
        ranks = np.concatenate([c[1] for c in chunks])
        uniq, codes = np.unique(keys, return_inverse=True)
        order = np.lexsort((ranks, codes))
        path = tmp / f"pool-{d}.npy"
        np.save(path, np.concatenate([c[2] for c in chunks])[order])
        codes = codes[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        stops = np.r_[starts[1:], len(codes)]
        for s, e in zip(starts, stops, strict=True):
            gid, side = str(uniq[codes[s]]).split("\x1f")
            index[(gid, side)] = (d, int(s), int(e))
        files[d] = str(path)
    return {"files": files, "index": index}


def open_pools(spec: dict, config: dict) -> dict:
    """Memory-map the exported pools (worker side)."""
    return {**spec, "arrays": {d: np.load(p, mmap_mode="r") for d, p in spec["files"].items()}}


def _pool(state: dict, group: str, side: str = "") -> np.ndarray:
    hit = state["index"].get((group, side))
    if hit is None:
        return np.zeros((0, 0), dtype=np.float32)
    d, s, e = hit
    return np.asarray(state["arrays"][d][s:e])


def _check(config: dict) -> None:
    if int(config["k"]) < 2 or int(config["draws"]) < 1:
        raise GeosqlError(f"settings k={config['k']}, draws={config['draws']}: k must be at"
                          " least 2 and draws at least 1")  # fmt: skip
    if not 0 < float(config["ci"]) < 1:
        raise GeosqlError(f"setting ci={config['ci']} must lie between 0 and 1 (e.g. 0.95)")


def _estimate(pool: np.ndarray, group: str, config: dict):
    return vendi_fixed_k(
        pool,
        int(config["k"]),
        int(config["draws"]),
        group_rng(int(config["seed"]), group),
        bootstrap=int(config["bootstrap"]),
        ci=float(config["ci"]),
    )


# --------------------------------------------------------------------------- diversity

DIVERSITY_SCHEMA = pa.schema(
    [("group_id", pa.string()), ("dataset", pa.string()), ("entity", pa.string()),
     ("country_code", pa.string()), ("modality", pa.string()), ("model_key", pa.string()),
     ("method", pa.string()), ("k", pa.int32()), ("n", pa.int64()), ("draws", pa.int32()),
     ("vendi", pa.float64()), ("ci_low", pa.float64()), ("ci_high", pa.float64()),
     ("status", pa.string())]
)  # fmt: skip


def diversity_prepare(con: Any, config: dict) -> dict:
    _check(config)
    return export_pools(con, queries.DIVERSITY_PICK, config)


def diversity_process(state: dict, batch: pa.Table, config: dict) -> BatchResult:
    """One Vendi estimate at fixed k per group row (pure)."""
    k = int(config["k"])
    rows = []
    meta = ["group_id", "dataset", "entity", "country_code", "modality", "model_key", "n"]
    for row in batch.select(meta).to_pylist():
        out = {**row, "method": config["method"], "k": k, "draws": int(config["draws"])}
        if row["n"] < k:
            out.update(vendi=None, ci_low=None, ci_high=None, status="insufficient")
        else:
            est = _estimate(_pool(state, row["group_id"]), row["group_id"], config)
            out.update(vendi=est.vendi, ci_low=est.ci_low, ci_high=est.ci_high, status="ok")
        rows.append(out)
    return BatchResult({"diversity_scores": pa.Table.from_pylist(rows, schema=DIVERSITY_SCHEMA)})


registry.stage(
    Stage(
        name="diversity",
        description="Vendi score per (dataset, entity, country, modality, model) at fixed k",
        inputs=queries.DIVERSITY_INPUTS,
        outputs=("diversity_scores",),
        process=diversity_process,
        prepare=diversity_prepare,
        open=open_pools,
        defaults={
            "method": "offline",  # geoparse method the countries come from
            "k": 100,  # sample size every group is scored at
            "draws": 10,  # seeded k-item draws averaged
            "bootstrap": 1000,  # resamples of the draws for the interval
            "ci": 0.95,
            "seed": 0,
            "kinds": "image,text",  # embedding kinds (modalities) scored
            "model_key": "",  # '' = every embedding model
            "presence": True,  # only images showing the entity, where it was classified
        },
        scope="method",
        depends_on=("geoparse:method",),
        key="group_id",
        hash_columns=("n", "members"),
        batch_size=256,
        version="1",
    )
)


# --------------------------------------------------------------------------- coverage

COVERAGE_SCHEMA = pa.schema(
    [("group_id", pa.string()), ("entity", pa.string()), ("country_code", pa.string()),
     ("model_key", pa.string()), ("generated_dataset", pa.string()), ("nearest_k", pa.int32()),
     ("k", pa.int32()), ("n_real", pa.int64()), ("n_generated", pa.int64()),
     ("precision", pa.float64()), ("recall", pa.float64()), ("density", pa.float64()),
     ("coverage", pa.float64()), ("vendi_real", pa.float64()), ("vendi_generated", pa.float64()),
     ("status", pa.string())]
)  # fmt: skip


def coverage_prepare(con: Any, config: dict) -> dict:
    _check(config)
    if not str(config["generated"]).strip():
        raise GeosqlError(queries.NO_GENERATED)
    if int(config["nearest_k"]) < 1 or int(config["cap"]) < int(config["k"]):
        raise GeosqlError("coverage: nearest_k must be at least 1 and cap at least k")
    return export_pools(con, queries.COVERAGE_PICK, config)


def coverage_process(state: dict, batch: pa.Table, config: dict) -> BatchResult:
    """PRDC and Vendi of both sides per (entity, country, model) row (pure)."""
    k, nk = int(config["k"]), int(config["nearest_k"])
    rows = []
    meta = ["group_id", "entity", "country_code", "model_key", "n_real", "n_generated"]
    for row in batch.select(meta).to_pylist():
        real, gen = (
            _pool(state, row["group_id"], "real"),
            _pool(state, row["group_id"], "generated"),
        )
        out = {**row, "generated_dataset": config["generated"], "nearest_k": nk, "k": k}
        out["status"] = "insufficient"
        if len(real) > nk and len(gen) > nk:
            p = prdc(real, gen, nk)
            out.update(precision=p.precision, recall=p.recall, density=p.density,
                       coverage=p.coverage, status="ok")  # fmt: skip
        for side, x in (("real", real), ("generated", gen)):
            if len(x) >= k:
                out[f"vendi_{side}"] = _estimate(x, f"{row['group_id']}|{side}", config).vendi
        rows.append(out)
    return BatchResult({"generation_coverage": pa.Table.from_pylist(rows, schema=COVERAGE_SCHEMA)})


registry.stage(
    Stage(
        name="coverage",
        description="generated vs real images per (entity, country): PRDC and Vendi",
        inputs=queries.COVERAGE_INPUTS,
        outputs=("generation_coverage",),
        process=coverage_process,
        prepare=coverage_prepare,
        open=open_pools,
        defaults={
            "generated": "",  # dataset of the generated images (required)
            "real": "",  # dataset of the real images ('' = every other dataset)
            "method": "offline",  # country of the real images
            "generated_method": "label",  # country of the generated images
            "kind": "image",
            "model_key": "",
            "nearest_k": 5,
            "cap": 5000,  # seeded sample per side (PRDC is quadratic in it)
            "k": 100,
            "draws": 10,
            "bootstrap": 0,  # coverage keeps only the mean Vendi
            "ci": 0.95,
            "seed": 0,
            "presence": True,
        },
        scope="generated",
        depends_on=("geoparse:method",),
        key="group_id",
        hash_columns=("n_real", "n_generated", "members"),
        batch_size=8,
        version="1",
    )
)
