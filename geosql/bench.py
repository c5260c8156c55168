"""`geosql bench`: throughput figures printed side by side (never asserted in tests).

Each benchmark is a function registered in BENCHMARKS: name -> fn(workdir, scale) -> list of
result lines. `geosql bench` runs them all; `geosql bench NAME...` runs some.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import click

BENCHMARKS: dict[str, Callable[[Path, float], list[str]]] = {}


def benchmark(name: str):
    def deco(fn: Callable[[Path, float], list[str]]):
        BENCHMARKS[name] = fn
        return fn

    return deco


@click.command("bench")
@click.argument("names", nargs=-1)
@click.option("--scale", type=float, default=1.0, help="Multiply the benchmark sizes.")
def bench_cmd(names: tuple[str, ...], scale: float) -> None:
    """Print throughput benchmarks (ingest, geoparse vs geotext, clip-embed...)."""
    from geosql.registry import registry

    registry.load()
    import geosql.bench_geoparse  # noqa: F401  (registers the core benchmarks)
    import geosql.bench_suite  # noqa: F401

    chosen = names or tuple(BENCHMARKS)
    for n in chosen:
        if n not in BENCHMARKS:
            raise click.ClickException(f"unknown benchmark {n!r}; known: {', '.join(BENCHMARKS)}")
    for n in chosen:
        click.echo(f"== {n}")
        with tempfile.TemporaryDirectory(prefix=f"geosql-bench-{n}-") as d:
            for line in BENCHMARKS[n](Path(d), scale):
                click.echo(f"  {line}")
