"""Altair charts of the report; each takes plain rows (lists of dicts) and returns a chart.

The same chart objects go into the HTML page (vega-embed, inlined) and, with `--figures`, into
PNG and SVG files (vl-convert). Nothing here reads the warehouse.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt

from geosql.report.world import outlined_codes, point_locations, world_features

Rows = list[dict[str, Any]]
WIDTH = 860
# The outlines travel as a named dataset filled in by `with_world()`: Altair would otherwise
# validate and deep-copy ~200k coordinates per chart (a minute per map on a busy machine).
WORLD = "geosql_world"
COLOR_SCHEME = "goldred"
PALETTE = "tableau10"


def display_name(name: str | None, code: str | None) -> str:
    """'united states' -> 'United States' (the warehouse keeps names lower case)."""
    if not name:
        return code or "?"
    small = {"and", "of", "the", "da", "de"}
    words = name.split()
    return " ".join(w if (i and w in small) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def with_world(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the world outlines to a Vega-Lite spec that names them (a map)."""
    import json

    if f'"name": "{WORLD}"' in json.dumps(spec):
        spec.setdefault("datasets", {})[WORLD] = world_features()
    return spec


def map_rows(rows: Rows) -> tuple[Rows, Rows]:
    """Split rows into those drawn as polygons and those drawn as points (lat, lon added)."""
    outlined = outlined_codes()
    points = point_locations()
    shapes, dots = [], []
    for r in rows:
        r = {**r, "country": display_name(r.get("country"), r["country_code"])}
        if r["country_code"] in outlined:
            shapes.append(r)
        elif r["country_code"] in points:
            _, lat, lon = points[r["country_code"]]
            dots.append({**r, "lat": lat, "lon": lon})
    return shapes, dots


def world_map(rows: Rows, groups: list[str], selected: str | None = None, title: str = "") -> Any:
    """Choropleth of share per country (log colour scale), one group at a time.

    With `selected=None` the page gets a drop-down over `groups`; with a group name the chart
    is fixed to it (the PNG/SVG figures).
    """
    shapes, dots = map_rows(rows)
    tooltip = [
        alt.Tooltip("country:N", title="country"),
        alt.Tooltip("country_code:N", title="code"),
        alt.Tooltip("n:Q", title="captions", format=","),
        alt.Tooltip("share:Q", title="share", format=".2%"),
    ]
    color = alt.Color(
        "share:Q",
        scale=alt.Scale(type="log", scheme=COLOR_SCHEME),
        legend=alt.Legend(title="share of located", format=".1~%", orient="bottom-left"),
    )
    if selected is None:
        param = alt.param(
            name="group",
            value=groups[0],
            bind=alt.binding_select(options=groups, name="captions: "),
        )
        keep: Any = alt.datum.entity == param
    else:
        param = None
        keep = alt.datum.entity == selected
    base = alt.Chart(alt.Data(name=WORLD)).mark_geoshape(
        fill="#e4e4e4", stroke="white", strokeWidth=0.5
    )
    choro = (
        alt.Chart(alt.Data(values=shapes or [{"entity": "", "country_code": "", "share": 1}]))
        .transform_filter(keep)
        .transform_lookup(
            lookup="country_code",
            from_=alt.LookupData(data=alt.Data(name=WORLD), key="id"),
            as_="geo",
        )
        .mark_geoshape(stroke="white", strokeWidth=0.5)
        .encode(shape="geo:G", color=color, tooltip=tooltip)
    )
    layers = [base, choro]
    if dots:
        layers.append(
            alt.Chart(alt.Data(values=dots))
            .transform_filter(keep)
            .mark_circle(size=70, stroke="#333", strokeWidth=0.8, opacity=1)
            .encode(longitude="lon:Q", latitude="lat:Q", color=color, tooltip=tooltip)
        )
    chart = (
        alt.layer(*layers)
        .project(type="equalEarth")
        .properties(width=WIDTH, height=440, title=title)
    )
    if param is not None:
        chart = chart.add_params(param)
    return chart


