"""`geosql bench ray`: geoparse captions/s through `--engine ray` on local CPUs against the local
runner on the same captions (shards of Parquet), attach included."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.parquet as pq

from geosql.bench import benchmark
from geosql.errors import GeosqlError, require


@benchmark("ray")
def bench_ray(workdir: Path, scale: float) -> list[str]:
    """2,000,000 captions (x scale) in 8 shards: local runner vs Ray with 2 actors."""
    import geosql
    from geosql import refdata
    from geosql.attach import attach
    from geosql.bench_geoparse import bench_captions
    from geosql.ingest import ingest
    from geosql.ray_engine import run_ray
    from geosql.runner import run_stage
    from udfs.gazetteer import load_gazetteer

    try:
        require("ray", "ray")
    except GeosqlError as e:
        return [f"skipped: {e}"]
    n = max(8_000, int(2_000_000 * scale))
    wh_local, wh_ray = workdir / "local.duckdb", workdir / "ray.duckdb"
    with geosql.connect(wh_local) as con:
        for _ in refdata.load_defaults(con):
            pass
        load_gazetteer(con)
        caps, source = bench_captions(con, n)
    shards = workdir / "shards"
    shards.mkdir()
    k = 8
    step = (caps.num_rows + k - 1) // k
    tbl = caps.select(["caption_id", "text"]).rename_columns(["id", "text"])
    for i in range(k):
        pq.write_table(tbl.slice(i * step, step), shards / f"part-{i:02d}.parquet")
    lines = [source, f"{caps.num_rows:,} captions in {k} Parquet shards"]
    with geosql.connect(wh_local) as con:
        t0 = time.perf_counter()
        ingest(con, [str(shards / "*.parquet")], "bench", id_col="id")
        t_ingest = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_stage(con, "geoparse", progress=False)
        t_local = time.perf_counter() - t0
    import shutil

    shutil.copy(wh_local, wh_ray)
    models = workdir / "local.models"
    if models.is_dir():
        shutil.copytree(models, workdir / "ray.models")
    out = workdir / "results"
    t0 = time.perf_counter()
    res = run_ray(wh_ray, "geoparse", str(shards / "*.parquet"), out, dataset="bench",
                  mapping={"id_col": "id"}, workers=2)  # fmt: skip
    t_ray = time.perf_counter() - t0
    t0 = time.perf_counter()
    with geosql.connect(wh_ray) as con:
        attach(con, out)
    t_attach = time.perf_counter() - t0
    n = caps.num_rows
    lines += [
        f"local runner: {n / t_local:,.0f} captions/s ({t_local:.1f} s; ingest {t_ingest:.1f} s more)",
        f"ray, 2 actors on this machine: {n / t_ray:,.0f} captions/s ({t_ray:.1f} s with start-up,"
        f" {len(res.done)} shards)",
        f"attach (import of the parts): {n / t_attach:,.0f} rows/s ({t_attach:.1f} s)",
    ]
    return lines
