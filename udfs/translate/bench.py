"""`geosql bench translate`: captions/s of the translate stage with a tiny random-weight NLLB
model on CPU (the generate path, batching and writes; not the speed of a real model)."""

from __future__ import annotations

import time
from pathlib import Path

from geosql.bench import benchmark, insert_bench_captions

TEXTS = [
    ("Atardecer en la playa de la Barceloneta, Barcelona", "es"),
    ("東京タワーの夜景", "ja"),
    ("दिल्ली में लाल किला", "hi"),
    ("Ηλιοβασίλεμα στη Σαντορίνη", "el"),
    ("Casa en venta en Guadalajara, Jalisco", "es"),
    ("Το λιμάνι στα Χανιά", "el"),
]


@benchmark("translate")
def bench_translate(workdir: Path, scale: float) -> list[str]:
    """1,000 captions (x scale) in 4 languages, tiny NLLB on CPU, max_length 32."""
    import geosql
    from geosql.runner import run_stage
    from udfs.translate.tiny import build_tiny_nllb

    model = build_tiny_nllb(workdir / "tiny-nllb")
    n = max(64, int(1000 * scale))
    rows = [TEXTS[i % len(TEXTS)] for i in range(n)]
    lines = []
    with geosql.connect(workdir / "bench.duckdb") as con:
        insert_bench_captions(con, [r[0] for r in rows], [r[1] for r in rows])
        for bs in (16, 64):
            cfg = {"model": str(model), "device": "cpu", "max_length": 32, "gen_batch_size": bs}
            con.execute("DELETE FROM stage_items WHERE stage = 'translate'")
            t0 = time.perf_counter()
            s = run_stage(con, "translate", config=cfg, progress=False)
            dt = time.perf_counter() - t0
            lines.append(
                f"translate stage (tiny NLLB, CPU, gen_batch_size={bs}): {s.rows_done:,} captions"
                f" in {dt:.2f} s = {s.rows_done / dt:,.1f} captions/s (model load included)"
            )
    from udfs.language.codes import flores_code
    from udfs.translate.nllb import Translator

    t0 = time.perf_counter()
    tr = Translator(str(model), device="cpu", max_length=32, batch_size=16)
    load = time.perf_counter() - t0
    texts, codes = [r[0] for r in rows], [flores_code(r[1]) for r in rows]
    t0 = time.perf_counter()
    res = tr.translate(texts, codes)
    dt = time.perf_counter() - t0
    lines.append(
        f"generate only (gen_batch_size=16): {n / dt:,.1f} captions/s,"
        f" {res.tokens_out / dt:,.0f} tokens/s; model load {load:.2f} s"
    )
    return lines
