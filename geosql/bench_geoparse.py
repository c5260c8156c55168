"""Geoparse throughput: the offline stage end to end vs geotext on the same captions.

The captions are recombined fragments of real captions (`../shared/data/dev/*.csv`) when that
folder is present, else template captions over GeoNames cities; the first line says which.
"""

from __future__ import annotations

import csv
import random
import re
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
MAX_CHARS = 400  # longest recombined caption
TEXT_COLUMNS = ("text", "Text", "caption", "TEXT")
# Fragments end at a clause boundary: punctuation followed by a space, or " - ", " | ".
_SPLIT = re.compile(r"(?<=[,;:.!?)])\s+|\s+[-–—|/]\s+")


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
    return _table(texts)


def _table(texts: list[str]) -> pa.Table:
    n = len(texts)
    return pa.table(
        {"caption_id": [f"b:{i}" for i in range(n)], "dataset": ["bench"] * n, "text": texts}
    )


def read_caption_texts(path: Path) -> list[str]:
    """The caption texts of a dev CSV (first column among text/Text/caption), non-empty."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.DictReader(f)
        col = next((c for c in TEXT_COLUMNS if c in (rows.fieldnames or [])), None)
        if col is None:
            return []
        return [r[col].strip() for r in rows if (r.get(col) or "").strip()]


def fragments(texts: list[str]) -> list[str]:
    """Clause-sized pieces of the texts (split at punctuation and dashes), whitespace kept tidy."""
    out = []
    for t in texts:
        for piece in _SPLIT.split(" ".join(t.split())):
            piece = piece.strip().rstrip(",;:").rstrip()
            if piece:
                out.append(piece)
    return out


def recombine(
    pools: list[list[str]],
    n: int,
    seed: int = 0,
    max_chars: int = MAX_CHARS,
    weights: list[float] | None = None,
) -> list[str]:
    """n captions, each 1-4 fragments of one pool (a source file, drawn by `weights`) joined
    as captions are ("a, b", "a - b", "a. b", "a b"), cut at a word boundary at `max_chars`.
    Deterministic for a seed."""
    rnd = random.Random(seed)
    joins = (", ", " - ", ". ", " ")
    out = []
    for _ in range(n):
        pool = rnd.choices(pools, weights)[0]
        k = rnd.choice((1, 1, 2, 2, 3, 4))
        parts = [pool[rnd.randrange(len(pool))] for _ in range(k)]
        text = parts[0]
        for p in parts[1:]:
            text += (" " if text[-1] in ".!?)" else rnd.choice(joins)) + p
        if len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0]
        out.append(text)
    return out


def real_captions(n: int, dev_dir: Path | None, seed: int = 0) -> tuple[pa.Table, str] | None:
    """n recombined real captions from `dev_dir/*.csv` and a line naming the source, or None."""
    if dev_dir is None or not dev_dir.is_dir():
        return None
    pools, weights, names = [], [], []
    for f in sorted(dev_dir.glob("*.csv")):
        texts = read_caption_texts(f)
        frags = fragments(texts)
        if frags:  # a file is drawn as often as it has captions
            pools.append(frags)
            weights.append(len(texts))
            names.append(f"{f.name} ({len(texts):,} captions, {len(frags):,} fragments)")
    if not pools:
        return None
    texts = recombine(pools, n, seed, weights=weights)
    mean = sum(map(len, texts)) / len(texts)
    return _table(texts), (
        f"captions: {n:,} recombined fragments of real captions from {dev_dir}: {', '.join(names)};"
        f" mean {mean:.0f} characters, at most {MAX_CHARS}"
    )


REPEATS = 3  # the machine's speed moves by ~10% from run to run: report medians


def _median_rate(n: int, seconds: list[float]) -> tuple[float, str]:
    """The median rate, and every run's rate in run order."""
    rates = [n / t for t in seconds]
    return sorted(rates)[len(rates) // 2], ", ".join(f"{r:,.0f}" for r in rates)


def _tables(con) -> set[str]:
    return {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}


def reset_stage(con, stage: str = "geoparse") -> None:
    """Forget the stage's results so the next run parses every caption again."""
    con.execute("DELETE FROM geo_predictions; DELETE FROM geo_mentions")
    for t in ("stage_items", "stage_errors"):  # the runner's bookkeeping, when it has it
        if t in _tables(con):
            con.execute(f"DELETE FROM {t} WHERE stage = ?", [stage])
    con.execute("CHECKPOINT")


def bench_captions(con, n: int) -> tuple[pa.Table, str]:
    """The bench captions: real fragments when ../shared/data/dev is there, else templates."""
    from geosql.paths import shared_dir

    shared = shared_dir()
    got = real_captions(n, shared / "data" / "dev" if shared else None)
    if got is not None:
        return got
    return make_captions(con, n), (
        f"captions: {n:,} template captions over GeoNames cities (../shared/data/dev not found:"
        " real-caption fragments unavailable; templates overstate the stage's speed)"
    )


@benchmark("geoparse")
def bench_geoparse(workdir: Path, scale: float) -> list[str]:
    import geosql
    from geosql import refdata
    from geosql.runner import run_stage
    from udfs.gazetteer.parallel import engine_count

    n = max(1000, int(200_000 * scale))
    wh = workdir / "bench.duckdb"
    with geosql.connect(wh) as con:
        for _ in refdata.load_defaults(con):
            pass
        caps, source = bench_captions(con, n)
        # Setup, not measured: the index build/cache and one-time imports, through one small
        # run of the stage itself (as geotext is warmed below).
        con.execute("INSERT INTO captions (caption_id, dataset, text) VALUES ('w:0', 'w', 'Paris')")
        run_stage(con, "geoparse", progress=False)
        con.execute("DELETE FROM captions")
        con.register("_caps", caps)
        con.execute("INSERT INTO captions (caption_id, dataset, text) SELECT * FROM _caps")
        con.unregister("_caps")

        def timed(config: dict | None = None) -> float:
            reset_stage(con)
            t0 = time.perf_counter()
            s = run_stage(con, "geoparse", config=config, progress=False)
            dt = time.perf_counter() - t0
            if s.rows_done != n:
                raise RuntimeError(f"benchmark run parsed {s.rows_done} of {n} captions")
            return dt

        t_stage = [timed() for _ in range(REPEATS)]
        located = con.sql("SELECT count(country_code) FROM geo_predictions").fetchall()[0][0]
        t_fuzzy = timed({"method": "fuzzy", "fuzzy": True})
        t_one = timed({"parallel": 1})
    rate, runs = _median_rate(n, t_stage)
    lines = [
        source,
        f"offline geoparse stage: {n:,} captions ({located:,} located), median of {REPEATS}"
        f" runs: {rate:,.0f} captions/s (runs: {runs})",
        f"  the same with --set fuzzy=true: {n / t_fuzzy:,.0f} captions/s (one run)",
        f"  the same with one engine (--set parallel=1; default: one per core, here"
        f" {engine_count(0)}): {n / t_one:,.0f} captions/s (one run)",
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
