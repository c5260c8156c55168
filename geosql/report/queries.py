"""The SQL behind every figure of the report, as text a reader can rerun with `geosql sql`.

Every query is a plain SELECT over the warehouse's views with the report's scope (dataset,
method, entity) written in as literals, so the text shown under a figure is exactly what ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

ALL = "(all captions)"
US_UK_CA = ("US", "GB", "CA")


def lit(value: object) -> str:
    """A SQL literal for a string or number (NULL for None)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def relation_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Is there a table or view of this name in the warehouse?"""
    q = (
        "SELECT count(*) FROM (SELECT view_name AS n FROM duckdb_views() "
        "UNION ALL SELECT table_name FROM duckdb_tables()) WHERE n = ?"
    )
    return con.execute(q, [name]).fetchall()[0][0] > 0


def has_rows(con: duckdb.DuckDBPyConnection, name: str, where: str = "") -> bool:
    """Does the table or view exist and have at least one (matching) row?"""
    if not relation_exists(con, name):
        return False
    w = f" WHERE {where}" if where else ""
    return (
        con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {name}{w} LIMIT 1)").fetchall()[0][0] > 0
    )


def columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """Column names of a table or view."""
    return [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]


@dataclass(frozen=True)
class Scope:
    """What the report covers: one dataset and geoparsing method, all entities or one."""

    dataset: str
    method: str
    entity: str | None = None
    predictions: str = "geo_predictions"  # or current_geo_predictions once it exists
    geo_status: bool = False  # the warehouse has the view caption_geo_status

    def where(self, alias: str = "") -> str:
        a = f"{alias}." if alias else ""
        w = f"{a}dataset = {lit(self.dataset)} AND {a}method = {lit(self.method)}"
        if self.entity is not None:
            w += f" AND {a}entity = {lit(self.entity)}"
        return w

    @property
    def label(self) -> str:
        return ALL if self.entity is None else self.entity


def groups_sql(s: Scope) -> str:
    """(entity, country_code, n, share) for the scope: all captions once, then each entity."""
    if s.entity is not None:
        return f"SELECT entity, country_code, n, share\nFROM country_counts\nWHERE {s.where()}"
    return (
        f"SELECT {lit(ALL)} AS entity, country_code, sum(n) AS n,\n"
        f"       sum(n) / sum(sum(n)) OVER () AS share\n"
        f"FROM combined_distribution\nWHERE {s.where()}\nGROUP BY country_code\n"
        f"UNION ALL\n"
        f"SELECT entity, country_code, n, share\n"
        f"FROM country_counts\nWHERE {s.where()} AND entity IS NOT NULL"
    )


def scope_sql(s: Scope) -> str:
    """(country_code, n, share) of the report's main scope (all captions, or the one entity)."""
    if s.entity is not None:
        return f"SELECT country_code, n, share\nFROM country_counts\nWHERE {s.where()}"
    return (
        "SELECT country_code, sum(n) AS n, sum(n) / sum(sum(n)) OVER () AS share\n"
        f"FROM combined_distribution\nWHERE {s.where()}\nGROUP BY country_code"
    )


def _indent(sql: str, n: int = 4) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in sql.splitlines())


def map_sql(s: Scope) -> str:
    return (
        f"WITH g AS (\n{_indent(groups_sql(s))}\n)\n"
        "SELECT g.entity, g.country_code, co.name AS country, g.n, g.share\n"
        "FROM g LEFT JOIN countries co ON co.iso2 = g.country_code\n"
        "ORDER BY g.entity, g.n DESC, g.country_code"
    )


def top_sql(s: Scope, k: int = 20) -> str:
    return (
        f"WITH s AS (\n{_indent(scope_sql(s))}\n)\n"
        "SELECT row_number() OVER w AS rank, s.country_code, co.name AS country, s.n, s.share,\n"
        "       sum(s.share) OVER (w ROWS UNBOUNDED PRECEDING) AS cumulative_share\n"
        "FROM s LEFT JOIN countries co ON co.iso2 = s.country_code\n"
        "WINDOW w AS (ORDER BY s.n DESC, s.country_code)\n"
        f"ORDER BY rank\nLIMIT {k}"
    )


def continent_sql(s: Scope) -> str:
    if s.entity is not None:
        return (
            "SELECT entity, coalesce(continent, '(unknown)') AS continent, sum(n) AS n,\n"
            "       sum(n) / sum(sum(n)) OVER () AS share\n"
            f"FROM continent_distribution\nWHERE {s.where()}\nGROUP BY entity, continent\n"
            "ORDER BY n DESC"
        )
    return (
        f"SELECT {lit(ALL)} AS entity, coalesce(continent, '(unknown)') AS continent,\n"
        "       sum(n) AS n, sum(n) / sum(sum(n)) OVER () AS share\n"
        f"FROM combined_distribution\nWHERE {s.where()}\nGROUP BY continent\n"
        "UNION ALL\n"
        "SELECT entity, coalesce(continent, '(unknown)'), sum(n),\n"
        "       sum(n) / sum(sum(n)) OVER (PARTITION BY entity)\n"
        f"FROM continent_distribution\nWHERE {s.where()} AND entity IS NOT NULL\n"
        "GROUP BY entity, continent\n"
        "ORDER BY entity, n DESC"
    )


