"""`geosql eval`: score a geoparsing method against a labelled CSV.

The file is loaded into a throwaway warehouse that borrows the reference tables and LLM cache
of the given one (or the bundled reference data), the method's stage runs there, and the
predictions are compared with the gold countries. Gold values are country names in any common spelling, or 'no' for no place.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click
import duckdb
import pyarrow as pa

from geosql.countries import country_names, is_no_place, normalize_country
from geosql.errors import GeosqlError


def stage_for_method(method: str) -> str:
    """The stage whose default `method` setting is `method` (offline -> geoparse, ...)."""
    from geosql.registry import registry

    registry.load()
    for st in registry.stages.values():
        if st.defaults.get("method") == method:
            return st.name
    known = sorted(
        {s.defaults["method"] for s in registry.stages.values() if "method" in s.defaults}
    )
    raise GeosqlError(f"no stage produces method {method!r}; known methods: {', '.join(known)}")


def load_gold(
    con: duckdb.DuckDBPyConnection, path: Path, text_col: str, gold_col: str, dataset: str = "eval"
) -> dict[str, int]:
    """Insert the file's rows as captions plus gold_countries; returns counts."""
    if not path.exists():
        raise GeosqlError(f"{path}: no such file")
    p = str(path).replace("'", "''")
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    opts = "" if reader == "read_parquet" else ", all_varchar=true, header=true"
    rel = con.sql(f"SELECT * FROM {reader}('{p}'{opts})")
    for col in (text_col, gold_col):
        if col not in rel.columns:
            raise GeosqlError(f"{path}: no column {col!r} (columns: {', '.join(rel.columns)})")
    rows = rel.select(
        duckdb.ColumnExpression(text_col), duckdb.ColumnExpression(gold_col)
    ).fetchall()
    ids, texts, codes, raws = [], [], [], []
    unknown: list[str] = []
    for i, (text, gold) in enumerate(rows):
        code = None if is_no_place(gold) else normalize_country(gold)
        if code is None and not is_no_place(gold):
            unknown.append(str(gold))
            continue
        ids.append(f"{dataset}:{i}")
        texts.append(text)
        codes.append(code)
        raws.append(gold)
    con.register("_gold", pa.table({"caption_id": ids, "text": texts, "code": codes, "raw": raws}))
    con.execute("DELETE FROM captions WHERE caption_id IN (SELECT caption_id FROM _gold)")
    con.execute(
        "INSERT INTO captions (caption_id, dataset, text, source_file)"
        f" SELECT caption_id, '{dataset}', text, '{p}' FROM _gold"
    )
    con.execute("INSERT OR REPLACE INTO gold_countries SELECT caption_id, code, raw FROM _gold")
    con.unregister("_gold")
    return {
        "rows": len(rows),
        "loaded": len(ids),
        "unknown_gold": len(unknown),
        "unknown_examples": sorted(set(unknown))[:5],
    }


def metrics(con: duckdb.DuckDBPyConnection, method: str, top: int = 10) -> dict[str, Any]:
    """n, accuracy, located accuracy, false-positive rate, per-country P/R, top confusions."""
    pairs = con.execute(
        "SELECT g.country_code AS gold, p.country_code AS pred FROM gold_countries g"
        " JOIN geo_predictions p ON p.caption_id = g.caption_id AND p.method = ?",
        [method],
    ).fetchall()
    n = len(pairs)
    if not n:
        raise GeosqlError(f"no predictions of method {method!r} for the gold rows")
    correct = sum(1 for g, p in pairs if g == p)
    located = [(g, p) for g, p in pairs if g is not None]
    unlocated = [(g, p) for g, p in pairs if g is None]
    per: dict[str, dict[str, int]] = {}
    for g, p in pairs:
        for c in {g, p} - {None}:
            per.setdefault(c, {"tp": 0, "fp": 0, "fn": 0})
        if g is not None and g == p:
            per[g]["tp"] += 1
        else:
            if p is not None:
                per[p]["fp"] += 1
            if g is not None:
                per[g]["fn"] += 1
    names = country_names()
    per_country = []
    for c, d in sorted(per.items(), key=lambda kv: -(kv[1]["tp"] + kv[1]["fn"])):
        support = d["tp"] + d["fn"]
        per_country.append(
            {
                "country": names.get(c, c),
                "code": c,
                "support": support,
                "precision": round(d["tp"] / (d["tp"] + d["fp"]), 4) if d["tp"] + d["fp"] else None,
                "recall": round(d["tp"] / support, 4) if support else None,
            }
        )
    conf: dict[tuple[str, str], int] = {}
    for g, p in pairs:
        if g != p:
            k = (names.get(g, g) if g else "no place", names.get(p, p) if p else "no place")
            conf[k] = conf.get(k, 0) + 1
    return {
        "method": method,
        "n": n,
        "accuracy": round(correct / n, 4),
        "located_accuracy": round(sum(1 for g, p in located if g == p) / len(located), 4)
        if located
        else None,
        "false_positive_rate": round(
            sum(1 for _, p in unlocated if p is not None) / len(unlocated), 4
        )
        if unlocated
        else None,
        "n_located": len(located),
        "n_no_place": len(unlocated),
        "per_country": per_country,
        "confusions": [
            {"gold": g, "predicted": p, "n": c}
            for (g, p), c in sorted(conf.items(), key=lambda kv: -kv[1])[:top]
        ],
    }


