"""`geosql report`: the warehouse as one self-contained HTML file (and PNG/SVG figures)."""

from __future__ import annotations

from pathlib import Path

import click

from geosql.cli.context import open_warehouse
from geosql.registry import registry


@click.command("report")
@click.option(
    "--dataset", default=None, help="Dataset to report on (needed when there are several)."
)
@click.option(
    "--entity", default=None, help="Report on one entity only (default: all, and combined)."
)
@click.option("--method", default="offline", show_default=True, help="Geoparsing method.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="HTML file to write.",
)
@click.option(
    "--figures",
    "figures_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write every figure as PNG and SVG (tables as CSV) here.",
)
@click.pass_context
def report_cmd(
    ctx: click.Context,
    dataset: str | None,
    entity: str | None,
    method: str,
    out: Path,
    figures_dir: Path | None,
) -> None:
    """Write an offline HTML report: world map, continents, top 20, GDP and population, ..."""
    from geosql.report import build_report

    with open_warehouse(ctx, read_only=True) as con:
        res = build_report(
            con, dataset=dataset, entity=entity, method=method, out=out, figures_dir=figures_dir
        )
    click.echo(res.line())
    for title, why in res.skipped:
        click.echo(f"  not shown: {title}: {why}")
    if figures_dir:
        click.echo(f"figures: {len(res.figures)} files in {figures_dir}")


registry.command(report_cmd)
