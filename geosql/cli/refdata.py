"""`geosql refdata load|status|use-gdp`: reference data commands."""

from __future__ import annotations

from pathlib import Path

import click

from geosql.cli.context import open_warehouse
from geosql.errors import GeosqlError
from geosql.refdata import load_defaults, load_gdp_file, load_geonames_file
from geosql.registry import registry


@click.group("refdata")
def refdata_cmd() -> None:
    """Reference tables: GeoNames places and names, countries, aliases, admin1, GDP."""


@refdata_cmd.command("load")
@click.option("--defaults", is_flag=True, help="(Re)load the bundled reference data.")
@click.option(
    "--geonames",
    "geonames",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Official GeoNames dump: allCountries/cities500/cities1000 .txt/.zip, "
    "countryInfo.txt, admin1CodesASCII.txt, alternateNamesV2.txt (repeatable).",
)
@click.option("--gdp", "gdp", type=click.Path(path_type=Path), help="GDP table to load.")
@click.option(
    "--gdp-format",
    type=click.Choice(["auto", "wdi", "worldometers", "plain"]),
    default="auto",
    show_default=True,
    help="Layout of the GDP file (auto: guessed from its columns).",
)
@click.option("--year", type=int, default=None, help="Year of the GDP figures (WDI: column).")
@click.option("--source", default=None, help="Name to record as the GDP source.")
@click.pass_context
def load_cmd(ctx, defaults, geonames, gdp, gdp_format, year, source) -> None:
    """Load reference data: bundled defaults, GeoNames dumps, GDP tables (one transaction)."""
    import tempfile

    if not (defaults or geonames or gdp):
        raise click.UsageError("give --defaults, --geonames FILE or --gdp FILE")
    with open_warehouse(ctx) as con:
        if defaults:
            for line in load_defaults(con):
                click.echo(line)
        con.begin()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                order = sorted(
                    geonames,
                    key=lambda p: ("alternatenames" in p.name.lower(), "admin1" in p.name.lower()),
                )
                for g in order:
                    for line in load_geonames_file(con, Path(g), Path(tmp)):
                        click.echo(line)
            if gdp:
                for line in load_gdp_file(con, Path(gdp), gdp_format, year, source):
                    click.echo(line)
            con.commit()
        except Exception:
            con.rollback()
            raise


@refdata_cmd.command("status")
@click.pass_context
def status_cmd(ctx) -> None:
    """Row counts of the reference tables and the GDP source in use."""
    with open_warehouse(ctx, read_only=True) as con:
        for t in ("continents", "countries", "country_aliases", "admin1", "places", "place_names"):
            click.echo(f"{t}: {con.execute(f'SELECT count(*) FROM {t}').fetchall()[0][0]:,}")
        for src, yr, n in con.execute(
            "SELECT source, year, count(*) FROM gdp GROUP BY ALL ORDER BY year DESC"
        ).fetchall():
            click.echo(f"gdp: {n} countries, {src} ({yr})")


@refdata_cmd.command("use-gdp")
@click.argument("source")
@click.argument("year", type=int)
@click.pass_context
def use_gdp_cmd(ctx, source: str, year: int) -> None:
    """Choose which loaded GDP SOURCE and YEAR the correlation views use."""
    with open_warehouse(ctx) as con:
        n = con.execute(
            "SELECT count(*) FROM gdp WHERE source = ? AND year = ?", [source, year]
        ).fetchall()[0][0]
        if not n:
            raise GeosqlError(f"no GDP rows for source {source!r}, year {year}")
        con.execute(
            "INSERT OR REPLACE INTO settings VALUES ('gdp_source', ?), ('gdp_year', ?)",
            [source, str(year)],
        )
    click.echo(f"views now use {source} ({year}), {n} countries")


registry.command(refdata_cmd)
