"""The stage runner: pending items -> Arrow batches -> stage tables, committed batch by batch.

The runner owns the bookkeeping. For each (stage, config key, item) it records in
`stage_items` what was done from which input (a hash of the input columns) and whether it
failed; an item is pending when it has no record or its input changed. A stage's config key
covers its settings, its version and the config keys of the upstream stages it depends on.
Each batch's output rows replace that batch's earlier rows of the same config key; the first
output table, the item records, the errors and the run counters commit together, last, so a
killed run loses at most the batch in flight. `stage_current` says which config the views
read per (stage, scope).

Where the stage code runs is the engine's business (`geosql.worker`): in this process, or in
worker processes that receive `prepare`'s picklable spec and call `open` and `process`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from geosql import worker
from geosql.db import literal
from geosql.errors import GeosqlError
from geosql.progress import Progress
from geosql.registry import BatchResult, Stage, registry
from geosql.settings import config_key, resolve_config
from geosql.worker import HASH_COL


def format_inputs(sql: str, config: dict[str, Any]) -> str:
    """A stage's `inputs` SQL with its {setting} placeholders filled in (as SQL literals)."""
    return sql.format(**{k: literal(v) for k, v in config.items()})


def check_where(con: duckdb.DuckDBPyConnection, where: str | None) -> str | None:
    """A user's `--where`: exactly one boolean expression, or a one-line error."""
    if where is None or not where.strip():
        return None
    if "--" in where or "/*" in where:
        raise GeosqlError("--where must be one boolean expression, without SQL comments")
    try:
        stmts = con.extract_statements(f"SELECT * FROM t WHERE (\n{where}\n)")
    except duckdb.Error as e:
        raise GeosqlError(f"--where is not a valid expression: {str(e).splitlines()[0]}") from e
    if len(stmts) != 1 or stmts[0].type != duckdb.StatementType.SELECT:
        raise GeosqlError("--where must be one boolean expression (no ';', no statements)")
    return where


def current_key(con: duckdb.DuckDBPyConnection, stage: str, scope: str | None = None) -> str:
    """The config key the views read for (stage, scope); all scopes joined when scope is None."""
    q = "SELECT string_agg(config_key, ',' ORDER BY scope) FROM stage_current WHERE stage = ?"
    args = [stage]
    if scope is not None:
        q += " AND scope = ?"
        args.append(scope)
    return con.execute(q, args).fetchall()[0][0] or ""


def upstream_keys(
    con: duckdb.DuckDBPyConnection, stage: Stage, cfg: dict[str, Any]
) -> dict[str, str]:
    """Config keys in use of the stages this one depends on ("stage" or "stage:setting", the
    setting naming the upstream scope)."""
    out = {}
    for dep in stage.depends_on:
        name, _, setting = dep.partition(":")
        scope = str(cfg[setting]) if setting else None
        out[dep] = current_key(con, name, scope)
    return out


@dataclass
class Plan:
    """What one run will do: the stage, its resolved config and key, the pending query."""

    stage: Stage
    config: dict[str, Any]
    config_key: str
    scope: str
    query: str
    params: dict[str, Any]
    columns: list[str] = field(default_factory=list)
    source: str = ""  # the inputs with their hash column, before the anti-join


def plan(
    con: duckdb.DuckDBPyConnection,
    name: str,
    config: dict[str, Any] | None = None,
    where: str | None = None,
    retry_errors: bool = False,
) -> Plan:
    """Resolve settings, the config key (upstream included) and the pending-items query."""
    stage = registry.get_stage(name)
    cfg = resolve_config(stage, config)
    where = check_where(con, where)
    if stage.check is not None:
        stage.check(con, cfg)
    ckey = config_key(stage, cfg, upstream_keys(con, stage, cfg))
    inputs = format_inputs(stage.inputs, cfg)
    try:
        cols = [d[0] for d in con.sql(f"SELECT * FROM ({inputs}) LIMIT 0").description]
    except duckdb.Error as e:
        raise GeosqlError(f"stage {name}: cannot read its inputs: {str(e).splitlines()[0]}") from e
    hashed = list(stage.hash_columns or [c for c in cols if c != stage.key])
    hash_expr = f"hash({', '.join(_q(c) for c in hashed)})" if hashed else "0::UBIGINT"
    done_status = "status = 'done'" if retry_errors else "TRUE"
    q = f"SELECT i.*, {hash_expr} AS {HASH_COL} FROM ({inputs}) i" + (
        f" WHERE ({where})" if where else ""
    )
    source = q
    q = (
        f"SELECT p.* FROM ({q}) p ANTI JOIN (SELECT item_id, input_hash FROM stage_items"
        f" WHERE stage = $stage AND config_key = $config_key AND {done_status}) d"
        f" ON d.item_id = p.{_q(stage.key)}::VARCHAR AND d.input_hash = p.{HASH_COL}"
    )
    params = {"stage": name, "config_key": ckey}
    return Plan(stage, cfg, ckey, stage.scope_value(cfg), q, params, cols, source)


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


