"""One small registry: model families in `udfs/` declare their UDFs, stages and CLI commands here.

`geosql.connect()` registers every UDF on the connection it opens (DuckDB does not persist Python
UDFs); the runner and the CLI look stages up by name.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
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
    """What a stage's batch function returns.

    outputs: table name -> Arrow rows to write (each must carry the stage's key column).
    errors: (item_id, error_type, message) for rows that failed; they are recorded, not raised.
    usage: counters summed into the run record (e.g. tokens_in, tokens_out).
    """

    outputs: dict[str, pa.Table]
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)


@dataclass
class Stage:
    """A model stage declared once; `geosql.runner.run_stage` does the rest.

    inputs: SQL selecting the key column plus what `process` needs; `{name}` fields are filled
        from the config as SQL literals.
    done: SQL selecting the keys already processed for this config (`$config_key` is bound).
    outputs: table -> SQL predicate (formatted like `inputs`) scoping the rows a rerun replaces.
        The first table is the one `done` reads: the runner commits it last.
    setup(con, config) -> state: loads models once (lazy heavy imports); may read the warehouse.
    teardown(state): releases what setup started (worker processes...), after the last batch.
    process(state, batch, config) -> BatchResult: touches no database.
    runtime_keys: config keys that do not change results (batch size, device...), left out of
        the config key.
    """

    name: str
    description: str
    inputs: str
    done: str
    outputs: dict[str, str]
    process: Callable[[Any, pa.Table, dict], BatchResult]
    setup: Callable[[Any, dict], Any] = lambda con, config: None
    teardown: Callable[[Any], None] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    key: str = "caption_id"
    version: str = "1"
    batch_size: int | Callable[[dict], int] = 1000  # or a function of the config
    runtime_keys: tuple[str, ...] = ()
    extra: str | None = None


class Registry:
    def __init__(self) -> None:
        self.udfs: dict[str, Udf] = {}
        self.stages: dict[str, Stage] = {}
        self.commands: list[Any] = []
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
                    importlib.import_module(f"udfs.{mod.name}")
        return self

    def get_stage(self, name: str) -> Stage:
        from geosql.errors import GeosqlError

        self.load()
        if name not in self.stages:
            known = ", ".join(sorted(self.stages)) or "none"
            raise GeosqlError(f"unknown stage {name!r}; known stages: {known}")
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
