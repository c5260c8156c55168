"""A stage over caption shards, one shard at a time, with nothing but the shard and the spec.

This is what a Ray actor runs (`geosql.ray_engine`), and it works the same in any process:
`ShardRunner(...)(shard)` reads the shard's captions with the same column mapping as
`geosql ingest` (so caption ids and input hashes equal a local run's), runs the opened stage
batch by batch, and writes one Parquet part per output table plus the item records, errors
and appends, each to a temporary name renamed into place; a `_done/<part>.json` marker is
written last. A shard whose marker exists is skipped; a shard killed half-way is redone whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from geosql.ingest import _fmt_of, _select, check_columns
from geosql.worker import HASH_COL, Worker

RUN_FILE = "_run.json"


def part_name(shard: str) -> str:
    """A stable file name for a shard's parts: its stem plus a short hash of its full path."""
    stem = Path(shard).name.split(".")[0][:60]
    return f"{stem}-{hashlib.sha1(str(Path(shard).resolve()).encode()).hexdigest()[:8]}"


def marker(out: Path, shard: str) -> Path:
    return out / "_done" / f"{part_name(shard)}.json"


def failure(out: Path, shard: str) -> Path:
    return out / "_failed" / f"{part_name(shard)}.json"


def running(out: Path, shard: str) -> Path:
    """Written when a worker starts a shard (host, pid, start time), removed when it ends."""
    return out / "_running" / f"{part_name(shard)}.json"


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _write_json(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class ShardRunner:
    """One opened stage that processes whole shards into Parquet parts under `out`."""

    def __init__(self, run: dict[str, Any], spec: Any) -> None:
        self.run = run
        self.out = Path(run["output"])
        self.worker = Worker(run["stage"], spec, run["config"], run["module"])
        self.stage = self.worker.stage

    def __call__(self, shard: str) -> dict[str, Any]:
        if marker(self.out, shard).exists():
            return {"shard": shard, "status": "skipped", "rows": 0, "error": ""}
        run_file = running(self.out, shard)
        _write_json(
            {"shard": shard, "host": socket.gethostname(), "pid": os.getpid(),
             "started": time.time()}, run_file)  # fmt: skip
        try:
            counts = self._run_shard(shard)
        except Exception as e:  # reported per shard; the driver retries, then lists it
            err = f"{type(e).__name__}: {e}"[:2000]
            _write_json({"shard": shard, "error": err, "trace": traceback.format_exc()[-4000:]},
                        failure(self.out, shard))  # fmt: skip
            run_file.unlink(missing_ok=True)
            return {"shard": shard, "status": "failed", "rows": 0, "error": err}
        failure(self.out, shard).unlink(missing_ok=True)
        _write_json({"shard": shard, **counts}, marker(self.out, shard))
        run_file.unlink(missing_ok=True)
        return {"shard": shard, "status": "done", "rows": counts["rows"], "error": ""}

    def _inputs(self, con: duckdb.DuckDBPyConnection, shard: str) -> pa.RecordBatchReader:
        m = self.run["mapping"]
        wanted = {"text": m["text_col"], "id": m.get("id_col"), "url": m.get("url_col"),
                  "image": m.get("image_col"), "language": m.get("language_col")}  # fmt: skip
        cols = check_columns(con, [shard], wanted)
        sel = _select(_fmt_of(shard), [shard], cols, m["dataset"], m.get("language"))
        con.execute(
            f"CREATE VIEW captions AS SELECT caption_id, {m['dataset']!r} AS dataset, language,"
            f" text, url, image_path, source_file FROM ({sel})"
        )
        q = self.run["query"]  # the runner's pending query shape, without the anti-join
        return con.sql(q).to_arrow_reader(self.run["batch_size"])

    def _run_shard(self, shard: str) -> dict[str, Any]:
        from geosql.runner import _batches

        key, ckey = self.stage.key, self.run["config_key"]
        outputs: dict[str, list[pa.Table]] = {t: [] for t in self.stage.outputs}
        appends: dict[str, list[pa.Table]] = {}
        items, errors, usage = [], [], {}
        with duckdb.connect() as con:
            reader = self._inputs(con, shard)
            for batch in _batches(reader, self.run["batch_size"]):
                r = self.worker(batch)
                for t, rows in r.outputs.items():
                    if rows is not None and rows.num_rows:
                        rows = rows.drop_columns(
                            [c for c in ["config_key"] if c in rows.column_names]
                        )
                        outputs[t].append(
                            rows.append_column(
                                "config_key", pa.array([ckey] * rows.num_rows, pa.string())
                            )
                        )
                for t, rows in r.appends.items():
                    if rows is not None and rows.num_rows:
                        appends.setdefault(t, []).append(rows)
                failed = {str(e[0]) for e in r.errors}
                pending = {str(i) for i in r.pending} - failed
                ids = batch[key].cast(pa.string()).to_pylist()
                status = [
                    "failed" if i in failed else "pending" if i in pending else "done" for i in ids
                ]
                items.append(pa.table({"item_id": pa.array(ids, pa.string()),
                                       "input_hash": batch[HASH_COL], "status": status}))  # fmt: skip
                errors += [(str(e[0]), str(e[1]), str(e[2])[:2000]) for e in r.errors]
                for k, v in r.usage.items():
                    usage[k] = usage.get(k, 0) + v
        part = part_name(shard)
        for t, parts in outputs.items():
            if parts:
                _write(
                    pa.concat_tables(parts, promote_options="default"),
                    self.out / t / f"{part}.parquet",
                )
        for t, parts in appends.items():
            _write(
                pa.concat_tables(parts, promote_options="default"),
                self.out / "_appends" / t / f"{part}.parquet",
            )
        item_t = pa.concat_tables(items) if items else pa.table(
            {"item_id": pa.array([], pa.string()), "input_hash": pa.array([], pa.uint64()), "status": pa.array([], pa.string())}
        )  # fmt: skip
        _write(item_t, self.out / "_items" / f"{part}.parquet")
        err_t = pa.table({"item_id": [e[0] for e in errors], "error_type": [e[1] for e in errors],
                          "error_message": [e[2] for e in errors]})  # fmt: skip
        _write(err_t, self.out / "_errors" / f"{part}.parquet")
        return {"rows": item_t.num_rows, "failed": len(errors), "usage": usage, "part": part}
