"""Core benchmarks (ingest, geoparse). Model families add theirs in their own modules."""

from __future__ import annotations

import time
from pathlib import Path

from geosql.bench import benchmark

_TEXTS = [
    "A cozy living room in a Paris apartment",
    "Red car parked near the beach in Rio de Janeiro",
    "Houses on a hill in Kyoto, Japan",
    "The flag of Kenya waving in the wind",
    "Mountain view over the lake at sunrise",
    "Wedding dresses in a shop window, Milan",
    "A modern house for sale in Texas",
    "Street food market in Bangkok at night",
]


@benchmark("ingest")
def bench_ingest(workdir: Path, scale: float) -> list[str]:
    """1,000,000 caption rows (x scale) from Parquet with two entities tagged (house, living room)."""
    import duckdb

    import geosql
    from geosql.ingest import ingest

    n = max(1000, int(1_000_000 * scale))
    src = workdir / "captions.parquet"
    lit = "[" + ", ".join("'" + t.replace("'", "''") + "'" for t in _TEXTS) + "]"
    with duckdb.connect() as con:  # not timed: write the input
        con.execute(
            f"COPY (SELECT 'img' || i AS id, list_element({lit}, (i % {len(_TEXTS)})::INT + 1)"
            f" || ' #' || i AS text, 'https://img.example.com/' || i || '.jpg' AS url"
            f" FROM range({n}) t(i)) TO '{src}' (FORMAT parquet)"
        )
    lines = []
    for label, kwargs in (("with --id-col", {"id_col": "id"}), ("content-hash ids", {})):
        wh = workdir / f"bench-{len(lines)}.duckdb"
        with geosql.connect(wh) as con:
            t0 = time.perf_counter()
            s = ingest(con, [src], "bench", url_col="url", entities=["house", "living room"],
                       **kwargs)  # fmt: skip
            dt = time.perf_counter() - t0
        tags = sum(s.entities_added.values())
        lines.append(
            f"ingest {s.rows_read:,} rows from Parquet, 2 entities ({tags:,} tags), {label}:"
            f" {dt:.2f}s = {s.rows_read / dt:,.0f} rows/s"
        )
    return lines
