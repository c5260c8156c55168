"""geosql.connect: DuckDB's own progress bar is turned off where it cannot redraw (pipes,
logs); the geoparser's private database never draws one."""

from __future__ import annotations

import io
import sys

import duckdb

import geosql
from udfs.gazetteer.index import _private_db


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _bar(con) -> bool:
    return con.sql("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]


def _bar_on_connect(monkeypatch) -> None:
    """duckdb.connect as outside pytest (whose process starts with the bar off): bar on."""
    real = duckdb.connect

    def connect(*a, **k):
        con = real(*a, **k)
        con.execute("SET enable_progress_bar = true")
        return con

    monkeypatch.setattr(duckdb, "connect", connect)


def test_progress_bar_off_in_pipes_left_on_in_terminals(monkeypatch):
    _bar_on_connect(monkeypatch)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a pipe or a log file
    with geosql.connect(":memory:") as con:
        assert _bar(con) is False
    monkeypatch.setattr(sys, "stdout", _Tty())
    with geosql.connect(":memory:") as con:
        assert _bar(con) is True


def test_geoparser_private_db_never_draws_a_bar(monkeypatch):
    _bar_on_connect(monkeypatch)
    monkeypatch.setattr(sys, "stdout", _Tty())
    db = _private_db()
    assert _bar(db) is False
    db.close()


def test_geoparser_private_db_does_not_checkpoint_scratch_tables(tmp_path):
    """The in-memory engine database replaces its tables every batch: compressing them in an
    automatic checkpoint is wasted work. A file database (the index build) keeps the default."""
    import duckdb

    q = "SELECT current_setting('checkpoint_threshold')"
    default = duckdb.connect().sql(q).fetchall()[0][0]
    db = _private_db()
    assert db.sql(q).fetchall()[0][0] == "931.3 GiB" != default  # 1 TB
    db.close()
    f = _private_db(tmp_path / "index.duckdb")
    assert f.sql(q).fetchall()[0][0] == default
    f.close()
