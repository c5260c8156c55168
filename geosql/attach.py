"""`geosql attach DIR`: import the parts of a `--engine ray` run into the warehouse.

Imported, not viewed over `read_parquet`: each part goes through the runner's own batch write
(`geosql.runner._write_batch`), so its rows replace earlier rows of the same items and config,
its item records carry the same input hashes as a local run, errors land in `stage_errors`,
appended caches are inserted once, and `stage_current` switches when every shard is in. Every
SQL view then works unchanged. One transaction per part; parts already attached are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from geosql.errors import GeosqlError
from geosql.registry import BatchResult
from geosql.shards import RUN_FILE, marker, part_name
from geosql.worker import HASH_COL, get_stage


def attach(con: duckdb.DuckDBPyConnection, output: str | Path) -> tuple[int, int, int]:
    """Import the finished parts under `output`; returns (parts attached, parts skipped, rows)."""
    from geosql.runner import _set_current, _write_batch

    out = Path(output)
    f = out / RUN_FILE
    if not f.exists():
        raise GeosqlError(f"{out}: no {RUN_FILE}; not a `geosql run --engine ray` output folder")
    run = json.loads(f.read_text())
    stage = get_stage(run["stage"], run["module"])
    ckey = run["config_key"]
    con.execute(
        "CREATE TABLE IF NOT EXISTS attached_parts (output VARCHAR, part VARCHAR, run_id BIGINT,"
        " rows BIGINT, attached TIMESTAMP DEFAULT now())"
    )
    have = {
        r[0]
        for r in con.execute(
            "SELECT part FROM attached_parts WHERE output = ?", [run["output"]]
        ).fetchall()
    }
    run_id = con.execute(
        "INSERT INTO stage_runs (stage, config_key, config, started, status, scope, engine)"
        " VALUES (?, ?, ?, now(), 'running', ?, 'ray') RETURNING run_id",
        [stage.name, ckey, json.dumps(run["config"], sort_keys=True), run["scope"]],
    ).fetchall()[0][0]
    n_parts = skipped = rows = 0
    missing = 0
    try:
        for shard in run["shards"]:
            part = part_name(shard)
            if not marker(out, shard).exists():
                missing += 1
                continue
            if part in have:
                skipped += 1
                continue
            batch, result = _read_part(out, part, stage)
            _write_batch(con, stage, ckey, run_id, batch, result)
            con.execute(
                "INSERT INTO attached_parts (output, part, run_id, rows) VALUES (?, ?, ?, ?)",
                [run["output"], part, run_id, batch.num_rows],
            )
            n_parts += 1
            rows += batch.num_rows
    except BaseException as e:
        con.execute(
            "UPDATE stage_runs SET finished = now(), status = 'failed', message = ? WHERE run_id = ?",
            [f"{type(e).__name__}: {e}"[:2000], run_id],
        )
        raise
    con.execute(
        "UPDATE stage_runs SET finished = now(), status = 'done', message = ? WHERE run_id = ?",
        [f"attached {n_parts} parts from {run['output']}", run_id],
    )
    _set_current(con, stage, run["scope"], ckey, complete=missing == 0)
    return n_parts, skipped, rows


def _read_part(out: Path, part: str, stage) -> tuple[pa.Table, BatchResult]:
    items = pq.read_table(out / "_items" / f"{part}.parquet")
    errs = pq.read_table(out / "_errors" / f"{part}.parquet").to_pylist()
    outputs = {}
    for t in stage.outputs:
        p = out / t / f"{part}.parquet"
        if p.exists():
            outputs[t] = pq.read_table(p)
    appends = {}
    app_dir = out / "_appends"
    if app_dir.is_dir():
        for d in app_dir.iterdir():
            p = d / f"{part}.parquet"
            if p.exists():
                appends[d.name] = pq.read_table(p)
    pending = [r["item_id"] for r in items.to_pylist() if r["status"] == "pending"]
    batch = pa.table({stage.key: items["item_id"], HASH_COL: items["input_hash"]})
    errors = [(e["item_id"], e["error_type"], e["error_message"]) for e in errs]
    return batch, BatchResult(outputs, errors, {}, appends, pending)
