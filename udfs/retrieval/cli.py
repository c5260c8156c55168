"""`geosql retrieval build|search`: the place-name index from the command line."""

from __future__ import annotations

from collections.abc import Callable

import click

from geosql.cli.context import open_warehouse
from geosql.registry import registry
from udfs.retrieval.index import DEFAULT_MODEL, PlaceIndex


@click.group("retrieval")
def retrieval_cmd() -> None:
    """FAISS retrieval over GeoNames place names (all-MiniLM-L6-v2)."""


def _index(ctx: click.Context, model, min_population, alt_names, rebuild) -> PlaceIndex:
    with open_warehouse(ctx, read_only=False) as con:
        return PlaceIndex.open(
            con,
            model=model,
            min_population=min_population,
            alt_names=alt_names,
            rebuild=rebuild,
            log=True,
        )


def _with_opts(fn: Callable) -> Callable:
    opts = [
        click.option(
            "--model", default=None, help=f"sentence-transformers model [{DEFAULT_MODEL}]."
        ),
        click.option(
            "--min-population",
            type=int,
            default=10_000,
            show_default=True,
            help="Index places with at least this population.",
        ),
        click.option("--alt-names", is_flag=True, help="Also index alternate names."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


@retrieval_cmd.command("build")
@_with_opts
@click.option("--rebuild", is_flag=True, help="Build again even if cached.")
@click.pass_context
def build_cmd(ctx, model, min_population, alt_names, rebuild) -> None:
    """Build (or load) the place-name index for the warehouse."""
    idx = _index(ctx, model, min_population, alt_names, rebuild)
    click.echo(f"index ready: {len(idx):,} names, model {idx.model}")


@retrieval_cmd.command("search")
@click.argument("queries", nargs=-1, required=True)
@click.option("-k", type=int, default=10, show_default=True, help="Places per query.")
@_with_opts
@click.pass_context
def search_cmd(ctx, queries, k, model, min_population, alt_names) -> None:
    """Show the top-k GeoNames places for each QUERY."""
    idx = _index(ctx, model, min_population, alt_names, False)
    for q, cands in zip(queries, idx.search(list(queries), k), strict=True):
        click.echo(q)
        for c in cands:
            click.echo(f"  {c.score:.3f}  {c.name} ({c.country_code}) geonameid={c.geonameid}")


registry.command(retrieval_cmd)
