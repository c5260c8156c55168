"""The LLM call cache behind one interface, on both sides of the stage contract.

Warehouse side (`prepare`, with a connection): `ensure_layout` (v1 -> v2 `llm_calls`),
`recover_journals` (answers and batch jobs a killed worker had paid for), `export_answers`
(the answered calls of one model + config as a Parquet file whose path goes in the spec),
`live_jobs` (Batch API jobs still to collect).

Worker side (pure, no connection): `CallCache(path)` reads that file lazily and remembers the
answers of this run; `Journal` appends every new row to a local JSONL file the moment it exists
(so a kill loses nothing paid for); `call_rows` gives the rows the runner appends to `llm_calls`
(`BatchResult.appends`, keyed by `call_key`, never replaced).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from geosql.db import literal
from geosql.paths import sql_dir
from udfs.gemini.transport import Call

CALLS = pa.schema(
    [
        ("call_key", pa.string()),
        ("prompt_hash", pa.string()),
        ("model", pa.string()),
        ("config", pa.string()),
        ("prompt", pa.string()),
        ("response", pa.string()),
        ("tokens_in", pa.int64()),
        ("tokens_out", pa.int64()),
        ("latency_s", pa.float64()),
        ("mode", pa.string()),
        ("batch_job", pa.string()),
        ("attempts", pa.int32()),
        ("error", pa.string()),
        ("created", pa.timestamp("us")),
    ]
)
JOURNAL_TABLES = ("llm_calls", "llm_batch_jobs", "llm_batch_requests", "llm_batch_done")


def config_json(gen: dict[str, Any]) -> str:
    """The generation config as canonical JSON (`llm_calls.config`)."""
    return json.dumps(gen, sort_keys=True)


def call_key(model: str, config: str, prompt_hash: str) -> str:
    """The key of an answered request: sha256 of model, config and prompt hash."""
    return hashlib.sha256(f"{model}\n{config}\n{prompt_hash}".encode()).hexdigest()


def call_rows(calls: Iterable[Call], model: str, config: str) -> list[dict[str, Any]]:
    """`llm_calls` rows for calls made in this run (answers and failures; not cache hits).

    An answer is keyed by `call_key`; a failure by that key plus a unique suffix, so it is kept
    for the record and never blocks the answer a later run gets.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for c in calls:
        if not (c.fresh or (c.text is None and c.attempts > 0)):
            continue  # a cache hit, or never sent (outage breaker)
        key = call_key(model, config, c.prompt_hash)
        if c.text is None:
            key += ":failed:" + uuid.uuid4().hex[:12]
        rows.append(
            {
                "call_key": key,
                "prompt_hash": c.prompt_hash,
                "model": model,
                "config": config,
                "prompt": c.prompt,
                "response": c.text,
                "tokens_in": c.tokens_in,
                "tokens_out": c.tokens_out,
                "latency_s": c.latency_s,
                "mode": c.mode,
                "batch_job": c.batch_job,
                "attempts": c.attempts,
                "error": c.error,
                "created": now,
            }
        )
    return rows


def calls_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, CALLS)


# -- warehouse side ------------------------------------------------------------------------


def ensure_layout(con: Any) -> None:
    """Move v1 tables to the v2 layout in one transaction, keeping every row: `llm_calls`
    keyed by (prompt_hash, model, config) gets `call_key`; `llm_geoparse` loses its primary
    key on (caption_id, method), which two configs of one method would break;
    `llm_batch_requests` gets `request_key`. No-op on v2."""

    def first_col(table: str) -> str:
        return con.execute(f"DESCRIBE {table}").fetchall()[0][0]

    old_calls = first_col("llm_calls") != "call_key"
    old_reqs = first_col("llm_batch_requests") != "request_key"
    old_detail = con.execute(
        "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'llm_geoparse'"
        " AND constraint_type = 'PRIMARY KEY'"
    ).fetchall()[0][0]
    if not (old_calls or old_detail or old_reqs):
        return
    ddl = (sql_dir() / "schema" / "050_llm.sql").read_text(encoding="utf-8")
    con.begin()
    try:
        if old_calls:
            con.execute("ALTER TABLE llm_calls RENAME TO llm_calls_v1")
        if old_detail:
            con.execute("ALTER TABLE llm_geoparse RENAME TO llm_geoparse_v1")
        if old_reqs:
            con.execute("ALTER TABLE llm_batch_requests RENAME TO llm_batch_requests_v1")
        con.execute(ddl)
        if old_reqs:
            con.execute(
                "INSERT INTO llm_batch_requests BY NAME SELECT job_name || ':' || prompt_hash"
                " AS request_key, * FROM llm_batch_requests_v1"
            )
            con.execute("DROP TABLE llm_batch_requests_v1")
        if old_calls:
            con.execute(
                "INSERT INTO llm_calls BY NAME SELECT sha256(model || chr(10) || config"
                " || chr(10) || prompt_hash) || CASE WHEN response IS NULL THEN ':failed:v1'"
                " ELSE '' END AS call_key, * FROM llm_calls_v1"
            )
            con.execute("DROP TABLE llm_calls_v1")
        if old_detail:
            con.execute("INSERT INTO llm_geoparse BY NAME SELECT * FROM llm_geoparse_v1")
            con.execute("DROP TABLE llm_geoparse_v1")
        con.commit()
    except BaseException:
        con.rollback()
        raise


