"""`geosql attach DIR` and `geosql ray status DIR`: results of `geosql run --engine ray`."""

from __future__ import annotations

from pathlib import Path

import click

from geosql.cli.context import open_warehouse
from geosql.registry import registry


@click.command("attach")
@click.argument("output", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def attach_cmd(ctx: click.Context, output: Path) -> None:
    """Import the finished parts of a Ray run (OUTPUT folder) into the warehouse."""
    from geosql.attach import attach

    with open_warehouse(ctx) as con:
        n, skipped, rows = attach(con, output)
    click.echo(f"attached {n} parts ({rows} rows); {skipped} were attached before")


@click.group("ray")
def ray_cmd() -> None:
    """Ray runs: per-shard status of an output folder."""


@ray_cmd.command("status")
@click.argument("output", type=click.Path(exists=True, file_okay=False, path_type=Path))
def status_cmd(output: Path) -> None:
    """Per shard of OUTPUT: done (rows), failed (the error), running (where, since when),
    stale (its worker died: a rerun redoes it) or pending."""
    from geosql.ray_engine import status

    rows = status(output)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        extra = f" {r['rows']} rows" if r["rows"] else ""
        detail = f"  {r['detail']}" if r["detail"] else ""
        click.echo(f"{r['status']:8} {r['shard']}{extra}{detail}")
    click.echo(", ".join(f"{v} {k}" for k, v in sorted(counts.items())))


registry.command(attach_cmd)
registry.command(ray_cmd)
