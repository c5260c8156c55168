"""`build_report()`: the warehouse -> one offline HTML file (and, optionally, PNG/SVG figures)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

import geosql
from geosql.errors import GeosqlError
from geosql.report import queries as q
from geosql.report.core_sections import core_sections
from geosql.report.model import Section, Skip, fetch
from geosql.report.optional_sections import OPTIONAL
from geosql.report.page import chart_spec, render_page


@dataclass
class ReportResult:
    """What `build_report` wrote."""

    path: Path
    sections: list[str]
    skipped: list[tuple[str, str]]
    figures: list[Path] = field(default_factory=list)

    def line(self) -> str:
        size = self.path.stat().st_size / 1e6
        s = f"report: {self.path} ({size:.1f} MB, {len(self.sections)} sections"
        if self.figures:
            s += f", {len(self.figures)} figure files"
        return s + ")"


def _scope(
    con: duckdb.DuckDBPyConnection, dataset: str | None, entity: str | None, method: str
) -> q.Scope:
    preds = (
        "current_geo_predictions"
        if q.relation_exists(con, "current_geo_predictions")
        else "geo_predictions"
    )
    found = [
        r["dataset"]
        for r in fetch(
            con,
            f"SELECT c.dataset, count(*) AS n FROM captions c JOIN {preds} p "
            f"ON p.caption_id = c.caption_id WHERE p.method = {q.lit(method)} "
            "GROUP BY c.dataset ORDER BY c.dataset",
        )
    ]
    if not found:
        methods = [
            r["method"] for r in fetch(con, f"SELECT DISTINCT method FROM {preds} ORDER BY 1")
        ]
        hint = f" (methods with results: {', '.join(methods)})" if methods else ""
        raise GeosqlError(
            f"no captions have '{method}' predictions{hint}; run `geosql run geoparse` first "
            "or pass --method"
        )
    if dataset is None:
        if len(found) > 1:
            raise GeosqlError(
                f"the warehouse has several datasets with '{method}' predictions "
                f"({', '.join(found)}); pass --dataset NAME"
            )
        dataset = found[0]
    elif dataset not in found:
        raise GeosqlError(
            f"dataset {dataset!r} has no '{method}' predictions; datasets: {', '.join(found)}"
        )
    if entity is not None:
        ents = [
            r["entity"]
            for r in fetch(
                con,
                "SELECT DISTINCT e.entity FROM caption_entities e JOIN captions c "
                f"ON c.caption_id = e.caption_id WHERE c.dataset = {q.lit(dataset)} ORDER BY 1",
            )
        ]
        if entity not in ents:
            raise GeosqlError(
                f"entity {entity!r} is not in dataset {dataset!r}; entities: "
                + (", ".join(ents[:30]) or "(none)")
            )
    return q.Scope(dataset, method, entity, preds, q.relation_exists(con, "caption_geo_status"))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "figure"


def write_figures(sections: list[Section], figures_dir: Path) -> list[Path]:
    """Every chart as PNG (2x) and SVG, every table as CSV, into figures_dir."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    ver = vl_version_for_vl_convert()
    figures_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for s in sections:
        for f in s.figures:
            charts: dict[str, Any] = {}
            if f.chart is not None and not f.variants:  # variants: one file per menu choice
                charts[f.key] = f.chart
            charts.update(f.variants)
            for key, chart in charts.items():
                spec = chart_spec(chart)
                png = figures_dir / f"{_safe(key)}.png"
                png.write_bytes(vlc.vegalite_to_png(spec, vl_version=ver, scale=2))
                svg = figures_dir / f"{_safe(key)}.svg"
                svg.write_text(vlc.vegalite_to_svg(spec, vl_version=ver), encoding="utf-8")
                written += [png, svg]
            if f.table:
                path = figures_dir / f"{_safe(f.key)}.csv"
                with path.open("w", newline="", encoding="utf-8") as fh:
                    w = csv.DictWriter(fh, fieldnames=list(f.table[0]))
                    w.writeheader()
                    w.writerows(f.table)
                written.append(path)
    return written


def build_report(
    con: duckdb.DuckDBPyConnection,
    dataset: str | None = None,
    entity: str | None = None,
    method: str = "offline",
    out: str | Path = "report.html",
    figures_dir: str | Path | None = None,
) -> ReportResult:
    """Write the HTML report of one dataset and method (all entities, or one) to `out`.

    Core sections always appear; the later analyses (entity presence, diversity, language
    skew, evaluation, image geolocation, similarity) appear when their views have rows, and
    the page lists the ones left out and why.
    """
    s = _scope(con, dataset, entity, method)
    sections = core_sections(con, s)
    skipped: list[tuple[str, str]] = []
    for title, fn in OPTIONAL:
        try:
            sec = fn(con, s)
        except Skip as e:
            skipped.append((title, str(e)))
            continue
        except (GeosqlError, duckdb.Error, KeyError, ValueError, TypeError, ImportError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            skipped.append((title, f"could not be drawn: {type(e).__name__}: {msg}"))
            continue
        sections.append(sec)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"geosql report: {s.dataset}" + (f" / {s.entity}" if s.entity else "")
    db = fetch(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    path = db[0]["path"] if db and db[0]["path"] else None
    rerun = f"geosql -w {path} sql" if path else "geosql sql"
    subtitle = (
        f"dataset {s.dataset} · method {s.method} · "
        f"{'entity ' + s.entity if s.entity else 'all entities'} · geosql {geosql.__version__} "
        f'· {now} · the SQL under each figure reruns with {rerun} "…"'
    )
    page = render_page(title, subtitle, sections, skipped)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    figs = write_figures(sections, Path(figures_dir)) if figures_dir else []
    return ReportResult(out, [sec.key for sec in sections], skipped, figs)