def continent_bars(rows: Rows) -> Any:
    """Share of located captions per continent, one bar per group (a heatmap for > 4 groups)."""
    groups = list(dict.fromkeys(r["entity"] for r in rows))
    if len(groups) > 4:
        return continent_matrix(rows, groups)
    enc: dict[str, Any] = {
        "x": alt.X("share:Q", title="share of located captions", axis=alt.Axis(format="%")),
        "y": alt.Y(
            "continent:N", title=None, sort=alt.EncodingSortField("n", op="sum", order="descending")
        ),
        "color": alt.Color(
            "entity:N", title="captions", sort=groups, scale=alt.Scale(scheme=PALETTE)
        ),
        "tooltip": [
            "entity:N",
            "continent:N",
            alt.Tooltip("n:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    }
    if len(groups) > 1:
        enc["yOffset"] = alt.YOffset("entity:N", sort=groups)
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(**enc)
        .properties(width=WIDTH - 260, height=alt.Step(16 if len(groups) > 1 else 24))
    )


def continent_matrix(rows: Rows, groups: list[str]) -> Any:
    """Group x continent matrix of shares, labelled (many entities)."""
    conts = ["North America", "Europe", "Asia", "Oceania", "Africa", "South America"]
    order = conts + sorted({r["continent"] for r in rows} - set(conts))
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("continent:N", sort=order, title=None, axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("entity:N", sort=groups, title=None),
    )
    rect = base.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues"), legend=alt.Legend(format="%")),
        tooltip=[
            "entity:N",
            "continent:N",
            alt.Tooltip("n:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition(alt.datum.share > 0.5, alt.value("white"), alt.value("black")),
    )
    return alt.layer(rect, text).properties(width=alt.Step(90), height=alt.Step(20))


def share_bars(rows: Rows, field: str, title: str, count: str | None = None) -> Any:
    """One horizontal bar per group (entity) with a share value."""
    tooltip: list[Any] = ["entity:N", alt.Tooltip(f"{field}:Q", format=".1%")]
    if count:
        tooltip.append(alt.Tooltip(f"{count}:Q", format=","))
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            color=alt.condition(
                alt.datum.entity == "(all captions)", alt.value("#23395b"), alt.value("#8a9fb5")
            ),
            x=alt.X(
                f"{field}:Q", title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            y=alt.Y("entity:N", title=None, sort=None),
            tooltip=tooltip,
        )
        .properties(width=WIDTH - 300, height=alt.Step(22))
    )


def indicator_scatter(points: Rows, stats: dict[str, Any], label: str, title: str) -> Any:
    """Log-log scatter of share vs an indicator with the fitted line; top countries labelled."""
    pts = [{**p, "country": display_name(p.get("country"), p["country_code"])} for p in points]
    fmt = "$.2~s" if label == "GDP" else ".2~s"
    scale = alt.Scale(type="log", nice=False, padding=14)
    x = alt.X("value:Q", title=f"{label} (log)", scale=scale, axis=alt.Axis(format=fmt))
    y = alt.Y(
        "share:Q",
        title="share of located captions (log)",
        scale=scale,
        axis=alt.Axis(format=".2~%"),
    )
    tooltip = [
        "country:N",
        alt.Tooltip("n:Q", format=","),
        alt.Tooltip("share:Q", format=".2%"),
        alt.Tooltip("value:Q", title=label, format=fmt),
    ]
    dots = alt.Chart(alt.Data(values=pts)).mark_circle(size=55, color="#3b6e8f", opacity=0.8)
    layers = [dots.encode(x=x, y=y, tooltip=tooltip)]
    top = sorted(pts, key=lambda p: -p["n"])[:12]
    layers.append(
        alt.Chart(alt.Data(values=top))
        .mark_text(align="left", dx=6, fontSize=10, color="#333")
        .encode(x=x, y=y, text="country_code:N")
    )
    if stats.get("slope") is not None and stats["min_log10_value"] is not None:
        a, b = stats["intercept"], stats["slope"]
        line = [
            {"value": 10**v, "share": 10 ** (a + b * v)}
            for v in (stats["min_log10_value"], stats["max_log10_value"])
        ]
        layers.append(
            alt.Chart(alt.Data(values=line))
            .mark_line(color="#c0392b", strokeDash=[6, 3])
            .encode(x=x, y=y)
        )
    return alt.layer(*layers).properties(width=WIDTH - 300, height=380, title=title)


def fmt_r(v: float | None) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


def grouped_bars(
    rows: Rows,
    category: str,
    value: str,
    group: str | None,
    fmt: str = ".1%",
    title: str = "",
    domain: list[float] | None = None,
) -> Any:
    """Generic horizontal bars: value per category, optionally split by a group column."""
    scale = alt.Scale(domain=domain) if domain else alt.Undefined
    enc: dict[str, Any] = {
        "x": alt.X(f"{value}:Q", title=title or value, axis=alt.Axis(format=fmt), scale=scale),
        "y": alt.Y(f"{category}:N", title=None, sort=None),
        "tooltip": [f"{c}:N" for c in (category, group) if c]
        + [alt.Tooltip(f"{value}:Q", format=fmt)],
    }
    if group:
        enc["color"] = alt.Color(f"{group}:N", scale=alt.Scale(scheme=PALETTE))
        enc["yOffset"] = alt.YOffset(f"{group}:N")
    n_groups = len({r.get(group) for r in rows}) if group else 1
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(**enc)
        .properties(width=WIDTH - 300, height=alt.Step(14 if n_groups > 1 else 20))
    )


def heatmap(rows: Rows, x: str, y: str, value: str, title: str = "") -> Any:
    """A labelled matrix (e.g. country x country)."""
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:N", title=None, sort=None),
            y=alt.Y(f"{y}:N", title=None, sort=None),
            color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="viridis")),
            tooltip=[f"{x}:N", f"{y}:N", alt.Tooltip(f"{value}:Q", format=".3f")],
        )
        .properties(title=title)
    )


def threshold_lines(rows: Rows) -> Any:
    """Share within each distance threshold (km, log axis), one line per run."""
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("km:Q", title="within km (log)", scale=alt.Scale(type="log")),
            y=alt.Y(
                "share:Q",
                title="share of images",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("run:N", title=None, scale=alt.Scale(scheme=PALETTE)),
            tooltip=["run:N", "km:Q", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(width=WIDTH - 360, height=300)
    )


def share_vs_score(rows: Rows, group: str | None) -> Any:
    """Share of located captions (log) against a diversity score."""
    enc: dict[str, Any] = {
        "x": alt.X(
            "share:Q",
            title="share of located captions (log)",
            scale=alt.Scale(type="log"),
            axis=alt.Axis(format=".2~%"),
        ),
        "y": alt.Y("vendi:Q", title="Vendi score"),
        "tooltip": [
            "country_code:N",
            alt.Tooltip("share:Q", format=".2%"),
            alt.Tooltip("vendi:Q", format=".2f"),
        ],
    }
    if group:
        enc["color"] = alt.Color(f"{group}:N", scale=alt.Scale(scheme=PALETTE))
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_circle(size=60)
        .encode(**enc)
        .properties(width=WIDTH - 360, height=300)
    )
