"""The famous-places probe (issue 21): captions naming a big city with no strong namesake.

For every city of at least `min_pop` people whose name no other place shares with at least
`share` of its population, five caption templates. Built from the warehouse's `places` and
`place_names` tables, so anyone can rebuild it; `geosql eval --probe famous` (geosql/eval) and
the tests use `famous_places` and `probe_accuracy`.
"""

from __future__ import annotations

from typing import Any

from geosql.eval.probe import TEMPLATES  # the probe's five templates, declared once


def famous_places(con: Any, min_pop: int = 300_000, share: float = 0.1) -> list[tuple[str, str]]:
    """(name, country_code) of every city of `min_pop`+ people whose name (any of its names,
    case and accents aside) no other place carries with `share` of its population or more."""
    return con.sql(
        f"""
        WITH big AS (
            SELECT geonameid, name, country_code, population,
                   lower(strip_accents(name)) AS k
            FROM places
            WHERE feature_class = 'P' AND population >= {int(min_pop)}
        ), named AS (  -- every place carrying each big city's name
            SELECT DISTINCT b.geonameid AS city, p.geonameid, coalesce(p.population, 0) AS pop
            FROM big b
            JOIN place_names n ON lower(strip_accents(n.name)) = b.k
            JOIN places p ON p.geonameid = n.geonameid
        )
        SELECT b.name, b.country_code
        FROM big b
        WHERE NOT EXISTS (
            SELECT 1 FROM named o
            WHERE o.city = b.geonameid AND o.geonameid <> b.geonameid
              AND o.pop >= {float(share)} * b.population
        )
        ORDER BY b.population DESC, b.geonameid
        """
    ).fetchall()


def probe_rows(con: Any, **kw: Any) -> list[tuple[str, str]]:
    """(caption, expected country) for the probe: each famous place in each template."""
    return [(t.format(name), cc) for name, cc in famous_places(con, **kw) for t in TEMPLATES]


def probe_accuracy(engine: Any, rows: list[tuple[str, str]]) -> dict[str, float]:
    """Share of probe captions answered with the expected country, and answered no place."""
    preds, _ = engine.parse([t for t, _ in rows])
    got = preds["country_code"].to_pylist()
    n = len(rows)
    right = sum(g == cc for g, (_, cc) in zip(got, rows, strict=True))
    none = sum(g is None for g in got)
    return {"n": n, "accuracy": round(right / n, 4), "no_place": round(none / n, 4)}
