"""`geosql eval --probe famous`: famous unambiguous cities in five everyday caption templates.

The set is built from the warehouse's `places`: every populated place of >= 300,000 people
whose name no other place (by its name or any alternate name) shares with >= 10% of its
population (issue 21). Each city goes into the five templates; the gold is its country.
"""

from __future__ import annotations

from typing import Any

import duckdb

from geosql.errors import GeosqlError
from geosql.eval.common import eval_dataset, replace_captions, run_method
from geosql.eval.countries import metrics

TEMPLATES = (
    "A house in {}",
    "{} hotel room",
    "Beautiful beach near {}",
    "Living room of an apartment for sale in {}",
    "old car parked on a street in {}",
)
PROBES = ("famous",)

_FAMOUS_SQL = """
WITH big AS (
    SELECT geonameid, name, country_code, population FROM places
    WHERE feature_class = 'P' AND population >= $min_pop AND country_code IS NOT NULL
),
named AS (  -- every (place, lower-case name) pair: main, ASCII and alternate names
    SELECT geonameid, lower(name) AS k FROM places
    UNION SELECT geonameid, lower(asciiname) FROM places WHERE asciiname IS NOT NULL
    UNION SELECT geonameid, lower(name) FROM place_names
)
SELECT b.name, b.country_code, b.geonameid, b.population FROM big b
WHERE NOT EXISTS (
    SELECT 1 FROM named n JOIN places o ON o.geonameid = n.geonameid
    WHERE n.k = lower(b.name) AND o.geonameid <> b.geonameid
      AND coalesce(o.population, 0) >= $share * b.population
)
ORDER BY b.population DESC, b.geonameid
"""


def famous_cities(
    con: duckdb.DuckDBPyConnection, min_pop: int = 300_000, share: float = 0.1
) -> list[tuple[str, str, int, int]]:
    """(name, country_code, geonameid, population) of the probe's cities, largest first."""
    return con.execute(_FAMOUS_SQL, {"min_pop": min_pop, "share": share}).fetchall()


def probe_famous(
    con: duckdb.DuckDBPyConnection,
    method: str = "offline",
    settings: dict[str, Any] | None = None,
    misses: int = 50,
) -> dict[str, Any]:
    """Accuracy of the method on the famous-cities probe (dataset `eval:probe-famous`), with
    the share answered 'no place' and up to `misses` wrong answers."""
    cities = famous_cities(con)
    if not cities:
        raise GeosqlError("the probe needs the places table: run `geosql init` first")
    ids, texts, gold = [], [], []
    for name, cc, gid, _ in cities:
        for k, tpl in enumerate(TEMPLATES):
            ids.append(f"{gid}-{k}")
            texts.append(tpl.format(name))
            gold.append((cc, cc))
    dataset = eval_dataset("probe-famous")
    replace_captions(con, dataset, ids, texts, "probe famous", gold)
    summary = run_method(con, method, dataset, settings)
    method = (settings or {}).get("method", method)
    out = metrics(con, method, dataset, summary.config_key, misses=misses)
    wrong = out["n"] - round(out["accuracy"] * out["n"])
    no_place = sum(1 for m in _answers(con, dataset, method, summary.config_key) if m is None)
    out.update(
        {
            "probe": "famous",
            "cities": len(cities),
            "templates": list(TEMPLATES),
            "no_place_share": round(no_place / out["n"], 4),
            "wrong": wrong,
            "rows_run": summary.rows_done,
            "rows_failed": summary.rows_failed,
            "seconds": round(summary.seconds, 2),
        }
    )
    return out


def _answers(con, dataset: str, method: str, config_key: str | None) -> list[str | None]:
    q = (
        "SELECT p.country_code FROM geo_predictions p JOIN captions c USING (caption_id)"
        " WHERE c.dataset = ? AND p.method = ?"
    )
    params: list[Any] = [dataset, method]
    if config_key is not None:
        q += " AND p.config_key = ?"
        params.append(config_key)
    return [r[0] for r in con.execute(q, params).fetchall()]
