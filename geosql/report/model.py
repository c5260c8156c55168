"""The report's building blocks: figures (a chart or a table, with the SQL that made it)."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

import duckdb

Rows = list[dict[str, Any]]


class Skip(Exception):
    """A section that has nothing to show (its view is missing or empty): the reason."""


@dataclass
class Figure:
    """One figure: an Altair chart and/or a table, the SQL behind it and a caption."""

    key: str
    title: str
    sql: list[str]
    chart: Any = None
    table: Rows | None = None
    caption: str = ""
    variants: dict[str, Any] = field(default_factory=dict)  # --figures: these instead of chart


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    figures: list[Figure] = field(default_factory=list)
    html: str = ""  # extra HTML above the figures (headline numbers)


def _py(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, float) and v != v:  # NaN is not JSON
        return None
    if isinstance(v, list | tuple):
        return [_py(x) for x in v]
    return v


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    """Run a query; rows as dicts of JSON-friendly Python values."""
    cur = con.cursor()
    try:
        res = cur.execute(sql)
        names = [d[0] for d in res.description]
        return [dict(zip(names, map(_py, r), strict=True)) for r in res.fetchall()]
    finally:
        cur.close()
