"""The HTML report: `build_report(con, ...)` writes one self-contained, offline HTML file.

Figures are Altair charts (vega inlined by vl-convert, so the page fetches nothing); the world
map's outlines come from the `countryinfo` package. `figures_dir` also writes PNG and SVG.
Importing this package is light; `build_report` needs the extra `report` (altair, vl-convert)
and says so when it is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from geosql.errors import require

if TYPE_CHECKING:
    import duckdb

    from geosql.report.build import ReportResult


def build_report(
    con: duckdb.DuckDBPyConnection,
    dataset: str | None = None,
    entity: str | None = None,
    method: str = "offline",
    out: str | Path = "report.html",
    figures_dir: str | Path | None = None,
) -> ReportResult:
    """Write the report of one dataset and method (all entities, or one); see build.py."""
    require("altair", "report")
    require("vl_convert", "report")
    from geosql.report.build import build_report as build

    return build(con, dataset, entity, method, out, figures_dir)


def __getattr__(name: str) -> Any:
    if name == "ReportResult":
        from geosql.report.build import ReportResult

        return ReportResult
    raise AttributeError(name)


__all__ = ["ReportResult", "build_report"]
