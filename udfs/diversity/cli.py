"""`geosql ingest-generated`: generated images with their entity and known country."""

from __future__ import annotations

import click

from geosql.cli.context import open_warehouse
from geosql.registry import registry
from udfs.diversity.generated import ingest_generated


@registry.command
@click.command("ingest-generated")
@click.argument("source", type=click.Path(exists=True))
@click.option("--dataset", required=True, help="Dataset name of the generated images (e.g. sd21).")
@click.pass_context
def ingest_generated_cmd(ctx: click.Context, source: str, dataset: str) -> None:
    """Ingest generated images: a folder of {entity}_{country}/ sub-folders, or a CSV with
    columns path, entity, country[, prompt]. Countries are stored as method `label`; then run
    `clip-embed` and `coverage --set generated=DATASET`."""
    with open_warehouse(ctx) as con:
        summary = ingest_generated(con, source, dataset)
    click.echo(summary.line())