def unlocated_sql(s: Scope) -> str:
    if s.geo_status:  # caption_geo_status: located | no_place | failed | not_run per caption
        extra = ", n_failed, n_not_run"
        st = "count(*) FILTER (WHERE status IN ('located', 'no_place'))"
        overall = (
            f"SELECT {lit(ALL)} AS entity, {st} AS n_captions,\n"
            "       count(*) FILTER (WHERE status = 'no_place') AS n_unlocated,\n"
            f"       count(*) FILTER (WHERE status = 'no_place') / nullif({st}, 0) AS share,\n"
            "       count(*) FILTER (WHERE status = 'failed') AS n_failed,\n"
            "       count(*) FILTER (WHERE status = 'not_run') AS n_not_run\n"
            f"FROM caption_geo_status\nWHERE {Scope(s.dataset, s.method).where()}"
        )
    else:
        extra = ""
        p = s.predictions
        overall = (
            f"SELECT {lit(ALL)} AS entity, count(*) AS n_captions,\n"
            "       count(*) FILTER (WHERE p.country_code IS NULL) AS n_unlocated,\n"
            "       count(*) FILTER (WHERE p.country_code IS NULL) / count(*) AS share\n"
            f"FROM captions c JOIN {p} p ON p.caption_id = c.caption_id\n"
            f"WHERE c.dataset = {lit(s.dataset)} AND p.method = {lit(s.method)}"
        )
    per_entity = (
        "SELECT coalesce(entity, '(no entity)') AS entity, n_captions, n_unlocated, share"
        f"{extra}\nFROM unlocated_share\nWHERE {s.where()}"
    )
    if s.entity is not None:
        return per_entity
    return f"{overall}\nUNION ALL\n{per_entity}\nORDER BY entity"


def us_uk_ca_sql(s: Scope) -> str:
    codes = ", ".join(lit(c) for c in US_UK_CA)
    return (
        f"WITH g AS (\n{_indent(groups_sql(s))}\n)\n"
        f"SELECT entity, coalesce(sum(n) FILTER (WHERE country_code IN ({codes})), 0)\n"
        "           AS n_us_uk_ca,\n"
        "       sum(n) AS n_located,\n"
        f"       coalesce(sum(n) FILTER (WHERE country_code IN ({codes})), 0) / sum(n)\n"
        "           AS us_uk_ca_share\n"
        "FROM g GROUP BY entity ORDER BY entity"
    )


INDICATORS = {
    "gdp": ("GDP", "SELECT country_code, gdp_usd AS value FROM gdp_used"),
    "population": (
        "population",
        "SELECT iso2 AS country_code, population AS value FROM countries WHERE population > 0",
    ),
}


def indicator_points_sql(s: Scope, indicator: str) -> str:
    ind = INDICATORS[indicator][1]
    return (
        f"WITH s AS (\n{_indent(scope_sql(s))}\n),\n"
        f"i AS ({ind})\n"
        "SELECT s.country_code, co.name AS country, s.n, s.share, i.value\n"
        "FROM s JOIN i ON i.country_code = s.country_code\n"
        "LEFT JOIN countries co ON co.iso2 = s.country_code\n"
        "ORDER BY s.n DESC, s.country_code"
    )


def indicator_stats_sql(s: Scope, indicator: str) -> str:
    """Pearson and Spearman of log10(share) vs log10(indicator), and the log-log fitted line."""
    return (
        f"WITH pts AS (\n{_indent(indicator_points_sql(s, indicator))}\n),\n"
        "xy AS (SELECT log10(value) AS x, log10(share) AS y FROM pts),\n"
        "ranked AS (\n"
        "    SELECT x, y,\n"
        "           rank() OVER (ORDER BY x) + (count(*) OVER (PARTITION BY x) - 1) / 2.0 AS rx,\n"
        "           rank() OVER (ORDER BY y) + (count(*) OVER (PARTITION BY y) - 1) / 2.0 AS ry\n"
        "    FROM xy\n"
        ")\n"
        "SELECT count(*) AS n_countries,\n"
        "       nullif(corr(x, y), 'nan'::DOUBLE) AS pearson,\n"
        "       nullif(corr(rx, ry), 'nan'::DOUBLE) AS spearman,\n"
        "       regr_slope(y, x) AS slope, regr_intercept(y, x) AS intercept,\n"
        "       min(x) AS min_log10_value, max(x) AS max_log10_value\n"
        "FROM ranked"
    )


def correlation_table_sql(s: Scope) -> str:
    return (
        "SELECT coalesce(entity, '(no entity)') AS entity, indicator, n_countries, pearson,\n"
        f"       spearman\nFROM indicator_correlation\nWHERE {s.where()}\n"
        "ORDER BY indicator, entity"
    )


def headline_sql(s: Scope) -> str:
    """Captions, located, countries and top-3 share of the main scope."""
    return (
        f"WITH s AS (\n{_indent(scope_sql(s))}\n)\n"
        "SELECT sum(n) AS n_located, count(*) AS n_countries,\n"
        "       sum(share) FILTER (WHERE r <= 3) AS top3_share,\n"
        "       string_agg(country_code, '+' ORDER BY r) FILTER (WHERE r <= 3) AS top3\n"
        "FROM (SELECT *, row_number() OVER (ORDER BY n DESC, country_code) AS r FROM s)"
    )