@dataclass
class RunSummary:
    run_id: int
    stage: str
    config_key: str
    rows_done: int
    rows_failed: int
    seconds: float
    usage: dict[str, float]
    rows_pending: int = 0
    setup_seconds: float = 0.0  # before the first batch: prepare (an index build...), open

    def line(self) -> str:
        left = f", {self.rows_pending} left pending" if self.rows_pending else ""
        work = self.seconds - self.setup_seconds
        if self.setup_seconds >= 1.0 and work > 0:  # a one-time setup must not read as speed
            how = f"{self.setup_seconds:.1f}s setup, then {self.rows_done / work:,.0f} rows/s"
        else:
            how = f"{self.rows_done / self.seconds if self.seconds > 0 else 0.0:,.0f} rows/s"
        return (
            f"{self.stage} [{self.config_key}] run {self.run_id}: {self.rows_done} rows done, "
            f"{self.rows_failed} failed{left} in {self.seconds:.1f}s ({how})"
        )


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
    engine: str = "local",
    workers: int = 2,
) -> RunSummary:
    """Run stage `name` over the items it has not processed yet (for this config and input).

    engine: "local" (this process) or "process" (`workers` spawned processes, each opening
    the stage once from `prepare`'s spec).
    """
    p = plan(con, name, config, where, retry_errors)
    stage, cfg, ckey = p.stage, p.config, p.config_key
    bs = batch_size
    if bs is None:
        bs = stage.batch_size(cfg) if callable(stage.batch_size) else stage.batch_size
    if bs < 1:
        raise GeosqlError("--batch-size must be at least 1")
    if limit is not None and limit < 0:
        raise GeosqlError("--limit must be 0 or more")
    # A run still marked running cannot be alive: DuckDB admits a single writer.
    con.execute(
        "UPDATE stage_runs SET status = 'interrupted', finished = coalesce(finished, now())"
        " WHERE status = 'running' AND stage = ?",
        [name],
    )
    q = p.query + (f" LIMIT {int(limit)}" if limit is not None else "")
    try:
        n_pending = con.execute(f"SELECT count(*) FROM ({p.query})", p.params).fetchall()[0][0]
        total = n_pending if limit is None else min(n_pending, int(limit))
    except duckdb.Error as e:
        raise GeosqlError(
            f"stage {name}: cannot select pending rows: {str(e).splitlines()[0]}"
        ) from e
    run_id = con.execute(
        "INSERT INTO stage_runs (stage, config_key, config, started, status, scope, engine)"
        " VALUES (?, ?, ?, now(), 'running', ?, ?) RETURNING run_id",
        [name, ckey, json.dumps(cfg, sort_keys=True, default=str), p.scope, engine],
    ).fetchall()[0][0]
    t0 = time.perf_counter()
    tally = {"done": 0, "failed": 0, "pending": 0}
    usage: dict[str, float] = {}
    timings: dict[str, float] = {}
    status, message = "done", None
    try:
        if total:
            reader = con.cursor().sql(q, params=p.params).to_arrow_reader(bs)
            with Progress(total, f"{name} [{ckey[:8]}]", progress) as bar:
                for batch, result in worker.run(
                    stage, con, cfg, _batches(reader, bs), engine, workers, timings
                ):
                    n = _write_batch(con, stage, ckey, run_id, batch, result)
                    for k in tally:
                        tally[k] += n[k]
                    for k, v in result.usage.items():
                        usage[k] = usage.get(k, 0) + v
                    bar.update(batch.num_rows)
    except (KeyboardInterrupt, duckdb.InterruptException):
        status, message = "interrupted", "interrupted by user"
        raise
    except Exception as e:
        if "query interrupted" in str(e).lower():  # Ctrl-C inside a stage's own DuckDB
            status, message = "interrupted", "interrupted by user"
            raise KeyboardInterrupt from e
        status, message = "failed", f"{type(e).__name__}: {e}"[:2000]
        raise
    finally:
        con.execute(
            "UPDATE stage_runs SET finished = now(), status = ?, message = ?, usage = ?"
            " WHERE run_id = ?",
            [status, message, json.dumps(usage), run_id],
        )
        if status == "done":
            complete = not where and total == n_pending and not tally["pending"]
            _set_current(con, stage, p.scope, ckey, complete)
    return RunSummary(
        run_id, name, ckey, tally["done"], tally["failed"], time.perf_counter() - t0, usage,
        tally["pending"], timings.get("setup", 0.0),
    )  # fmt: skip


