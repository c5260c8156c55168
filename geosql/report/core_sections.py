"""The sections every report has: map, continents, top 20, unlocated, US+UK+CA, GDP, population."""

from __future__ import annotations

import html

import duckdb

from geosql.report import charts
from geosql.report import queries as q
from geosql.report.model import Figure, Section, fetch
from geosql.report.world import outlined_codes, point_locations


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def overview(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    head = fetch(con, q.headline_sql(s))[0]
    unloc = {r["entity"]: r for r in fetch(con, q.unlocated_sql(s))}
    trio = {r["entity"]: r for r in fetch(con, q.us_uk_ca_sql(s))}
    u = unloc.get(s.label) or {}
    t = trio.get(s.label) or {}
    cards = [
        ("captions processed", f"{u.get('n_captions') or 0:,}"),
        ("located", f"{head['n_located'] or 0:,}"),
        ("unlocated share", _pct(u.get("share"))),
        ("countries", f"{head['n_countries'] or 0:,}"),
        ("US + UK + Canada", _pct(t.get("us_uk_ca_share"))),
        (f"top 3 ({head['top3'] or '-'})", _pct(head["top3_share"])),
    ]
    body = "".join(
        f'<div class="card"><div class="num">{html.escape(v)}</div>'
        f'<div class="lbl">{html.escape(k)}</div></div>'
        for k, v in cards
    )
    fig = Figure(
        "headline",
        "Headline numbers",
        [q.headline_sql(s), q.unlocated_sql(s), q.us_uk_ca_sql(s)],
        caption="Shares are of located captions, except the unlocated share (of all captions "
        f"the method processed). Scope: {s.label.strip('()')}.",
    )
    return Section("overview", "Overview", html=f'<div class="cards">{body}</div>', figures=[fig])


def world(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    sql = q.map_sql(s)
    rows = fetch(con, sql)
    groups = list(dict.fromkeys(r["entity"] for r in rows)) or [s.label]
    outlined, points = outlined_codes(), point_locations()
    as_points = sorted(
        {
            (r["country_code"], r["n"], r["entity"])
            for r in rows
            if r["country_code"] not in outlined and r["country_code"] in points
        }
    )
    lost = sorted(
        {
            r["country_code"]
            for r in rows
            if r["country_code"] not in outlined and r["country_code"] not in points
        }
    )
    scope_pts = sorted({c for c, _, e in as_points if e == groups[0]})
    note = (
        "Colour: share of the group's located captions, log scale; hover a country for its "
        "name, count and share. Choose the group (all captions or one entity) in the menu."
    )
    if scope_pts:
        note += (
            " Drawn as dots (no outline in countryinfo's 110m map, which has no Kosovo, Hungary,"
            " Serbia, Montenegro, Myanmar or small states): " + ", ".join(scope_pts) + "."
        )
    if lost:
        note += " Not drawn (no outline or location known): " + ", ".join(lost) + "."
    variants = {}
    if len(groups) > 1:
        variants = {
            f"map_{'all' if g == q.ALL else g}": charts.world_map(rows, groups, selected=g, title=g)
            for g in groups
        }
    fig = Figure(
        "map",
        "Share of located captions per country",
        [sql],
        chart=charts.world_map(rows, groups),
        caption=note,
        variants=variants,
    )
    return Section("map", "World map", figures=[fig])


def continents(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    sql = q.continent_sql(s)
    rows = fetch(con, sql)
    fig = Figure(
        "continents",
        "Continent shares",
        [sql],
        chart=charts.continent_bars(rows),
        caption="Share of located captions per continent, all captions and per entity.",
    )
    return Section("continents", "Continents", figures=[fig])


def top20(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    sql = q.top_sql(s, 20)
    rows = fetch(con, sql)
    for r in rows:
        r["country"] = charts.display_name(r["country"], r["country_code"])
    fig = Figure(
        "top20",
        f"Top 20 countries, {s.label.strip('()')}",
        [sql],
        table=rows,
        caption="Counts and shares of located captions; cumulative share in rank order.",
    )
    return Section("top20", "Top 20 countries", figures=[fig])


def unlocated(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    sql = q.unlocated_sql(s)
    rows = fetch(con, sql)
    fig = Figure(
        "unlocated",
        "Captions with no place found",
        [sql],
        chart=charts.share_bars(rows, "share", "unlocated share of captions", "n_captions"),
        table=rows,
        caption="Share of the captions the method processed in which it found no place.",
    )
    return Section("unlocated", "Unlocated captions", figures=[fig])


def us_uk_ca(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    sql = q.us_uk_ca_sql(s)
    rows = fetch(con, sql)
    fig = Figure(
        "us_uk_ca",
        "United States + United Kingdom + Canada",
        [sql],
        chart=charts.share_bars(
            rows, "us_uk_ca_share", "US+UK+Canada share of located", "n_located"
        ),
        table=rows,
        caption="The seed paper's headline figure: the share of located captions in the US, the "
        "UK and Canada together.",
    )
    return Section("us_uk_ca", "US + UK + Canada", figures=[fig])


def indicator(con: duckdb.DuckDBPyConnection, s: q.Scope, which: str) -> Section:
    label = q.INDICATORS[which][0]
    psql, ssql = q.indicator_points_sql(s, which), q.indicator_stats_sql(s, which)
    points, stats = fetch(con, psql), fetch(con, ssql)[0]
    r = (
        f"Pearson r = {charts.fmt_r(stats['pearson'])}, "
        f"Spearman ρ = {charts.fmt_r(stats['spearman'])}, n = {stats['n_countries']} countries"
    )
    title = f"Share vs {label}, {s.label.strip('()')}: {r}"
    src = ""
    if which == "gdp":
        used = fetch(
            con, "SELECT any_value(source) AS source, any_value(year) AS year FROM gdp_used"
        )
        if used and used[0]["source"]:
            src = f" GDP source: {used[0]['source']}, {used[0]['year']}."
    if points:
        caption = (
            f"{r}. Log-log scatter over the countries with located captions and a {label} "
            f"figure; dashed line: least-squares fit of log10(share) on log10({label}); labels: "
            "the 12 countries with most captions."
        )
    else:
        caption = f"{r}: no country has both located captions and a {label} figure."
        if which == "gdp":
            caption += " Load GDP data: geosql refdata load --gdp FILE (see refdata status)."
    fig = Figure(
        which,
        f"Share of located captions vs {label} (log-log)",
        [psql, ssql],
        chart=charts.indicator_scatter(points, stats, label, title) if points else None,
        caption=caption + src,
    )
    figs = [fig]
    if which == "gdp":
        csql = q.correlation_table_sql(s)
        figs.append(
            Figure(
                "correlations",
                "Correlations per entity (views gdp_correlation, population_correlation)",
                [csql],
                table=fetch(con, csql),
                caption="Pearson and Spearman of log10(share) vs log10(indicator) per entity, "
                "straight from the views.",
            )
        )
    return Section(which, f"Representation vs {label}", figures=figs)


def core_sections(con: duckdb.DuckDBPyConnection, s: q.Scope) -> list[Section]:
    """The sections every report has, in page order."""
    return [
        overview(con, s),
        world(con, s),
        continents(con, s),
        top20(con, s),
        unlocated(con, s),
        us_uk_ca(con, s),
        indicator(con, s, "gdp"),
        indicator(con, s, "population"),
    ]
