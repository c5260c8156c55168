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
