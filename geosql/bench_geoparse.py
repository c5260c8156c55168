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


REPEATS = 3  # the machine's speed moves by ~10% from run to run: report medians


def _median_rate(n: int, seconds: list[float]) -> tuple[float, str]:
    """The median rate, and every run's rate in run order."""
    rates = [n / t for t in seconds]
    return sorted(rates)[len(rates) // 2], ", ".join(f"{r:,.0f}" for r in rates)


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

        def timed(config: dict | None = None) -> float:
            con.execute("DELETE FROM geo_predictions; DELETE FROM geo_mentions; CHECKPOINT")
            t0 = time.perf_counter()
            s = run_stage(con, "geoparse", config=config, progress=False)
            dt = time.perf_counter() - t0
            if s.rows_done != n:
                raise RuntimeError(f"benchmark run parsed {s.rows_done} of {n} captions")
            return dt

        t_stage = [timed() for _ in range(REPEATS)]
        located = con.sql("SELECT count(country_code) FROM geo_predictions").fetchall()[0][0]
        t_fuzzy = timed({"method": "fuzzy", "fuzzy": True})
    rate, runs = _median_rate(n, t_stage)
    lines = [
        f"offline geoparse stage: {n:,} captions ({located:,} located), median of {REPEATS}"
        f" runs: {rate:,.0f} captions/s (runs: {runs})",
        f"  the same with --set fuzzy=true: {n / t_fuzzy:,.0f} captions/s (one run)",
    ]
    try:
        from geotext import GeoText
    except ImportError:
        return [*lines, "geotext not installed (pip install geotext): no comparison"]
    texts = caps["text"].to_pylist()
    GeoText("warm up in Paris")
    t_geo = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for t in texts:
            GeoText(t).country_mentions  # noqa: B018
        t_geo.append(time.perf_counter() - t0)
    geo_rate, geo_runs = _median_rate(n, t_geo)
    lines.append(
        f"geotext (extraction only, no DB writes), median of {REPEATS} runs:"
        f" {geo_rate:,.0f} captions/s (runs: {geo_runs})"
    )
    lines.append(f"ratio geosql/geotext (medians): {rate / geo_rate:.2f}x")
    return lines
