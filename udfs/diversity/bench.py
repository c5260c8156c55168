"""Benchmark: the `diversity` stage on 1,000,000 512-d embeddings in 200 countries at k=100."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from geosql.bench import benchmark

CHUNK = 100_000


def build_warehouse(path: Path, n: int, countries: int, dim: int = 512, seed: int = 0) -> float:
    """A warehouse with n captions of one entity spread evenly over `countries` countries
    (method `label`) and one random unit image vector each; returns the seconds it took."""
    import geosql
    from geosql.countries import country_names

    t0 = time.perf_counter()
    codes = sorted(country_names())[:countries]
    rng = np.random.default_rng(seed)
    with geosql.connect(path) as con:
        for s in range(0, n, CHUNK):
            m = min(CHUNK, n - s)
            ids = pa.array([f"b:{i}" for i in range(s, s + m)])
            cc = pa.array([codes[i % len(codes)] for i in range(s, s + m)])
            v = rng.standard_normal((m, dim), dtype=np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            offsets = pa.array(np.arange(0, (m + 1) * dim, dim, dtype=np.int32))
            t = pa.table(
                {
                    "item_id": ids,
                    "country_code": cc,
                    "embedding": pa.ListArray.from_arrays(offsets, pa.array(v.ravel())),
                }
            )
            con.register("_bench", t)
            con.execute(
                "INSERT INTO captions (caption_id, dataset, text)"
                " SELECT item_id, 'bench', 'a house' FROM _bench;"
                "INSERT INTO caption_entities SELECT item_id, 'house' FROM _bench;"
                "INSERT INTO geo_predictions (caption_id, method, country_code, confidence)"
                " SELECT item_id, 'label', country_code, 1.0 FROM _bench;"
                f"INSERT INTO embeddings SELECT item_id, 'image', 'bench/rand', {dim},"
                " embedding, 1.0, NULL FROM _bench"
            )
            con.unregister("_bench")
    return time.perf_counter() - t0


@benchmark("diversity")
def bench_diversity(workdir: Path, scale: float) -> list[str]:
    import geosql
    from geosql.runner import run_stage

    n = int(1_000_000 * scale)
    countries = 200
    wh = workdir / "div.duckdb"
    build = build_warehouse(wh, n, countries)
    lines = [f"built {n:,} captions + 512-d embeddings in {countries} countries in {build:.1f}s"]
    with geosql.connect(wh) as con:
        t0, c0 = time.perf_counter(), time.process_time()
        s = run_stage(con, "diversity", config={"method": "label", "kinds": "image"})
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        lo, hi, ok = con.execute(
            "SELECT min(vendi), max(vendi), count(*) FILTER (WHERE status = 'ok')"
            " FROM diversity_scores"
        ).fetchall()[0]
        t1 = time.perf_counter()
        again = run_stage(con, "diversity", config={"method": "label", "kinds": "image"})
        rerun = time.perf_counter() - t1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines.append(
        f"diversity stage, k=100, 10 draws, 1000 bootstrap resamples: {s.rows_done} groups"
        f" ({ok} scored) in {took:.1f}s wall, {cpu:.1f}s CPU (all threads), load average"
        f" {load:.1f} on {os.cpu_count()} cores (target < 60 s); Vendi {lo:.1f}-{hi:.1f}"
    )
    lines.append(f"rerun with nothing changed: {again.rows_done} groups in {rerun:.1f}s")
    return lines
