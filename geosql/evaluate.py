"""Evaluation against gold labels (being written)."""

import click


@click.command("eval")
def eval_cmd() -> None:
    """Evaluate a geoparsing method (not implemented yet)."""
    raise click.ClickException("not implemented yet")
