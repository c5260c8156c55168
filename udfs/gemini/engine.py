"""Cache first, then online or batch: the LLM engine any stage uses on the worker side.

Warehouse side: `llm_spec(con, cfg, gen)` (in a stage's `prepare`) checks credentials, moves an
old `llm_calls` to the current layout, recovers journals of killed runs, resolves prices,
exports the answered calls of this model + config to a Parquet file and lists the batch jobs
still to collect. It returns an `LlmSpec` (picklable).

Worker side: `Engine(spec)` (in `open`) answers `Request`s: cache hits cost nothing, the rest
go through `Transport` (online) or `BatchClient` (batch). Every new call is journaled the moment
it exists and collected for the runner: `take_appends()` gives the rows for
`BatchResult.appends` (`llm_calls`, batch job tables), `usage(calls)` the counters.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from geosql.errors import require
from udfs.gemini import cache
from udfs.gemini.batch import BatchClient
from udfs.gemini.online import check_credentials, gemini_sender
from udfs.gemini.transport import Call, Prices, Request, RetryPolicy, Transport, usage

# Settings that do not change results (left out of the config key): how to talk, not what.
TRANSPORT_SETTINGS: dict[str, Any] = {
    "mode": "online",
    "concurrency": 8,
    "rpm": 1000,
    "tpm": 1_000_000,
    "max_retries": 6,
    "retry_base_s": 2.0,
    "retry_max_s": 120.0,
    "timeout_s": 120.0,
    "poll_s": 30.0,
    "batch_wait_s": 0.0,
    "inline_max": 1000,
    "batch_max_requests": 50_000,
}


@dataclass
class LlmSpec:
    """What a worker needs to answer requests (picklable: paths, dicts, numbers)."""

    model: str
    gen: dict[str, Any]
    config: str
    prices: Prices | None
    settings: dict[str, Any]
    cache_path: str | None = None
    journal_dir: str | None = None
    live_jobs: dict[str, dict[str, str]] = field(default_factory=dict)
    cached: int = 0  # answers in the exported cache


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def llm_spec(con: Any, cfg: dict[str, Any], gen: dict[str, Any], log=_stderr) -> LlmSpec:
    """Warehouse side of the engine; `cfg` holds `model` and the TRANSPORT_SETTINGS."""
    from geosql.paths import models_dir

    settings = {k: cfg.get(k, v) for k, v in TRANSPORT_SETTINGS.items()}
    check_credentials(settings["mode"])
    require("google.genai", "gemini")
    model = str(cfg["model"])
    config = cache.config_json(gen)
    cache.ensure_layout(con)
    wh = _warehouse(con)
    jdir = cache.journal_dir(wh)
    n = cache.recover_journals(con, jdir)
    if n:
        log(f"recovered {n} LLM calls from the journal of an interrupted run")
    price = con.execute(
        "SELECT usd_per_1m_input, usd_per_1m_output, coalesce(batch_discount, 0)"
        " FROM llm_prices WHERE model = ?",
        [model.removeprefix("models/")],
    ).fetchall()
    if not price:
        log(f"note: no price for {model} in llm_prices; cost is recorded as 0")
    if wh is not None:
        folder = models_dir(wh) / "llm-cache"
    else:  # an in-memory warehouse: a private folder
        folder = Path(tempfile.mkdtemp(prefix="geosql-llm-"))
    path = folder / f"{cache.call_key(model, config, 'cache')[:16]}.parquet"
    cached = cache.export_answers(con, model, config, path)
    jobs: dict[str, dict[str, str]] = {}
    live = cache.live_jobs(con, model, config)
    if live:
        rows = con.execute(
            "SELECT job_name, prompt_hash, prompt FROM llm_batch_requests WHERE job_name IN"
            " (SELECT unnest(?::VARCHAR[]))",
            [list(live)],
        ).fetchall()
        for job, h, p in rows:
            jobs.setdefault(job, {})[h] = p
    return LlmSpec(
        model=model,
        gen=gen,
        config=config,
        prices=tuple(price[0]) if price else None,
        settings=settings,
        cache_path=str(path),
        journal_dir=str(jdir) if jdir else None,
        live_jobs=jobs,
        cached=cached,
    )


def _warehouse(con: Any) -> Path | None:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return Path(row[0][0]) if row and row[0][0] else None


class Engine:
    """Answers requests from the cache, else online or through batch jobs."""

    def __init__(self, spec: LlmSpec, log: Callable[[str], None] = _stderr):
        self.spec = spec
        self.s = spec.settings
        self.log = log
        self.cache = cache.CallCache(spec.cache_path)
        self.journal = cache.Journal(spec.journal_dir)
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.transport = Transport(
            RetryPolicy(
                int(self.s["max_retries"]),
                float(self.s["retry_base_s"]),
                float(self.s["retry_max_s"]),
            ),
            rpm=int(self.s["rpm"]),
            tpm=int(self.s["tpm"]),
            concurrency=int(self.s["concurrency"]),
        )
        self._batch: BatchClient | None = None
        self._warned_down = False

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def batch_mode(self) -> bool:
        return self.s["mode"] == "batch"

    def _sink(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.journal.write(table, rows)
        self.rows.setdefault(table, []).extend(rows)

    def _record(self, call: Call) -> None:
        self._sink("llm_calls", cache.call_rows([call], self.model, self.spec.config))
        self.cache.add([call])

    def answer(
        self, requests: dict[str, Request] | Iterable[Request], phase: str = "llm"
    ) -> dict[str, Call]:
        """prompt_hash -> Call for every request (failed calls carry `error`; outages and jobs
        still running are `transient`)."""
        reqs = requests if isinstance(requests, dict) else {r.prompt_hash: r for r in requests}
        done = self.cache.get({h: r.text for h, r in reqs.items()})
        todo = {h: r for h, r in reqs.items() if h not in done}
        if todo and self.batch_mode:
            if self._batch is None:
                self._batch = BatchClient(
                    self.model,
                    self.spec.gen,
                    self.spec.config,
                    self.s,
                    self.spec.live_jobs,
                    self._sink,
                    self.log,
                )
            new = self._batch.answer(todo, phase)
            for c in new.values():
                self._record(c)
            done.update(new)
        elif todo:
            was_down = self.transport.down
            done.update(
                self.transport.run(
                    gemini_sender(self.model, self.spec.gen, float(self.s["timeout_s"])),
                    todo.values(),
                    on_call=self._record,
                )
            )
            if self.transport.down and not was_down:
                self.log(
                    f"Gemini {self.transport.down}: the remaining captions stay pending;"
                    " run the same command again later"
                )
        return done

    def take_appends(self) -> dict[str, pa.Table]:
        """Rows made since the last call, per table, for `BatchResult.appends`."""
        out = {}
        for table, rows in self.rows.items():
            if rows:
                out[table] = (
                    cache.calls_table(rows)
                    if table == "llm_calls"
                    else (pa.Table.from_pylist(rows))
                )
        self.rows = {}
        return out

    def usage(self, calls: Iterable[Call]) -> dict[str, float]:
        return usage(calls, self.spec.prices)

    def close(self) -> None:
        """End of the run: the runner has stored every batch, the journal is not needed."""
        self.journal.close(delete=True)
