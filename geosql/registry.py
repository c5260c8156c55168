"""One small registry: model families in `udfs/` declare their UDFs, stages and CLI commands here.

`geosql.connect()` registers every UDF on the connection it opens (DuckDB does not persist Python
UDFs); the runner and the CLI look stages up by name.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class Udf:
    name: str
    fn: Callable
    parameters: list[str]
    return_type: str
    options: dict[str, Any] = field(default_factory=dict)
    factory: bool = False  # fn(con) -> the function, bound to the warehouse it is registered on


@dataclass
class BatchResult:
    """What a stage's `process` returns for one batch (it touches no database).

    outputs: table name -> Arrow rows to write. Each row carries the stage's key column; the
        runner adds `config_key` and replaces the batch's earlier rows of this config.
    errors: (item_id, error_type, message) for rows that failed; the runner records them
        (visible to views as failed), it does not raise.
    usage: counters summed into the run record (tokens_in, tokens_out, cost_usd, cache_hits,
        oom_halvings, ...); every key is kept in `stage_runs.usage`.
    appends: table name -> rows the runner inserts once, keyed by the table's first column and
        never replaced (caches such as `llm_calls`: what was paid for is kept). That first
        column must identify a row (one row per value is kept).
    pending: item ids that are neither done nor failed (e.g. a transient outage): the runner
        leaves them to the next run.
    """

    outputs: dict[str, pa.Table]
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)
    appends: dict[str, pa.Table] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)


def _no_prepare(con: Any, config: dict) -> Any:
    return None


def _open_spec(spec: Any, config: dict) -> Any:
    return spec


@dataclass
class Stage:
    """A model stage declared once; the runner (`geosql.runner`) owns the bookkeeping.

    inputs: SQL selecting the key column plus the columns `process` needs; `{setting}` fields
        are filled from the config as SQL literals. Upstream outputs are read through the
        `current_*` views or `{upstream:STAGE}` (the config key of STAGE in use).
    outputs: tables this stage writes. The runner records per (stage, config key, item) what
        was done from which input (a hash of the input columns, `stage_items`), so a changed
        input reruns; it replaces a batch's rows by (key, config_key) in every table. The
        first table commits last.
    scope: the setting that names where results show (e.g. 'method' -> the method column):
        `stage_current` maps (stage, scope value) to the config key the views read.
    depends_on: stages whose current config key enters this stage's own (an upstream rerun
        with new settings invalidates this stage's results).
    check(con, config): validates settings before anything runs (raise GeosqlError), even when
        nothing is pending.
    prepare(con, config) -> spec: runs where the warehouse is (builds indexes, resolves model
        files, reads caches) and returns something picklable.
    open(spec, config) -> state: runs on the worker (loads models once); default: the spec.
    process(state, batch, config) -> BatchResult: pure; any worker can run it.
    close(state): releases what open started, after the last batch.
    runtime_keys: settings that do not change results (batch size, device...), left out of the
        config key.
    hash_columns: input columns whose content defines the input version (default: every
        column but the key).
    unique: table -> columns that identify output rows whatever the config (an embedding's
        item, kind and model): a new config's rows replace the others' with the same values (no
        duplicates, the table's primary key holds), and the stage keeps one config per item.
    """

    name: str
    description: str
    inputs: str
    outputs: tuple[str, ...]
    process: Callable[[Any, pa.Table, dict], BatchResult]
    prepare: Callable[[Any, dict], Any] = _no_prepare
    check: Callable[[Any, dict], None] | None = None
    open: Callable[[Any, dict], Any] = _open_spec
    close: Callable[[Any], None] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None
    depends_on: tuple[str, ...] = ()
    key: str = "caption_id"
    version: str = "1"
    batch_size: int | Callable[[dict], int] = 1000  # or a function of the config
    runtime_keys: tuple[str, ...] = ()
    hash_columns: tuple[str, ...] | None = None
    unique: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extra: str | None = None
    # Legacy (contract v1, being migrated): `setup(con, config) -> state` replaces prepare+open
    # and runs in-process only; `done` is ignored (the runner owns lineage).
    setup: Callable[[Any, dict], Any] | None = None
    teardown: Callable[[Any], None] | None = None
    done: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.outputs, dict):
            self.outputs = tuple(self.outputs)
        if self.teardown is not None and self.close is None:
            self.close = self.teardown

    def scope_value(self, config: dict) -> str:
        """Where this config's results show (the value of the scope setting, or the name)."""
        return str(config[self.scope]) if self.scope else self.name


class Registry:
    def __init__(self) -> None:
        self.udfs: dict[str, Udf] = {}
        self.stages: dict[str, Stage] = {}
        self.commands: list[Any] = []
        self.broken: dict[str, str] = {}  # family -> why it failed to import
        self._loaded = False

    def udf(
        self,
        name: str,
        parameters: list[str],
        return_type: str,
        *,
        factory: bool = False,
        **options: Any,
    ):
        """Decorator: register `fn` as a DuckDB scalar function `name`.

        With factory=True, `fn(con)` is called at registration and returns the function (for
        UDFs that need to know their warehouse, e.g. to find a cached index).
        """

        def deco(fn: Callable) -> Callable:
            self.udfs[name] = Udf(name, fn, parameters, return_type, options, factory)
            return fn

        return deco

    def stage(self, stage: Stage) -> Stage:
        if stage.name in self.stages:
            raise ValueError(f"stage {stage.name!r} registered twice")
        self.stages[stage.name] = stage
        return stage

    def command(self, cmd: Any) -> Any:
        """Register a click command or group to be added to the `geosql` CLI."""
        self.commands.append(cmd)
        return cmd

    def load(self) -> Registry:
        """Import every module of the `udfs` package once (they register themselves)."""
        if not self._loaded:
            self._loaded = True
            import udfs

            for mod in pkgutil.iter_modules(udfs.__path__):
                if not mod.name.startswith("_"):
                    try:
                        importlib.import_module(f"udfs.{mod.name}")
                    except Exception as e:  # one broken family must not take down the rest
                        self.broken[mod.name] = f"{type(e).__name__}: {e}"
                        warnings.warn(
                            f"model family udfs.{mod.name} failed to load: {e}", stacklevel=2
                        )
        return self

    def get_stage(self, name: str) -> Stage:
        from geosql.errors import GeosqlError

        self.load()
        if name not in self.stages:
            known = ", ".join(sorted(self.stages)) or "none"
            broken = "".join(f"; family {k} failed to load ({v})" for k, v in self.broken.items())
            raise GeosqlError(f"unknown stage {name!r}; known stages: {known}{broken}")
        return self.stages[name]

    def register_udfs(self, con: Any) -> None:
        self.load()
        for u in self.udfs.values():
            with contextlib.suppress(Exception):
                con.remove_function(u.name)
            import duckdb

            def typ(t: Any) -> Any:
                return duckdb.sqltype(t) if isinstance(t, str) else t

            fn = u.fn(con) if u.factory else u.fn
            con.create_function(
                u.name, fn, [typ(p) for p in u.parameters], typ(u.return_type), **u.options
            )


registry = Registry()
