"""The stage runner: pending rows -> Arrow batches -> stage tables, committed batch by batch.

A killed run loses at most the batch in flight; the next run selects only the rows still
missing for (stage, config_key) and carries on, replacing what that batch had written. Rows
that fail are kept in `stage_errors` with their error and are not retried unless asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import click
import duckdb
import pyarrow as pa

from geosql.db import literal
from geosql.errors import GeosqlError
from geosql.registry import BatchResult, Stage, registry


def resolve_config(stage: Stage, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stage defaults updated with overrides; unknown keys are an error."""
    cfg = dict(stage.defaults)
    for k, v in (overrides or {}).items():
        if k not in cfg:
            known = ", ".join(sorted(cfg)) or "none"
            raise GeosqlError(f"stage {stage.name!r} has no setting {k!r} (settings: {known})")
        cfg[k] = _coerce(v, cfg[k])
    return cfg


def _coerce(value: Any, default: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            return value.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return json.loads(value)
    except ValueError as e:
        raise GeosqlError(f"setting value {value!r} is not a {type(default).__name__}") from e


def config_key(stage: Stage, config: dict[str, Any]) -> str:
    """Hash of the settings that change results (runtime-only keys left out)."""
    relevant = {k: v for k, v in config.items() if k not in stage.runtime_keys}
    blob = json.dumps({"stage": stage.name, "v": stage.version, **relevant}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _fmt(sql: str, config: dict[str, Any]) -> str:
    return sql.format(**{k: literal(v) for k, v in config.items()})


def pending_sql(stage: Stage, config: dict[str, Any], where: str | None, retry_errors: bool) -> str:
    k = stage.key
    q = f"SELECT i.* FROM ({_fmt(stage.inputs, config)}) i WHERE i.{k} NOT IN ({_fmt(stage.done, config)})"
    if not retry_errors:
        q += (
            f" AND i.{k} NOT IN (SELECT item_id FROM stage_errors"
            " WHERE stage = $stage AND config_key = $config_key)"
        )
    if where:
        q += f" AND ({where})"
    return q


@dataclass
class RunSummary:
    run_id: int
    stage: str
    config_key: str
    rows_done: int
    rows_failed: int
    seconds: float
    usage: dict[str, float]

    def line(self) -> str:
        rate = self.rows_done / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.stage} [{self.config_key}] run {self.run_id}: {self.rows_done} rows done, "
            f"{self.rows_failed} failed in {self.seconds:.1f}s ({rate:,.0f} rows/s)"
        )


def _write_batch(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    config: dict[str, Any],
    ckey: str,
    run_id: int,
    ids: pa.Array,
    result: BatchResult,
) -> None:
    """Replace this batch's rows in every output table, record errors and counts.

    The first output table is the one `done` reads: it commits with the errors and the run's
    counts in one transaction, and only after the other output tables committed theirs. Those
    are written at the same time on their own cursors (DuckDB appends to a table on one
    thread), so a two-table batch is written in the time of the larger table. A crash in
    between leaves the batch's rows not done, and the next run replaces what they got.
    """
    ids_t = pa.table({"item_id": ids.cast(pa.string())})
    first, *others = stage.outputs
    with ThreadPoolExecutor(max_workers=max(len(others), 1)) as pool:
        side = [
            pool.submit(_replace_committed, con.cursor(), ids_t, stage, config, ckey, t, result)
            for t in others
        ]
        with _transaction(con):
            con.register("_geosql_ids", ids_t)
            _replace(con, stage, config, ckey, first, result)
            con.execute(
                "DELETE FROM stage_errors WHERE stage = ? AND config_key = ?"
                " AND item_id IN (SELECT item_id FROM _geosql_ids)",
                [stage.name, ckey],
            )
            con.unregister("_geosql_ids")
            if result.errors:
                err = pa.table(
                    {
                        "item_id": [str(e[0]) for e in result.errors],
                        "error_type": [e[1] for e in result.errors],
                        "error_message": [str(e[2])[:2000] for e in result.errors],
                    }
                )
                con.register("_geosql_err", err)
                con.execute(
                    "INSERT INTO stage_errors SELECT ?, ?, item_id, error_type, error_message, ?"
                    " FROM _geosql_err",
                    [stage.name, ckey, run_id],
                )
                con.unregister("_geosql_err")
            n_fail = len(result.errors)
            con.execute(
                "UPDATE stage_runs SET rows_done = rows_done + ?, rows_failed = rows_failed + ?,"
                " tokens_in = tokens_in + ?, tokens_out = tokens_out + ?,"
                " cost_usd = cost_usd + ? WHERE run_id = ?",
                [
                    len(ids) - n_fail,
                    n_fail,
                    int(result.usage.get("tokens_in", 0)),
                    int(result.usage.get("tokens_out", 0)),
                    float(result.usage.get("cost_usd", 0.0)),
                    run_id,
                ],
            )
            for f in side:
                f.result()  # their commits first (raises what they raised)


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection):
    """BEGIN ... COMMIT, or ROLLBACK on any error (a failed commit leaves none to roll back)."""
    con.begin()
    try:
        yield
        con.commit()
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.rollback()
        raise


