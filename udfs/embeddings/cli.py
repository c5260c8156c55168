"""`geosql embeddings import`: vectors computed outside geosql into `embeddings`."""

from __future__ import annotations

import click

from geosql.cli.context import open_warehouse
from geosql.registry import registry
from udfs.embeddings.importer import MATCH, import_embeddings


@registry.command
@click.group("embeddings")
def embeddings_cmd() -> None:
    """Embeddings computed elsewhere (clip-retrieval output, Parquet)."""


@embeddings_cmd.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--kind", type=click.Choice(["image", "text"]), required=True, help="What the vectors embed."
)
@click.option("--model-key", required=True, help="e.g. 'ViT-L-14/openai' (as clip-embed names it)")
@click.option("--id-col", default=None, help="Id column (default: item_id, caption_id, id, key).")
@click.option("--vector-col", default=None, help="Parquet list/array column of the vectors.")
@click.option("--dataset", default=None, help="Ids are that dataset's ids ('<dataset>:' prefix).")
@click.option(
    "--match",
    type=click.Choice(MATCH),
    default="caption_id",
    show_default=True,
    help="Caption column the ids are compared with.",
)
@click.pass_context
def import_cmd(ctx: click.Context, paths: tuple[str, ...], **opts) -> None:
    """Load vectors from Parquet files or clip-retrieval folders (img_emb/ + metadata/)."""
    with open_warehouse(ctx) as con:
        summary = import_embeddings(con, paths, **opts)
    click.echo(summary.line())