def _set_current(con, stage: Stage, scope: str, ckey: str, complete: bool) -> None:
    """A complete run makes its config the one the views read; a first run of a scope too."""
    have = con.execute(
        "SELECT config_key FROM stage_current WHERE stage = ? AND scope = ?", [stage.name, scope]
    ).fetchall()
    if have and (have[0][0] == ckey or not complete):
        return
    how = "complete run" if complete else "first run"
    con.execute(
        "INSERT OR REPLACE INTO stage_current (stage, scope, config_key, set_at, how, outputs)"
        " VALUES (?, ?, ?, now(), ?, ?)",
        [stage.name, scope, ckey, how, list(stage.outputs)],
    )


def set_current(
    con: duckdb.DuckDBPyConnection, stage: str, ckey: str, scope: str | None = None
) -> str:
    """`geosql stages use`: make the views read config `ckey` (a key or a unique prefix)."""
    rows = con.execute(
        "SELECT DISTINCT config_key, scope FROM stage_runs WHERE stage = ? AND starts_with(config_key, ?)",
        [stage, ckey],
    ).fetchall()
    if scope is not None:
        rows = [r for r in rows if r[1] == scope]
    keys = sorted({r[0] for r in rows})
    if len(keys) != 1:
        found = ", ".join(keys) or "none"
        raise GeosqlError(
            f"stage {stage}: config key {ckey!r} matches {found}; see `geosql stages`"
        )
    scope = scope if scope is not None else next(r[1] for r in rows if r[0] == keys[0])
    outputs = list(registry.get_stage(stage).outputs)
    con.execute(
        "INSERT OR REPLACE INTO stage_current (stage, scope, config_key, set_at, how, outputs)"
        " VALUES (?, ?, ?, now(), 'user', ?)",
        [stage, scope or stage, keys[0], outputs],
    )
    return keys[0]


