"""Same answers before and after a geoparser speed change: predictions and mentions, row for row.

    PYTHONPATH=. .venv/bin/python scripts/geoparse_same_answers.py save OUT_DIR \
        --index GAZ.duckdb [--n 100000] [--stage WAREHOUSE_COPY.duckdb]
    PYTHONPATH=. .venv/bin/python scripts/geoparse_same_answers.py compare BEFORE_DIR AFTER_DIR

`save` parses every dev caption (`../shared/data/dev/*.csv` text columns) and `--n` bench
captions (geosql/bench_geoparse.py's recombined real fragments), fuzzy off and on, with the
Engine over the cached index (as the stage does, `parse_bounded`), and writes predictions and
mentions as parquet; `--stage` also runs the stage end to end on that warehouse (a COPY: its
geoparse results are replaced) and saves geo_predictions and geo_mentions. `compare` checks
every saved table for row-for-row equality and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def dev_texts(dev: Path) -> list[str]:
    from geosql.bench_geoparse import read_caption_texts

    out: list[str] = []
    for f in sorted(dev.glob("*.csv")):
        out += read_caption_texts(f)
    return out


def save(out: Path, index: Path, n: int, stage: Path | None) -> None:
    from geosql.bench_geoparse import real_captions
    from geosql.paths import shared_dir
    from udfs.gazetteer import Engine
    from udfs.gazetteer.stage import parse_bounded

    dev = shared_dir() / "data" / "dev"
    caps, _ = real_captions(n, dev)
    sets = {"dev": pa.array(dev_texts(dev), pa.string()), "bench": caps["text"].combine_chunks()}
    out.mkdir(parents=True, exist_ok=True)
    for fuzzy in (False, True):
        e = Engine(index, fuzzy=fuzzy)
        for name, texts in sets.items():
            preds, ments, _ = parse_bounded(e, texts)
            tag = f"{name}_fuzzy{int(fuzzy)}"
            pq.write_table(preds, out / f"{tag}_preds.parquet")
            pq.write_table(ments, out / f"{tag}_ments.parquet")
            print(tag, preds.num_rows, "predictions", ments.num_rows, "mentions", flush=True)
    if stage is not None:
        import geosql
        from geosql.bench_geoparse import reset_stage
        from geosql.runner import run_stage

        with geosql.connect(stage) as con:
            con.execute("DELETE FROM captions")
            con.register("_caps", caps)
            con.execute("INSERT INTO captions (caption_id, dataset, text) SELECT * FROM _caps")
            con.unregister("_caps")
            reset_stage(con)
            run_stage(con, "geoparse", progress=False, batch_size=max(1, n // 3))
            for t, order in (
                ("geo_predictions", "caption_id"),
                ("geo_mentions", "caption_id, start_pos"),
            ):
                rows = con.sql(f"SELECT * EXCLUDE (config_key) FROM {t} ORDER BY {order}")
                pq.write_table(rows.to_arrow_table(), out / f"stage_{t}.parquet")
            print("stage", flush=True)


def compare(a: Path, b: Path) -> int:
    bad = 0
    names = sorted(p.name for p in a.glob("*.parquet"))
    for name in names:
        ta, tb = pq.read_table(a / name), pq.read_table(b / name) if (b / name).exists() else None
        if tb is None:
            print(f"MISSING {name}")
            bad += 1
        elif ta.equals(tb):
            print(f"same    {name}: {ta.num_rows:,} rows")
        else:
            bad += 1
            print(
                f"DIFFER  {name}: {ta.num_rows:,} vs {tb.num_rows:,} rows"
                + ("" if ta.schema.equals(tb.schema) else f", schemas {ta.schema} / {tb.schema}")
            )
            if ta.num_rows == tb.num_rows and ta.schema.equals(tb.schema):
                for c in ta.column_names:
                    if not ta[c].equals(tb[c]):
                        x, y = ta[c].to_pylist(), tb[c].to_pylist()
                        d = [i for i, (u, v) in enumerate(zip(x, y, strict=True)) if u != v]
                        print(f"   column {c}: {len(d)} rows differ, e.g. row {d[0]}: {x[d[0]]!r}"
                              f" vs {y[d[0]]!r}")  # fmt: skip
    print("SAME ANSWERS" if not bad and names else f"{bad} of {len(names)} tables differ")
    return 1 if bad or not names else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save")
    s.add_argument("out", type=Path)
    s.add_argument("--index", type=Path, required=True)
    s.add_argument("--n", type=int, default=100_000)
    s.add_argument("--stage", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    a = ap.parse_args()
    if a.cmd == "save":
        save(a.out, a.index, a.n, a.stage)
        return 0
    return compare(a.before, a.after)


if __name__ == "__main__":
    sys.exit(main())
