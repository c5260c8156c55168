"""Name-only evidence: which natural-feature names are candidates, person names, famous names."""

from __future__ import annotations

import pytest

from udfs.gazetteer.features import feature_name_ok, person_name, person_names


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("yosemite", True),  # not an everyday word
        ("big sandy lake", True),  # everyday words, but a type word says what it is
        ("grand canyon", True),
        ("arches", False),  # the short name of Arches National Park is a plain word
        ("rocky mountain", False),  # everyday words without a type word: a brand, a style
        ("pool", False),
    ],
)
def test_feature_names_that_are_candidates(key: str, ok: bool) -> None:
    assert feature_name_ok(key) is ok


def test_person_names_come_from_the_census_lists() -> None:
    shares = person_names()
    assert shares["charlotte"] > 0.1 and shares["jackson"] > 0.1  # given name, surname
    assert person_name("houston") and person_name("florence")
    assert not person_name("london") and not person_name("liverpool")  # rare as names
    assert not person_name("san jose")  # one word only


def test_a_country_with_its_own_geonames_point_keeps_it(wh) -> None:
    """With the full GeoNames dump a country place has coordinates: its mentions keep them
    (GeoNames-annotated gold uses them); without, the country gets its usual label point."""
    import geosql
    from udfs.gazetteer import Engine, load_gazetteer

    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO countries (iso2, iso3, name, continent_code) VALUES"
            " ('US', 'USA', 'united states', 'NA'), ('FR', 'FRA', 'france', 'EU')"
        )
        con.execute(
            "INSERT INTO places VALUES"
            " (6252001, 'United States', 'United States', 39.76, -98.5, 'A', 'PCLI', 'US',"
            "  '00', 327167434, 'test'),"
            " (3017382, 'France', 'France', NULL, NULL, 'A', 'PCLI', 'FR', '00', 66987244,"
            "  'test'),"
            " (5128581, 'New York City', 'New York City', 40.71, -74.01, 'P', 'PPL', 'US',"
            "  'NY', 8804190, 'test'),"
            " (2988507, 'Paris', 'Paris', 48.85, 2.35, 'P', 'PPLC', 'FR', '11', 2138551,"
            "  'test')"
        )
        con.execute("INSERT INTO place_names SELECT geonameid, name, NULL FROM places")
        engine = Engine(load_gazetteer(con))
    us = engine.parse_one("Flags of the United States")["mentions"]
    fr = engine.parse_one("Flags of France")["mentions"]
    assert [(m["lat"], m["lon"]) for m in us] == [(39.76, -98.5)]
    assert len(fr) == 1 and (fr[0]["lat"], fr[0]["lon"]) != (None, None)
    assert abs(fr[0]["lat"] - 46) < 3 and abs(fr[0]["lon"] - 2) < 3  # its label point


def test_shipped_feature_names_are_the_forms_people_write() -> None:
    """scripts/build_naturalearth.py's forms: a lake named in another language also under its
    English name, never "Lake Lago ..." or "Lago ... Lake"; parks after mountains also in the
    singular and without "Great"."""
    import polars as pl

    from udfs.gazetteer.index import FEATURES_NE

    names = set(pl.read_csv(FEATURES_NE)["name"].to_list())
    assert {"Lago di Como", "Lake Como", "Lake Titicaca", "Lake Garda"} <= names
    assert not [
        n
        for n in names
        if n.startswith("Lake Lago") or n.startswith("Lago ") and n.endswith(" Lake")
    ]
    assert {"Great Smoky Mountain National Park", "Smoky Mountain National Park"} <= names
    assert "Basin National Park" not in names  # "Great" stays when one word would be left
