"""Fixtures of the geoparser's tests."""

from __future__ import annotations

import pytest

import geosql
from udfs.gazetteer import load_gazetteer


@pytest.fixture(scope="session")
def index(ref_wh_master):
    """The reference warehouse's gazetteer tables, loaded once (Engine(index) materializes
    them in its private database)."""
    with geosql.connect(ref_wh_master, read_only=True) as con:
        return load_gazetteer(con)
