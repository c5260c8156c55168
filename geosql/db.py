"""The one connection path: `connect()` opens a warehouse with schema, views and UDFs ready."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

from geosql.errors import GeosqlError
from geosql.paths import default_warehouse, sql_dir
from geosql.registry import registry


def _statements(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create tables (sql/schema/*.sql, in order) and (re)create views (sql/views/*.sql).

    Idempotent. Views may depend on each other: a view that fails to bind is retried after
    the others until no progress is made.
    """
    for f in sorted((sql_dir() / "schema").glob("*.sql")):
        con.execute(_statements(f))
    pending = sorted((sql_dir() / "views").glob("*.sql"))
    while pending:
        failed: list[Path] = []
        last_error: Exception | None = None
        for f in pending:
            try:
                con.execute(_statements(f))
            except duckdb.Error as e:
                failed.append(f)
                last_error = e
        if len(failed) == len(pending):
            raise GeosqlError(f"view {failed[0].name} does not bind: {last_error}")
        pending = failed


def view_docs() -> dict[str, str]:
    """View name -> its header comment (what question the view answers)."""
    out = {}
    for f in sorted((sql_dir() / "views").glob("*.sql")):
        header = []
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.startswith("--"):
                break
            header.append(line[2:].strip())
        out[f.stem] = " ".join(h for h in header if h)
    return out


def connect(
    path: str | Path | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a geosql warehouse; use it as a context manager.

    Tables and views are created when missing; every registered UDF is registered on the
    connection. `path=":memory:"` gives a throwaway warehouse.
    """
    target = str(path) if path is not None else str(default_warehouse())
    if target != ":memory:":
        p = Path(target)
        check_warehouse_path(p)
        if read_only and not p.exists():
            raise GeosqlError(f"warehouse {p} does not exist; run `geosql init` first")
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.IOException as e:
        msg = str(e).splitlines()[0]
        if "lock" in msg.lower():
            msg = f"warehouse {target} is in use by another process (DuckDB allows one writer)"
        raise GeosqlError(msg) from e
    try:
        # DuckDB's own progress bar redraws in place: junk in logs and pipes.
        if not getattr(sys.stdout, "isatty", lambda: False)():
            con.execute("SET enable_progress_bar = false")
        if not read_only:
            apply_schema(con)
        registry.register_udfs(con)
    except Exception:
        con.close()
        raise
    return con


def check_warehouse_path(p: Path) -> None:
    """Refuse a path that is not (or cannot become) a DuckDB file: an existing CSV/Parquet
    or other file would be opened as a throwaway in-memory database and nothing saved."""
    for parent in p.parents:
        if parent.exists() and not parent.is_dir():
            raise GeosqlError(f"warehouse {p}: {parent} is a file, not a folder")
    if not p.exists():
        return
    if not p.is_file():
        raise GeosqlError(f"warehouse {p} is not a regular file")
    with p.open("rb") as f:
        head = f.read(12)
    if head and head[8:12] != b"DUCK":
        raise GeosqlError(
            f"warehouse {p} is not a DuckDB file (a CSV or Parquet file? ingest it with"
            f" `geosql ingest {p} --dataset NAME` into a warehouse given with -w FILE.duckdb)"
        )


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """Quote-check an identifier coming from the user (table, column)."""
    if not _IDENT.match(name):
        raise GeosqlError(f"not a valid SQL identifier: {name!r}")
    return name


def literal(value: object) -> str:
    """Render a Python scalar as a SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, where: str = ""
) -> int:
    con.register("_ref_rows", rows)
    con.execute(f"DELETE FROM {table} {where}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _ref_rows")
    con.unregister("_ref_rows")
    return rows.num_rows
