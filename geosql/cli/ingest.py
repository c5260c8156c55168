"""`geosql ingest`: caption files into the warehouse."""

from __future__ import annotations

import click

from geosql.cli.context import open_warehouse
from geosql.ingest import ingest
from geosql.registry import registry


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--dataset", required=True, help="Dataset name (prefix of caption ids).")
@click.option("--text-col", default="text", show_default=True, help="Caption text column.")
@click.option("--id-col", default=None, help="Row id column (else ids hash the content).")
@click.option("--url-col", default=None, help="Image URL column.")
@click.option("--image-col", default=None, help="Local image path column.")
@click.option("--language", default=None, help="Language code of the captions (e.g. en).")
@click.option(
    "--language-col", default=None, help="Per-row language column (--language fills gaps)."
)
@click.option("--entity", "entities", multiple=True, metavar="WORD", help="Entity to tag (repeat).")
@click.option("--entity-col", default=None, help="Take each row's entity from this column.")
@click.option(
    "--country-col",
    default=None,
    help="Each image's given country (stored as method 'label' in geo_predictions).",
)
@click.pass_context
def ingest_cmd(ctx: click.Context, paths: tuple[str, ...], dataset: str, **opts) -> None:
    """Ingest caption files (PATH_OR_GLOB: .csv .tsv .parquet .jsonl .json .ndjson, .gz ok)."""
    with open_warehouse(ctx) as con:
        summary = ingest(con, paths, dataset, **opts)
    click.echo(summary.line())


registry.command(ingest_cmd)
