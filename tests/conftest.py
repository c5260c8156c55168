"""Shared fixtures: real DuckDB files in tmp dirs; reference data loaded once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import geosql
from geosql.paths import shared_dir


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    """Path of a fresh, empty warehouse file (schema and views created)."""
    p = tmp_path / "wh.duckdb"
    with geosql.connect(p):
        pass
    return p


@pytest.fixture(scope="session")
def ref_wh_master(tmp_path_factory) -> Path:
    """A warehouse with the bundled reference data and its gazetteer index, built once."""
    from geosql import refdata
    from udfs.gazetteer import load_gazetteer

    p = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    with geosql.connect(p) as con:
        for _ in refdata.load_defaults(con):
            pass
        load_gazetteer(con)  # cached in ref.models/, copied along by `ref_wh`
    return p


@pytest.fixture
def ref_wh(ref_wh_master: Path, tmp_path: Path) -> Path:
    """A private copy of the reference warehouse, free to write to."""
    p = tmp_path / "ref.duckdb"
    shutil.copy(ref_wh_master, p)
    models = ref_wh_master.parent / "ref.models"  # cached indexes (gazetteer) belong with it
    if models.is_dir():
        shutil.copytree(models, tmp_path / "ref.models")
    return p


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared when present; tests using it skip otherwise."""
    d = shared_dir()
    if d is None:
        pytest.skip("../shared is not present")
    return d
