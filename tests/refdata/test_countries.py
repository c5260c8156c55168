"""The one country normalizer: Python and SQL agree, unknown names give NULL."""

from __future__ import annotations

import pytest

import geosql
from geosql.countries import country_key, is_no_place, normalize_country

CASES = {
    "USA": "US",
    "U.S.": "US",
    "the United States of America": "US",
    "UK": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Holland": "NL",
    "Ivory Coast": "CI",
    "Côte d'Ivoire": "CI",
    "Czechia": "CZ",
    "Türkiye": "TR",
    "TÃ¼rkiye": "TR",
    "Italian": "IT",
    "viet nam": "VN",
    "Russian Federation": "RU",
    "dr congo": "CD",
    "Republic of the Congo": "CG",
    "Deutschland": "DE",
    "日本": "JP",
    "Ελλάδα": "GR",
    "Bosnia & Herzegovina": "BA",
    "São Tomé and Príncipe": "ST",
    "hong kong": "HK",
    "French": "FR",  # shared with French territories; the country dwarfs them
    "Chinese": "CN",
}


@pytest.mark.parametrize(("name", "code"), sorted(CASES.items()))
def test_python_normalizer(name: str, code: str) -> None:
    assert normalize_country(name) == code


@pytest.mark.parametrize("name", ["no", "None", "", None, "Atlantis", "Mediterranean", "Europe"])
def test_unknown_is_none(name) -> None:
    assert normalize_country(name) is None


def test_no_place_tokens() -> None:
    assert is_no_place("no") and is_no_place(" N/A ") and not is_no_place("norway")


def test_sql_and_python_agree(ref_wh_master) -> None:
    names = list(CASES) + ["Atlantis", "no", "The Gambia", "Korea, Rep.", "Curaçao", "भारत"]
    with geosql.connect(ref_wh_master, read_only=True) as con:
        for n in names:
            key_sql, code_sql = con.execute(
                "SELECT country_key(?), country_code(?)", [n, n]
            ).fetchall()[0]
            assert key_sql == country_key(n), n
            assert code_sql == normalize_country(n), n
        assert con.sql("SELECT country_name('tr')").fetchall()[0][0] == "turkey"