def _replace(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    config: dict[str, Any],
    ckey: str,
    table: str,
    result: BatchResult,
) -> None:
    """Delete the batch's rows (`_geosql_ids`) of `table` within its output scope, insert the
    new ones."""
    con.execute(
        f"DELETE FROM {table} WHERE {stage.key} IN (SELECT item_id FROM _geosql_ids)"
        f" AND ({_fmt(stage.outputs[table], config)})"
    )
    rows = result.outputs.get(table)
    if rows is not None and rows.num_rows:
        if "config_key" not in rows.column_names:
            rows = rows.append_column("config_key", pa.array([ckey] * rows.num_rows))
        con.register("_geosql_rows", rows)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _geosql_rows")
        con.unregister("_geosql_rows")


def _replace_committed(cur: duckdb.DuckDBPyConnection, ids: pa.Table, *args: Any) -> None:
    """`_replace` in a transaction of its own, on a cursor of its own (closed after)."""
    try:
        with _transaction(cur):
            cur.register("_geosql_ids", ids)
            _replace(cur, *args)
    finally:
        cur.close()


def run_stage(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    config: dict[str, Any] | None = None,
    where: str | None = None,
    limit: int | None = None,
    batch_size: int | None = None,
    retry_errors: bool = False,
    progress: bool | None = None,
) -> RunSummary:
    """Run stage `name` over the rows it has not processed yet for this config."""
    stage = registry.get_stage(name)
    cfg = resolve_config(stage, config)
    ckey = config_key(stage, cfg)
    bs = batch_size or (stage.batch_size(cfg) if callable(stage.batch_size) else stage.batch_size)
    if bs < 1:
        raise GeosqlError("--batch-size must be at least 1")
    # A run still marked running cannot be alive: DuckDB admits a single writer.
    con.execute(
        "UPDATE stage_runs SET status = 'interrupted' WHERE status = 'running' AND stage = ?",
        [name],
    )
    q = pending_sql(stage, cfg, where, retry_errors)
    params = {"config_key": ckey}
    if not retry_errors:
        params["stage"] = stage.name
    count_q = f"SELECT count(*) FROM ({q})"
    if limit is not None:
        count_q = f"SELECT least(count(*), {int(limit)}) FROM ({q})"
        q += f" LIMIT {int(limit)}"
    try:
        total = con.execute(count_q, params).fetchall()[0][0]
    except duckdb.Error as e:
        raise GeosqlError(
            f"stage {name}: cannot select pending rows: {str(e).splitlines()[0]}"
        ) from e

    run_id = con.execute(
        "INSERT INTO stage_runs (stage, config_key, config, started, status)"
        " VALUES (?, ?, ?, now(), 'running') RETURNING run_id",
        [name, ckey, json.dumps(cfg, sort_keys=True)],
    ).fetchall()[0][0]
    t0 = time.perf_counter()
    done = failed = 0
    usage: dict[str, float] = {}
    status, message = "done", None
    state = None
    try:
        state = stage.setup(con, cfg) if total else None
        reader = con.cursor().sql(q, params=params) if total else None
        show = sys.stderr.isatty() if progress is None else progress
        with click.progressbar(
            length=total, label=f"{name} [{ckey[:8]}]", file=sys.stderr if show else _Null()
        ) as bar:
            if reader is not None:
                for batch in _batches(reader.to_arrow_reader(bs), bs):
                    result = stage.process(state, batch, cfg)
                    _write_batch(con, stage, cfg, ckey, run_id, batch[stage.key], result)
                    failed += len(result.errors)
                    done += batch.num_rows - len(result.errors)
                    for k, v in result.usage.items():
                        usage[k] = usage.get(k, 0) + v
                    bar.update(batch.num_rows)
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by user"
        raise
    except Exception as e:
        status, message = "failed", f"{type(e).__name__}: {e}"[:2000]
        raise
    finally:
        if state is not None and stage.teardown is not None:
            stage.teardown(state)
        con.execute(
            "UPDATE stage_runs SET finished = now(), status = ?, message = ? WHERE run_id = ?",
            [status, message, run_id],
        )
    return RunSummary(run_id, name, ckey, done, failed, time.perf_counter() - t0, usage)


def _batches(reader: pa.RecordBatchReader, size: int):
    """Tables of `size` rows (the last may be shorter) from a reader's smaller chunks."""
    buf: list[pa.RecordBatch] = []
    n = 0
    for rb in reader:
        if rb.num_rows:
            buf.append(rb)
            n += rb.num_rows
        while n >= size:
            t = pa.Table.from_batches(buf)
            yield t.slice(0, size)
            rest = t.slice(size)
            buf, n = rest.to_batches(), rest.num_rows
    if n:
        yield pa.Table.from_batches(buf)


class _Null:
    """A file that swallows the progress bar when output is not a terminal."""

    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def row_errors(fn, batch: pa.Table, key: str) -> tuple[list[Any], list[tuple[str, str, str]]]:
    """Apply `fn(row_dict)` to each row; collect results and per-row errors (None result rows)."""
    results: list[Any] = []
    errors: list[tuple[str, str, str]] = []
    for row in batch.to_pylist():
        try:
            results.append(fn(row))
        except Exception as e:  # per-row errors are data, not crashes
            results.append(None)
            errors.append((row[key], type(e).__name__, str(e)))
    return results, errors
