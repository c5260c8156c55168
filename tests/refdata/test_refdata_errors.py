"""Bad reference files: one line naming file and line; nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosql
from geosql.errors import GeosqlError
from geosql.refdata import load_gdp_file, load_geonames_file


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("country,gdp\nFrance,100\nGermany,abc\n", "line 3: GDP 'abc' is not a number"),
        ("country,gdp\nFrance,100\nFrance,200\n", "line 3: 'France' is FRA again"),
        ("country,gdp\nFrance,-100\n", "line 2: GDP of 'France' must be a positive number"),
    ],
)
def test_bad_gdp_rows_are_errors(ref_wh: Path, tmp_path: Path, body: str, expected: str):
    f = tmp_path / "gdp.csv"
    f.write_text(body)
    with geosql.connect(ref_wh) as con:
        before = con.execute("SELECT count(*) FROM gdp").fetchall()[0][0]
        with pytest.raises(GeosqlError, match=expected):
            load_gdp_file(con, f)
        assert con.execute("SELECT count(*) FROM gdp").fetchall()[0][0] == before


def test_empty_gdp_cells_are_counted(ref_wh: Path, tmp_path: Path):
    f = tmp_path / "gdp.csv"
    f.write_text("country,gdp\nFrance,100\nGermany,\nSpain,300\n")
    with geosql.connect(ref_wh) as con:
        (msg,) = load_gdp_file(con, f)
        assert "2 countries" in msg and "1 rows with no GDP value skipped" in msg


def test_geonames_garbage_names_file_and_line(wh: Path, tmp_path: Path):
    f = tmp_path / "XX.txt"
    f.write_text("1\tfoo\n2\tbar\tbaz\n")
    with (
        geosql.connect(wh) as con,
        pytest.raises(GeosqlError, match=r"XX\.txt: not a GeoNames dump: line 1: 2 tab"),
    ):
        load_geonames_file(con, f, tmp_path)


def test_gdp_with_an_exponent_loads(ref_wh: Path, tmp_path: Path):
    f = tmp_path / "gdp.csv"
    f.write_text("country,gdp\nFrance,2.9e12\nSpain,1.6E12\n")
    with geosql.connect(ref_wh) as con:
        (msg,) = load_gdp_file(con, f)
        assert "2 countries" in msg
        got = con.execute(
            "SELECT iso3, gdp_usd FROM gdp WHERE source = 'gdp' ORDER BY 1"
        ).fetchall()
    assert got == [("ESP", 1.6e12), ("FRA", 2.9e12)]
