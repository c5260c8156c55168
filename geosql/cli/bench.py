"""`geosql bench`: print the throughput benchmarks (core ones and each family's)."""

from __future__ import annotations

import click

from geosql.registry import registry


@click.command("bench")
@click.argument("names", nargs=-1)
@click.option("--scale", type=float, default=1.0, help="Multiply the benchmark sizes.")
def bench_cmd(names: tuple[str, ...], scale: float) -> None:
    """Print throughput benchmarks NAMES (default all: ingest, geoparse vs geotext, ...)."""
    from geosql.bench import run_benchmarks

    if scale <= 0:
        raise click.BadParameter("must be > 0", param_hint="--scale")
    for line in run_benchmarks(names, scale):
        click.echo(line)


registry.command(bench_cmd)
