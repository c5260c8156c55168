"""Simulate the hybrid geoparser on the dev sets: which share goes to the LLM, and how accurate.

    .venv/bin/python scripts/hybrid_simulation.py [--shared ../shared] [--warehouse W]
        [--thresholds 0.5,0.6,0.7,0.8,0.9,0.95] [--budgets 0.1,0.2] [--llm-column gemini-pro]
        [--no-multi-country] [--json out.json]

Goes through a warehouse like a user would: loads the bundled reference data, ingests
laion_self_dev.csv and marginalized_dev.csv, runs the offline `geoparse` stage and reads
geo_predictions / geo_mentions. For each threshold it routes captions with the same rule as the
`hybrid-geoparse` stage (`udfs.gemini.send_to_llm`: offline confidence below the threshold, or
mentions scored at least `--multi-min-score` in several countries) and scores the hybrid answer: the offline country when it is
kept, the dev set's recorded LLM answer (`--llm-column`: `gemini-flash` by default, or
`gemini-pro`) when the caption would go to the LLM. The LLM itself cannot be reached here; the
recorded answers stand in for it.

The offline scoring model was fitted on the `train == 1` rows, so the headline numbers are on
the held-out `train == 0` rows; `--split all` reports every row.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geosql  # noqa: E402
from geosql.countries import is_no_place, normalize_country  # noqa: E402
from geosql.ingest import ingest  # noqa: E402
from geosql.refdata import load_defaults  # noqa: E402
from geosql.runner import run_stage  # noqa: E402
from udfs.gemini import budget_threshold, send_to_llm  # noqa: E402

SETS = {
    # dataset name: (file, text column, gold column)
    "laion_self_dev": ("laion_self_dev.csv", "text", "gt"),
    "marginalized_dev": ("marginalized_dev.csv", "Text", "Country name EN"),
}
LLM_COLUMNS = ("gemini-flash", "gemini-pro")  # recorded answers in both dev files
THRESHOLDS = [0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.01]


def country(value: object) -> tuple[bool, str | None]:
    """(known, iso2): no-place answers are (True, None); unrecognized names (False, None)."""
    if value is None or is_no_place(str(value)):
        return True, None
    cc = normalize_country(str(value))
    return cc is not None, cc


def offline_predictions(warehouse: Path, dev: Path, min_score: float) -> pl.DataFrame:
    """Ingest the dev sets, run `geoparse`, return caption_id, dataset, offline answer."""
    with geosql.connect(warehouse) as con:
        if not con.execute("SELECT count(*) FROM places").fetchall()[0][0]:
            for line in load_defaults(con):
                print(line, file=sys.stderr)
        for name, (f, text_col, _) in SETS.items():
            s = ingest(con, [dev / f], name, text_col=text_col, id_col="id")
            print(s.line(), file=sys.stderr)
        print(run_stage(con, "geoparse", progress=False).line(), file=sys.stderr)
        return con.sql(
            "SELECT c.caption_id, c.dataset, p.country_code AS offline, p.confidence,"
            " coalesce(m.n, 0) AS n_countries"
            " FROM captions c JOIN geo_predictions p"
            "   ON p.caption_id = c.caption_id AND p.method = 'offline'"
            " LEFT JOIN (SELECT caption_id, count(DISTINCT country_code) AS n FROM geo_mentions"
            f"   WHERE method = 'offline' AND score >= {float(min_score)} GROUP BY caption_id) m"
            "   ON m.caption_id = c.caption_id"
        ).pl()


def dev_rows(dev: Path, llm_col: str = "gemini-flash") -> pl.DataFrame:
    rows = []
    for name, (f, _, gold_col) in SETS.items():
        df = pl.read_csv(dev / f, infer_schema_length=0)
        if llm_col not in df.columns:
            sys.exit(f"{dev / f}: no column {llm_col!r} (--llm-column); columns: {df.columns}")
        for r in df.iter_rows(named=True):
            gk, gold = country(r[gold_col])
            _, llm = country(r[llm_col])
            rows.append(
                {
                    "caption_id": f"{name}:{r['id']}",
                    "gold_known": gk,
                    "gold": gold,
                    "llm": llm,
                    "train": int(r["train"]),
                }
            )
    return pl.DataFrame(rows)


def simulate(
    df: pl.DataFrame, thresholds: list[float], multi: bool, budgets: list[float] = ()
) -> list[dict]:
    """Per set and threshold (or budget: each dataset's own threshold, as the stage with
    `--set budget=B` picks it over that dataset's captions) the share sent and accuracies."""
    out = []
    per_ds = {
        b: {
            ds: budget_threshold(
                zip(g["confidence"].to_list(), g["n_countries"].to_list(), strict=True), b, multi
            )
            for ds, g in ((n, df.filter(pl.col("dataset") == n)) for n in SETS)
        }
        for b in budgets
    }
    groups = [("all sets", df)] + [(n, df.filter(pl.col("dataset") == n)) for n in SETS]
    for label, g in groups:
        recs = g.to_dicts()
        n = len(recs)
        if not n:
            continue
        off_acc = sum(r["offline"] == r["gold"] for r in recs) / n
        llm_acc = sum(r["llm"] == r["gold"] for r in recs) / n
        for t in [*thresholds, *(("budget", b) for b in budgets)]:
            if isinstance(t, tuple):
                ts = per_ds[t[1]]
                sent = [
                    send_to_llm(r["confidence"], r["n_countries"], ts[r["dataset"]], multi)
                    for r in recs
                ]
            else:
                sent = [send_to_llm(r["confidence"], r["n_countries"], t, multi) for r in recs]
            hyb = [r["llm"] if s else r["offline"] for r, s in zip(recs, sent, strict=True)]
            acc = sum(h == r["gold"] for h, r in zip(hyb, recs, strict=True)) / n
            out.append(
                {
                    "set": label,
                    "n": n,
                    "threshold": None if isinstance(t, tuple) else t,
                    "budget": t[1] if isinstance(t, tuple) else None,
                    "share_sent": round(sum(sent) / n, 4),
                    "hybrid_acc": round(acc, 4),
                    "offline_acc": round(off_acc, 4),
                    "llm_acc": round(llm_acc, 4),
                }
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--warehouse", type=Path, default=None, help="Reuse/keep this warehouse.")
    ap.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)))
    ap.add_argument(
        "--budgets",
        default="",
        help="Also route by budget (comma-separated shares: each dataset sends at most that"
        " share, the least confident first), as `hybrid-geoparse --set budget=B`.",
    )
    ap.add_argument("--split", choices=["heldout", "all"], default="heldout")
    ap.add_argument(
        "--llm-column",
        default="gemini-flash",
        help=f"Recorded LLM answers standing in for the LLM ({', '.join(LLM_COLUMNS)}).",
    )
    ap.add_argument(
        "--no-multi-country",
        action="store_true",
        help="Route on confidence only (ignore multi-country mentions).",
    )
    ap.add_argument(
        "--multi-min-score",
        type=float,
        default=0.5,
        help="Mentions count towards 'several countries' from this score on.",
    )
    ap.add_argument("--json", type=Path, default=None, help="Also write the rows as JSON.")
    args = ap.parse_args()
    dev = args.shared / "data" / "dev"
    if not dev.is_dir():
        sys.exit(f"no dev sets in {dev}")
    with tempfile.TemporaryDirectory() as tmp:
        wh = args.warehouse or Path(tmp) / "hybrid.duckdb"
        off = offline_predictions(wh, dev, args.multi_min_score)
    df = dev_rows(dev, args.llm_column).join(off, on="caption_id", how="inner")
    dropped = df.filter(~pl.col("gold_known")).height
    df = df.filter(pl.col("gold_known"))
    if args.split == "heldout":
        df = df.filter(pl.col("train") == 0)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    rows = simulate(df, thresholds, multi=not args.no_multi_country, budgets=budgets)
    print(
        f"split: {args.split}; {df.height} captions; LLM answers: {args.llm_column};"
        f" {dropped} rows with an unrecognized gold "
        f"label left out; routing: confidence < threshold"
        + (
            ""
            if args.no_multi_country
            else f" or mentions scored >= {args.multi_min_score} in several countries"
        )
        + "; threshold 0 = offline only unless multi-country, 1.01 = everything to the LLM"
    )
    with pl.Config(tbl_rows=200, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(pl.DataFrame(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
