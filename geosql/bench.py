"""Throughput benchmarks (figures printed side by side, never asserted in tests).

Each benchmark is a function registered with `@benchmark(name)`: fn(workdir, scale) -> result
lines. The core ones live in the modules `geosql/bench_*.py` (geoparse, ingest, ray...); a model
family adds its own in `udfs/<family>/bench.py`. `geosql bench [NAME...]` (geosql/cli/bench.py) runs
them through `run_benchmarks`.
"""

from __future__ import annotations

import importlib
import pkgutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from geosql.errors import GeosqlError

BENCHMARKS: dict[str, Callable[[Path, float], list[str]]] = {}


def benchmark(name: str):
    """Decorator: register `fn(workdir: Path, scale: float) -> list[str]` as benchmark `name`."""

    def deco(fn: Callable[[Path, float], list[str]]):
        BENCHMARKS[name] = fn
        return fn

    return deco


def insert_bench_captions(con, texts: list[str], languages: list[str | None]) -> None:
    """Insert `texts` (with their given `languages`, None to detect) as dataset 'bench',
    caption ids b:0, b:1, ... (for benchmarks that run a stage over captions)."""
    import pyarrow as pa

    t = pa.table(
        {
            "caption_id": [f"b:{i}" for i in range(len(texts))],
            "text": pa.array(texts, pa.string()),
            "language": pa.array(languages, pa.string()),
        }
    )
    con.register("_bench_captions", t)
    try:
        con.execute(
            "INSERT INTO captions (caption_id, dataset, language, text)"
            " SELECT caption_id, 'bench', language, text FROM _bench_captions"
        )
    finally:
        con.unregister("_bench_captions")


def load_benchmarks() -> dict[str, Callable[[Path, float], list[str]]]:
    """Import the core benchmark modules (`geosql/bench_*.py`) and `udfs.<family>.bench` of
    every family package."""
    import geosql
    import udfs
    from geosql.registry import registry

    registry.load()
    for mod in pkgutil.iter_modules(geosql.__path__):
        if mod.name.startswith("bench_"):
            importlib.import_module(f"geosql.{mod.name}")
    for mod in pkgutil.iter_modules(udfs.__path__):
        if not mod.ispkg or mod.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"udfs.{mod.name}.bench")
        except ModuleNotFoundError as e:
            if e.name != f"udfs.{mod.name}.bench":
                raise
    return BENCHMARKS


def run_benchmarks(names: tuple[str, ...] | list[str] = (), scale: float = 1.0) -> Iterator[str]:
    """Run the named benchmarks (all when none), each in a scratch folder; yields lines."""
    known = load_benchmarks()
    chosen = tuple(names) or tuple(known)
    for n in chosen:
        if n not in known:
            raise GeosqlError(f"unknown benchmark {n!r}; known: {', '.join(known)}")
    for n in chosen:
        yield f"== {n}"
        with tempfile.TemporaryDirectory(prefix=f"geosql-bench-{n}-") as d:
            for line in known[n](Path(d), scale):
                yield f"  {line}"
