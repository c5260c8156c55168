"""Caption ingest (being written)."""

import click


@click.command("ingest")
def ingest_cmd() -> None:
    """Ingest captions (not implemented yet)."""
    raise click.ClickException("not implemented yet")
