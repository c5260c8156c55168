"""`geosql eval --gold FILE`: score a geoparsing method's caption countries against gold labels.

Gold values are country names in any common spelling, or 'no' for no place. The file becomes
the dataset `eval:<name>` of the user's warehouse (see `geosql.eval.common`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from geosql.countries import country_names, is_no_place, normalize_country
from geosql.errors import GeosqlError
from geosql.eval.calibration import reliability
from geosql.eval.common import eval_dataset, read_table, replace_captions, run_method


def load_gold(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    text_col: str,
    gold_col: str,
    dataset: str,
) -> dict[str, Any]:
    """Make `dataset` the file's rows (captions + gold_countries); returns counts. Rows whose
    gold label is not a country nor 'no place' are skipped and counted."""
    rows = read_table(path, (text_col, gold_col), f"a gold file with {text_col!r} and {gold_col!r}")
    texts = rows[text_col].to_pylist()
    golds = rows[gold_col].to_pylist()
    ids, keep_texts, gold, unknown = [], [], [], []
    for i, (text, g) in enumerate(zip(texts, golds, strict=True)):
        code = None if is_no_place(g) else normalize_country(g)
        if code is None and not is_no_place(g):
            unknown.append(str(g))
            continue
        ids.append(str(i))
        keep_texts.append(text)
        gold.append((code, g))
    replace_captions(con, dataset, ids, keep_texts, str(path), gold)
    return {
        "rows": len(texts),
        "loaded": len(ids),
        "unknown_gold": len(unknown),
        "unknown_examples": sorted(set(unknown))[:5],
    }


def _pairs(
    con: duckdb.DuckDBPyConnection, dataset: str, method: str, config_key: str | None
) -> list[tuple]:
    """(caption_id, text, gold, predicted, confidence) per gold row of the dataset that the
    method's run (config_key) predicted."""
    q = (
        "SELECT c.caption_id, c.text, g.country_code, p.country_code, p.confidence"
        " FROM captions c JOIN gold_countries g ON g.caption_id = c.caption_id"
        " JOIN geo_predictions p ON p.caption_id = c.caption_id AND p.method = ?"
        " WHERE c.dataset = ?"
    )
    params: list[Any] = [method, dataset]
    if config_key is not None:
        q += " AND p.config_key = ?"
        params.append(config_key)
    return con.execute(q + " ORDER BY c.caption_id", params).fetchall()


def distribution_distance(pairs: list[tuple[str | None, str | None]]) -> float | None:
    """Total variation distance between the predicted and the gold country distributions,
    each over its own captions with a country (what `country_distribution` shows): half the
    sum over countries of |predicted share - gold share|. None when either side has none."""
    gold = [g for g, _ in pairs if g is not None]
    pred = [p for _, p in pairs if p is not None]
    if not gold or not pred:
        return None
    share: dict[str, list[float]] = {}
    for side, codes in enumerate((gold, pred)):
        for c in codes:
            share.setdefault(c, [0.0, 0.0])[side] += 1 / len(codes)
    return round(sum(abs(g - p) for g, p in share.values()) / 2, 4)


def metrics_from_pairs(pairs: list[tuple[str | None, str | None]], top: int = 10) -> dict:
    """n, accuracy, located accuracy, false-positive rate, the distance between the predicted
    and gold country distributions, per-country P/R, top confusions from (gold, predicted)
    country codes (None = no place)."""
    n = len(pairs)
    if not n:
        raise GeosqlError("no predictions for the gold rows")
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
    for c, d in sorted(per.items(), key=lambda kv: (-(kv[1]["tp"] + kv[1]["fn"]), kv[0])):
        support = d["tp"] + d["fn"]
        predicted = d["tp"] + d["fp"]
        per_country.append(
            {
                "country": names.get(c, c),
                "code": c,
                "support": support,
                "precision": round(d["tp"] / predicted, 4) if predicted else None,
                "recall": round(d["tp"] / support, 4) if support else None,
            }
        )
    conf: dict[tuple[str, str], int] = {}
    for g, p in pairs:
        if g != p:
            k = (names.get(g, g) if g else "no place", names.get(p, p) if p else "no place")
            conf[k] = conf.get(k, 0) + 1
    return {
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
        "n_predicted_located": sum(1 for _, p in pairs if p is not None),
        "distribution_distance": distribution_distance(pairs),
        "per_country": per_country,
        "confusions": [
            {"gold": g, "predicted": p, "n": c}
            for (g, p), c in sorted(conf.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        ],
    }


def metrics(
    con: duckdb.DuckDBPyConnection,
    method: str,
    dataset: str,
    config_key: str | None = None,
    top: int = 10,
    bins: int = 10,
    misses: int = 0,
) -> dict[str, Any]:
    """Scores of `method` on the dataset's gold rows, with the confidence's reliability curve
    and up to `misses` wrong answers (caption, gold, predicted)."""
    rows = _pairs(con, dataset, method, config_key)
    if not rows:
        raise GeosqlError(f"no predictions of method {method!r} for the gold rows of {dataset!r}")
    out = {"method": method, "dataset": dataset, "config_key": config_key}
    out.update(metrics_from_pairs([(g, p) for _, _, g, p, _ in rows], top))
    out["calibration"] = reliability([r[4] for r in rows], [r[2] == r[3] for r in rows], bins)
    wrong = [r for r in rows if r[2] != r[3]]
    out["misses"] = [
        {"caption_id": cid, "text": text, "gold": g, "predicted": p, "confidence": c}
        for cid, text, g, p, c in wrong[:misses]
    ]
    return out


def evaluate_con(
    con: duckdb.DuckDBPyConnection,
    gold: Path,
    text_col: str = "text",
    gold_col: str = "gt",
    method: str = "offline",
    settings: dict[str, Any] | None = None,
    name: str | None = None,
    bins: int = 10,
    misses: int = 0,
) -> dict[str, Any]:
    """Load `gold` as dataset `eval:<name>` (default: the file's stem) of this warehouse, run
    the method over it and score it."""
    dataset = eval_dataset(name or Path(gold).stem)
    counts = load_gold(con, Path(gold), text_col, gold_col, dataset)
    summary = run_method(con, method, dataset, settings)
    method = (settings or {}).get("method", method)
    out = metrics(con, method, dataset, summary.config_key, bins=bins, misses=misses)
    out.update(
        {
            "file": str(gold),
            "rows_in_file": counts["rows"],
            "unknown_gold_labels": counts["unknown_gold"],
            "unknown_gold_examples": counts["unknown_examples"],
            "rows_run": summary.rows_done,
            "rows_failed": summary.rows_failed,
            "seconds": round(summary.seconds, 2),
        }
    )
    return out


def evaluate(
    warehouse: Path | str,
    gold: Path,
    text_col: str = "text",
    gold_col: str = "gt",
    method: str = "offline",
    settings: dict[str, Any] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """`evaluate_con` on the warehouse file (created, with the bundled reference data, when
    it is new)."""
    import geosql
    from geosql import refdata

    with geosql.connect(Path(warehouse)) as con:
        for _ in refdata.load_defaults(con, only_missing=True):
            pass
        return evaluate_con(con, gold, text_col, gold_col, method, settings, name)