def _write_batch(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    ckey: str,
    run_id: int,
    batch: pa.Table,
    result: BatchResult,
) -> dict[str, int]:
    """Replace this batch's rows in every output table; record items, errors and counts.

    The side output tables are written at the same time on their own cursors (DuckDB appends
    to a table on one thread) and commit first; the first output table commits last with the
    item records, so a crash in between leaves the batch pending and the rerun replaces
    whatever the side tables got.
    """
    key = stage.key
    failed = {str(e[0]) for e in result.errors}
    pending = {str(i) for i in result.pending} - failed
    ids = pa.table({"item_id": batch[key].cast(pa.string()), "input_hash": batch[HASH_COL]})
    first, *others = stage.outputs
    with ThreadPoolExecutor(max_workers=max(len(others), 1)) as pool:
        side = [
            pool.submit(
                _replace_committed,
                con.cursor(),
                ids,
                key,
                ckey,
                t,
                result.outputs.get(t),
                stage.unique.get(t, ()),
            )  # fmt: skip
            for t in others
        ]
        with _transaction(con):
            con.register("_geosql_ids", ids)
            _replace(con, key, ckey, first, result.outputs.get(first), stage.unique.get(first, ()))
            for table, rows in result.appends.items():
                _append_new(con, table, rows)
            # one config per item when outputs are unique across configs: the others' records go
            other = "" if stage.unique else " AND config_key = ?"
            con.execute(
                "DELETE FROM stage_items WHERE stage = ?"
                + other
                + " AND item_id IN (SELECT item_id FROM _geosql_ids)",
                [stage.name] if stage.unique else [stage.name, ckey],
            )
            con.execute(
                "DELETE FROM stage_errors WHERE stage = ? AND config_key = ?"
                " AND item_id IN (SELECT item_id FROM _geosql_ids)",
                [stage.name, ckey],
            )
            status = pa.array(
                ["failed" if i in failed else "pending" if i in pending else "done"
                 for i in ids["item_id"].to_pylist()]
            )  # fmt: skip
            con.register("_geosql_items", ids.append_column("status", status))
            con.execute(
                "INSERT INTO stage_items SELECT ?, ?, item_id, input_hash, status, ?"
                " FROM _geosql_items WHERE status <> 'pending'",
                [stage.name, ckey, run_id],
            )
            con.unregister("_geosql_items")
            con.unregister("_geosql_ids")
            if result.errors:
                err = pa.table(
                    {
                        "item_id": [str(e[0]) for e in result.errors],
                        "error_type": [str(e[1]) for e in result.errors],
                        "error_message": [str(e[2])[:2000] for e in result.errors],
                    }
                )
                con.register("_geosql_err", err)
                con.execute(
                    "INSERT INTO stage_errors SELECT ?, ?, item_id, any_value(error_type),"
                    " any_value(error_message), ? FROM _geosql_err GROUP BY item_id",
                    [stage.name, ckey, run_id],
                )
                con.unregister("_geosql_err")
            n = {"done": batch.num_rows - len(failed) - len(pending), "failed": len(failed),
                 "pending": len(pending)}  # fmt: skip
            u = result.usage
            con.execute(
                "UPDATE stage_runs SET rows_done = rows_done + ?, rows_failed = rows_failed + ?,"
                " rows_pending = rows_pending + ?, tokens_in = tokens_in + ?,"
                " tokens_out = tokens_out + ?, cost_usd = cost_usd + ? WHERE run_id = ?",
                [n["done"], n["failed"], n["pending"], int(u.get("tokens_in", 0)),
                 int(u.get("tokens_out", 0)), float(u.get("cost_usd", 0.0)), run_id],
            )  # fmt: skip
            for f in side:
                f.result()  # their commits first (raises what they raised)
    return n


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
    con, key: str, ckey: str, table: str, rows: pa.Table | None, unique: tuple[str, ...] = ()
) -> None:
    """Delete this config's rows of the batch's items (`_geosql_ids`) from `table`, insert new.

    With `unique` (columns that identify a row whatever the config, e.g. an embedding's item,
    kind and model), rows of other configs with the same identity are replaced too.
    """
    con.execute(
        f"DELETE FROM {table} WHERE config_key = ? AND {_q(key)}::VARCHAR IN"
        " (SELECT item_id FROM _geosql_ids)",
        [ckey],
    )
    if rows is not None and rows.num_rows:
        if "config_key" in rows.column_names:
            rows = rows.drop_columns(["config_key"])
        rows = rows.append_column("config_key", pa.array([ckey] * rows.num_rows, pa.string()))
        con.register("_geosql_rows", rows)
        if unique:
            cols = ", ".join(_q(c) for c in unique)
            con.execute(
                f"DELETE FROM {table} WHERE ({cols}) IN (SELECT ({cols}) FROM _geosql_rows)"
            )
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _geosql_rows")
        con.unregister("_geosql_rows")


def _append_new(con, table: str, rows: pa.Table) -> None:
    """Insert rows whose first column is not in `table` yet (caches: never replaced)."""
    if rows is None or not rows.num_rows:
        return
    k = _q(rows.column_names[0])
    con.register("_geosql_app", rows)
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT * FROM (SELECT DISTINCT ON ({k}) * FROM _geosql_app)"
        f" a WHERE a.{k} NOT IN (SELECT {k} FROM {table})"
    )
    con.unregister("_geosql_app")


def _replace_committed(
    cur, ids: pa.Table, key: str, ckey: str, table: str, rows, unique: tuple[str, ...] = ()
) -> None:
    """`_replace` in a transaction of its own, on a cursor of its own (closed after)."""
    try:
        with _transaction(cur):
            cur.register("_geosql_ids", ids)
            _replace(cur, key, ckey, table, rows, unique)
    finally:
        cur.close()


def _batches(reader: pa.RecordBatchReader, size: int) -> Iterator[pa.Table]:
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
