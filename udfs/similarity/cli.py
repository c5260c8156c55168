"""`geosql plot similarity` and `geosql plot pca`: the similarity figures as PNG or SVG."""

from __future__ import annotations

from pathlib import Path

import click

from geosql.cli.context import open_warehouse
from geosql.errors import GeosqlError
from geosql.registry import registry


def _list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def _use_methods(con, methods: str | None) -> None:
    items = _list(methods)
    if items:
        con.execute("SET VARIABLE similarity_methods = ?", [items])


_OUT = click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .png or .svg.",
)
_MODEL = click.option(
    "--model-key", default=None, help="Embedding model key (default: the one with most images)."
)
_METHODS = click.option(
    "--methods",
    default=None,
    metavar="M1,M2",
    help="Methods giving an image its country, first wins (default: similarity_methods()).",
)


@registry.command
@click.group("plot")
def plot_group() -> None:
    """Figures from the warehouse (PNG or SVG)."""


@plot_group.command("similarity")
@click.option("--topic", required=True, help="Topic (entity) whose images are compared.")
@click.option(
    "--datasets",
    default=None,
    metavar="A[,B]",
    help="Rows A, columns B (A alone: A x A; default: every dataset pooled per country).",
)
@_MODEL
@_METHODS
@_OUT
@click.pass_context
def similarity_cmd(
    ctx: click.Context,
    topic: str,
    datasets: str | None,
    model_key: str | None,
    methods: str | None,
    out: Path,
) -> None:
    """Country x country visual-similarity heatmap of one topic, ordered by clustering."""
    from udfs.similarity.plots import save_chart, similarity_heatmap

    ds = _list(datasets)
    if ds is not None and len(ds) > 2:
        raise GeosqlError("--datasets takes one dataset (A) or two (A,B)")
    with open_warehouse(ctx, read_only=True) as con:
        _use_methods(con, methods)
        chart = similarity_heatmap(con, topic, ds, model_key)
    click.echo(f"wrote {save_chart(chart, out)}")


@plot_group.command("pca")
@click.option("--topic", required=True, help="Topic (entity) whose country centroids are shown.")
@click.option("--datasets", default=None, metavar="A,B,...", help="Datasets to show (default all).")
@click.option(
    "--high",
    default=None,
    metavar="A,...",
    help="High-resource datasets (default: the one with most images of the topic).",
)
@_MODEL
@_METHODS
@_OUT
@click.pass_context
def pca_cmd(
    ctx: click.Context,
    topic: str,
    datasets: str | None,
    high: str | None,
    model_key: str | None,
    methods: str | None,
    out: Path,
) -> None:
    """2-D PCA of the per-country centroids of one topic, low- and high-resource marked."""
    from udfs.similarity.plots import centroid_pca, save_chart

    with open_warehouse(ctx, read_only=True) as con:
        _use_methods(con, methods)
        chart = centroid_pca(con, topic, model_key, datasets=_list(datasets), high=_list(high))
    click.echo(f"wrote {save_chart(chart, out)}")