# What an evaluation needs from the user's warehouse: reference data, and the LLM answer cache
# (so evaluating the gemini method never pays twice). Captions and stage tables stay behind.
BORROWED_TABLES = (
    "continents",
    "countries",
    "country_aliases",
    "admin1",
    "places",
    "place_names",
    "gdp",
    "settings",
    "llm_calls",
    "llm_prices",
)


def _borrow_reference(con: duckdb.DuckDBPyConnection, source: Path, models: Path) -> None:
    """Copy the reference tables of `source` into the throwaway warehouse; link its indexes."""
    con.execute(f"ATTACH '{str(source).replace(chr(39), chr(39) * 2)}' AS src (READ_ONLY)")
    try:
        have = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'"
            ).fetchall()
        }
        for t in BORROWED_TABLES:
            if t in have:
                con.execute(f"DELETE FROM {t}")
                con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM src.{t}")
    finally:
        con.execute("DETACH src")
    src_models = source.parent / f"{source.stem}.models"
    if src_models.is_dir():
        for f in src_models.iterdir():
            if f.is_file():
                (models / f.name).symlink_to(f.resolve())


def evaluate(
    source_warehouse: Path | None,
    gold: Path,
    text_col: str,
    gold_col: str,
    method: str,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a throwaway warehouse (reference data borrowed from `source_warehouse` when it
    exists), load the gold file, run the method, score it."""
    import geosql
    from geosql import refdata
    from geosql.paths import models_dir
    from geosql.runner import run_stage

    stage = stage_for_method(method)
    with tempfile.TemporaryDirectory(prefix="geosql-eval-") as tmp:
        wh = Path(tmp) / "eval.duckdb"
        with geosql.connect(wh) as con:
            if source_warehouse is not None and Path(source_warehouse).exists():
                _borrow_reference(con, Path(source_warehouse), models_dir(wh))
            for _ in refdata.load_defaults(con, only_missing=True):
                pass
            con.execute("DELETE FROM gold_countries")
            counts = load_gold(con, gold, text_col, gold_col)
            summary = run_stage(
                con,
                stage,
                config=settings,
                where="i.caption_id IN (SELECT caption_id FROM gold_countries)",
            )
            out = metrics(con, method)
        out.update(
            {
                "file": str(gold),
                "rows_in_file": counts["rows"],
                "unknown_gold_labels": counts["unknown_gold"],
                "unknown_gold_examples": counts["unknown_examples"],
                "seconds": round(summary.seconds, 2),
            }
        )
        return out


@click.command("eval")
@click.option(
    "--gold",
    "gold",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet with a text column and a gold country column.",
)
@click.option("--text-col", default="text", show_default=True)
@click.option("--gold-col", default="gt", show_default=True)
@click.option(
    "--method",
    default="offline",
    show_default=True,
    help="Geoparsing method to score (offline, gemini, hybrid...).",
)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Stage setting.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_cmd(ctx, gold, text_col, gold_col, method, settings, as_json) -> None:
    """Score a geoparsing method against labelled captions (n, accuracy, FPR, P/R, confusions)."""
    wh = ctx.find_root().obj["warehouse"]
    cfg = dict(s.split("=", 1) for s in settings if "=" in s)
    res = evaluate(Path(wh), gold, text_col, gold_col, method, cfg)
    if as_json:
        click.echo(json.dumps(res))
        return
    click.echo(
        f"{res['file']}: method {method}, n={res['n']} "
        f"({res['n_located']} with a country, {res['n_no_place']} no place)"
    )
    click.echo(f"  accuracy            {res['accuracy']:.4f}")
    if res["located_accuracy"] is not None:
        click.echo(f"  located accuracy    {res['located_accuracy']:.4f}")
    if res["false_positive_rate"] is not None:
        click.echo(f"  false-positive rate {res['false_positive_rate']:.4f}")
    if res["unknown_gold_labels"]:
        click.echo(
            f"  skipped {res['unknown_gold_labels']} rows with unrecognised gold labels "
            f"(e.g. {', '.join(res['unknown_gold_examples'])})"
        )
    click.echo("  per country (top 15 by support):")
    for r in res["per_country"][:15]:
        p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        rc = "-" if r["recall"] is None else f"{r['recall']:.2f}"
        click.echo(f"    {r['country']:<28} n={r['support']:<5} P={p:<5} R={rc}")
    click.echo("  most frequent confusions (gold -> predicted):")
    for c in res["confusions"]:
        click.echo(f"    {c['gold']} -> {c['predicted']}: {c['n']}")