def journal_dir(warehouse: Path | None) -> Path | None:
    if warehouse is None:
        return None
    from geosql.paths import models_dir

    return models_dir(warehouse) / "llm-journal"


def recover_journals(con: Any, folder: Path | None) -> int:
    """Insert the rows of leftover worker journals not yet in the warehouse (one transaction),
    then delete the journals. Returns the number of `llm_calls` rows recovered."""
    if folder is None or not folder.is_dir():
        return 0
    files = sorted(folder.glob("*.jsonl"))
    rows: dict[str, list[dict]] = {t: [] for t in JOURNAL_TABLES}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                rec = json.loads(line)  # a line cut by a kill is skipped
                if rec["t"] in rows:
                    rows[rec["t"]].append(rec["r"])
    before = con.execute("SELECT count(*) FROM llm_calls").fetchall()[0][0]
    con.begin()
    try:
        for table, recs in rows.items():
            if recs:
                t = pa.Table.from_pylist(recs)
                con.register("_llm_journal", t)
                con.execute(f"INSERT OR IGNORE INTO {table} BY NAME SELECT * FROM _llm_journal")
                con.unregister("_llm_journal")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    for f in files:
        f.unlink(missing_ok=True)
    return con.execute("SELECT count(*) FROM llm_calls").fetchall()[0][0] - before


def export_answers(con: Any, model: str, config: str, path: Path) -> int:
    """Write the answered calls of (model, config) to a Parquet file; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    q = (
        "SELECT prompt_hash, any_value(response) AS response, any_value(tokens_in) AS tokens_in,"
        " any_value(tokens_out) AS tokens_out, any_value(mode) AS mode,"
        " any_value(batch_job) AS batch_job FROM llm_calls"
        f" WHERE model = {literal(model)} AND config = {literal(config)}"
        " AND response IS NOT NULL GROUP BY prompt_hash"
    )
    con.execute(f"COPY ({q}) TO {literal(str(tmp))} (FORMAT parquet)")
    tmp.replace(path)
    return con.execute(f"SELECT count(*) FROM read_parquet({literal(str(path))})").fetchall()[0][0]


def live_jobs(con: Any, model: str, config: str) -> dict[str, set[str]]:
    """Batch jobs submitted and not yet collected: job name -> its prompt hashes."""
    rows = con.execute(
        "SELECT r.job_name, r.prompt_hash FROM llm_batch_requests r"
        " JOIN llm_batch_jobs j USING (job_name)"
        " WHERE NOT coalesce(j.ingested, false) AND j.model = ? AND j.config = ?"
        " AND j.job_name NOT IN (SELECT job_name FROM llm_batch_done)",
        [model, config],
    ).fetchall()
    out: dict[str, set[str]] = {}
    for job, h in rows:
        out.setdefault(job, set()).add(h)
    return out


# -- worker side ---------------------------------------------------------------------------


class CallCache:
    """Answered calls: the exported file (read on first use) plus the answers of this run."""

    def __init__(self, path: str | None):
        self.path = path
        self._index: dict[str, int] | None = None
        self._cols: dict[str, list] = {}
        self._new: dict[str, tuple] = {}

    def _load(self) -> dict[str, int]:
        if self._index is None:
            self._index = {}
            if self.path and Path(self.path).exists():
                import pyarrow.parquet as pq

                self._cols = pq.read_table(self.path).to_pydict()
                hashes = self._cols["prompt_hash"]
                self._index = dict(zip(hashes, range(len(hashes)), strict=True))
        return self._index

    def get(self, prompts: dict[str, str]) -> dict[str, Call]:
        """hash -> cached Call (not fresh) for the prompts {hash: prompt text} answered before."""
        index, cols, out = self._load(), self._cols, {}
        for h, p in prompts.items():
            if h in self._new:
                text, t_in, t_out, mode, job = self._new[h]
            elif h in index:
                i = index[h]
                text, t_in, t_out = cols["response"][i], cols["tokens_in"][i], cols["tokens_out"][i]
                mode, job = cols["mode"][i], cols["batch_job"][i]
            else:
                continue
            out[h] = Call(h, p, text, t_in or 0, t_out or 0, None, 1, None, mode or "online", job)
        return out

    def add(self, calls: Iterable[Call]) -> None:
        for c in calls:
            if c.text is not None:
                self._new[c.prompt_hash] = (c.text, c.tokens_in, c.tokens_out, c.mode, c.batch_job)


class Journal:
    """Append-only JSONL of rows the runner has not stored yet (flushed line by line)."""

    def __init__(self, folder: str | None):
        self.path: Path | None = None
        if folder:
            try:
                Path(folder).mkdir(parents=True, exist_ok=True)
                self.path = Path(folder) / f"{uuid.uuid4().hex}.jsonl"
            except OSError:  # a worker that cannot reach the warehouse folder: no journal
                self.path = None
        self._fh: Any = None

    def write(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        if self.path is None:
            return
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        for r in rows:
            self._fh.write(json.dumps({"t": table, "r": r}, default=str, ensure_ascii=False))
            self._fh.write("\n")
        self._fh.flush()

    def close(self, delete: bool = False) -> None:
        """Close the file; `delete` once the runner has stored every row (end of the run)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if delete and self.path is not None:
            self.path.unlink(missing_ok=True)
