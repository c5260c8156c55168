"""Geoparse throughput: the offline stage end to end vs geotext on the same captions."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pyarrow as pa

from geosql.bench import benchmark

TEMPLATES = [
    "Beautiful {entity} in {city}, {country}",
    "{entity} for sale near {city}",
    "Sunset over the {entity} - {city} travel photo",
    "Modern {entity} interior design ideas with oak furniture",
    "Vintage {entity} with blue flowers, royalty free stock photo",
    "{city} {entity} at night, {country}",
    "A {entity} on a rainy day",
    "Wedding dress and {entity} inspiration for 2021 brides",
    "The old {entity} of {city} was built in 1890 and restored in 2005.",
    "cheap {entity} decor for the living room",
]
ENTITIES = ["house", "car", "flag", "beach", "mountain", "living room", "hotel", "kitchen"]


def make_captions(con, n: int, seed: int = 0) -> pa.Table:
    """n varied captions from templates over real GeoNames cities (deterministic)."""
    rnd = random.Random(seed)
    cities = con.sql(
        "SELECT p.name, c.name FROM places p JOIN countries c ON c.iso2 = p.country_code"
        " WHERE p.feature_code = 'PPL' AND p.population > 20000 ORDER BY p.geonameid"
    ).fetchall()
    texts = []
    for _ in range(n):
        city, country = rnd.choice(cities)
        texts.append(
            rnd.choice(TEMPLATES).format(
                entity=rnd.choice(ENTITIES), city=city, country=country.title()
            )
        )
    return pa.table(
        {"caption_id": [f"b:{i}" for i in range(n)], "dataset": ["bench"] * n, "text": texts}
    )


@benchmark("geoparse")
def bench_geoparse(workdir: Path, scale: float) -> list[str]:
    import geosql
    from geosql import refdata
    from geosql.runner import run_stage
    from udfs.gazetteer import Engine, load_gazetteer

    n = int(200_000 * scale)
    wh = workdir / "bench.duckdb"
    with geosql.connect(wh) as con:
        for _ in refdata.load_defaults(con):
            pass
        # Setup, not measured: the index build/cache, and one-time imports (pyarrow.compute;
        # pandas, which duckdb loads on its first Arrow exchange), as geotext is warmed below.
        Engine(load_gazetteer(con)).parse(["warm up in Paris"])
        caps = make_captions(con, n)
        con.register("_caps", caps)
        con.execute("INSERT INTO captions (caption_id, dataset, text) SELECT * FROM _caps")
        t0 = time.perf_counter()
        s = run_stage(con, "geoparse", progress=False)
        t_stage = time.perf_counter() - t0
        located = con.sql("SELECT count(country_code) FROM geo_predictions").fetchall()[0][0]
        t0 = time.perf_counter()
        fuzzy = run_stage(
            con, "geoparse", config={"method": "fuzzy", "fuzzy": True}, progress=False
        )
        t_fuzzy = time.perf_counter() - t0
    lines = [
        f"offline geoparse stage: {s.rows_done:,} captions in {t_stage:.1f}s = "
        f"{s.rows_done / t_stage:,.0f} captions/s ({located:,} located)",
        f"  the same with --set fuzzy=true: {fuzzy.rows_done / t_fuzzy:,.0f} captions/s",
    ]
    try:
        from geotext import GeoText
    except ImportError:
        return [*lines, "geotext not installed (pip install geotext): no comparison"]
    texts = caps["text"].to_pylist()
    GeoText("warm up in Paris")
    t0 = time.perf_counter()
    for t in texts:
        GeoText(t).country_mentions  # noqa: B018
    t_geo = time.perf_counter() - t0
    lines.append(f"geotext (extraction only, no DB writes): {n / t_geo:,.0f} captions/s")
    lines.append(f"ratio geosql/geotext: {(s.rows_done / t_stage) / (n / t_geo):.2f}x")
    return lines
