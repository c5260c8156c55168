"""`geosql eval toponyms`: score the geoparser's mentions against gold toponym spans.

docs: id,text; gold: id,start,end,lat,lon (0-based character offsets, end exclusive). The docs
become the dataset `eval:<name>` of the user's warehouse; the method's stage runs there and its
`geo_mentions` are joined to the gold spans (a mention overlapping a span finds it; of several,
the highest score wins). Figures follow Gritta et al., "A Pragmatic Guide to Geoparsing
Evaluation" (2019): Acc@161km, mean/median error, and the AUC of the log error curve, with a
toponym not found (or found without coordinates) counted at the maximum error, 20,039 km.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from geosql.errors import GeosqlError
from geosql.eval.calibration import reliability
from geosql.eval.common import eval_dataset, read_table, replace_captions, run_method

MAX_ERROR_KM = 20_039.0  # half the Earth's circumference: the error of a toponym not resolved
ACC_KM = 161.0  # 100 miles
THRESHOLDS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)


def load_docs(path: Path) -> tuple[list[str], list[str | None]]:
    """(ids, texts) of a docs CSV/Parquet with columns id, text."""
    t = read_table(path, ("id", "text"), "docs with columns id,text")
    ids = [str(i) if i is not None else "" for i in t["id"].to_pylist()]
    for line, i in enumerate(ids, start=2):
        if not i.strip():
            raise GeosqlError(f"{path}: line {line}, column 'id': empty id; give every doc an id")
    return ids, t["text"].to_pylist()


def load_gold_spans(path: Path, doc_ids: set[str]) -> pa.Table:
    """Gold spans (id, start, end, lat, lon) checked: integers, start < end, coordinates in
    range, ids present in the docs."""
    t = read_table(path, ("id", "start", "end", "lat", "lon"), "gold with id,start,end,lat,lon")
    cols: dict[str, list] = {k: [] for k in ("id", "start", "end", "lat", "lon")}
    for line, row in enumerate(t.select(list(cols)).to_pylist(), start=2):
        for k, conv in (("start", int), ("end", int), ("lat", float), ("lon", float)):
            try:
                row[k] = conv(str(row[k]).strip())
            except (TypeError, ValueError):
                raise GeosqlError(
                    f"{path}: line {line}, column {k!r}: {row[k]!r} is not a"
                    f" {'whole number' if conv is int else 'number'}; fix or drop the row"
                ) from None
        if not 0 <= row["start"] < row["end"]:
            raise GeosqlError(
                f"{path}: line {line}, columns 'start','end': need 0 <= start < end"
                f" (0-based, end exclusive), got {row['start']},{row['end']}"
            )
        if not (-90 <= row["lat"] <= 90 and -180 <= row["lon"] <= 180):
            raise GeosqlError(f"{path}: line {line}, columns 'lat','lon': out of range")
        if row["id"] not in doc_ids:
            raise GeosqlError(f"{path}: line {line}, column 'id': {row['id']!r} is not in the docs")
        for k in cols:
            cols[k].append(row[k])
    return pa.table(cols)


# One row per gold toponym: the best overlapping mention of the run, its error, and the
# nearest populated place's country as the gold country (places within a 1 degree box).
_GOLD_SQL = """
WITH g AS (SELECT row_number() OVER () AS gid_, * FROM _topo_gold),
m AS (
    SELECT row_number() OVER () AS mid_, caption_id, start_pos, end_pos, lat, lon,
           country_code, score, coalesce(toponym_score, score) AS tscore
    FROM geo_mentions
    WHERE method = $method AND ($config_key IS NULL OR config_key = $config_key)
      AND caption_id IN (SELECT caption_id FROM captions WHERE dataset = $dataset)
),
pairs AS (
    SELECT g.gid_, m.*, least(g.end_, m.end_pos) - greatest(g.start_, m.start_pos) AS overlap
    FROM g JOIN m ON m.caption_id = g.caption_id
     AND m.start_pos < g.end_ AND m.end_pos > g.start_
),
best AS (
    SELECT * FROM pairs
    QUALIFY row_number() OVER (PARTITION BY gid_ ORDER BY score DESC NULLS LAST,
                                  overlap DESC, mid_) = 1
),
gc AS (
    SELECT g.gid_, arg_min(p.country_code, haversine_km(g.lat, g.lon, p.lat, p.lon)) AS cc
    FROM g JOIN places p
      ON p.lat BETWEEN g.lat - 1 AND g.lat + 1 AND p.lon BETWEEN g.lon - 1 AND g.lon + 1
    GROUP BY g.gid_
)
SELECT g.gid_, b.mid_ IS NOT NULL AS found, b.lat IS NOT NULL AS has_coords,
       CASE WHEN b.lat IS NOT NULL THEN haversine_km(g.lat, g.lon, b.lat, b.lon) END AS err_km,
       gc.cc AS gold_cc, b.country_code AS pred_cc,
       (SELECT max(tscore) FROM pairs p WHERE p.gid_ = g.gid_) AS best_score
FROM g LEFT JOIN best b USING (gid_) LEFT JOIN gc USING (gid_)
ORDER BY g.gid_
"""

# One row per stored mention: its toponym score (the candidate score where a method gives
# none) and whether it overlaps a gold span; then whether any toponym score was given.
_MENTION_SQL = """
SELECT coalesce(m.toponym_score, m.score), m.toponym_score IS NOT NULL,
       EXISTS (SELECT 1 FROM _topo_gold g WHERE g.caption_id = m.caption_id
               AND m.start_pos < g.end_ AND m.end_pos > g.start_) AS gold
FROM geo_mentions m
WHERE m.method = $method AND ($config_key IS NULL OR m.config_key = $config_key)
  AND m.caption_id IN (SELECT caption_id FROM captions WHERE dataset = $dataset)
"""


def log_error_auc(errors_km: list[float], max_km: float = MAX_ERROR_KM) -> float | None:
    """Area under the sorted log(1 + error) curve, scaled to [0, 1] (0 = every toponym exact):
    Gritta et al.'s AUC, trapezoids over the sorted errors divided by (n - 1) * log(max)."""
    if not errors_km:
        return None
    y = sorted(math.log1p(min(max(e, 0.0), max_km)) for e in errors_km)
    if len(y) == 1:
        return round(y[0] / math.log1p(max_km), 4)
    area = sum((a + b) / 2 for a, b in zip(y, y[1:], strict=False))
    return round(area / ((len(y) - 1) * math.log1p(max_km)), 4)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def toponym_metrics(
    con: duckdb.DuckDBPyConnection,
    gold: pa.Table,
    dataset: str,
    method: str,
    config_key: str | None = None,
    thresholds: tuple[float, ...] = THRESHOLDS,
    bins: int = 10,
) -> dict[str, Any]:
    """Detection and resolution figures of the method's mentions in `dataset` against `gold`
    (caption_id, start_, end_, lat, lon)."""
    con.register("_topo_gold", gold)
    params = {"method": method, "config_key": config_key, "dataset": dataset}
    try:
        rows = con.execute(_GOLD_SQL, params).fetchall()
        ments = con.execute(_MENTION_SQL, params).fetchall()
    finally:
        con.unregister("_topo_gold")
    n = len(rows)
    if not n:
        raise GeosqlError("no gold toponyms to score")
    found = [r for r in rows if r[1]]
    with_coords = [r[3] for r in found if r[3] is not None]
    all_err = [r[3] if r[3] is not None else MAX_ERROR_KM for r in rows]
    within = sum(1 for e in with_coords if e <= ACC_KM)
    scored_by = "toponym_score" if any(t for _, t, _ in ments) else "score"
    ments = [(s, g) for s, _, g in ments]
    n_m = len(ments)
    m_gold = sum(1 for _, g in ments if g)
    precision, recall = _ratio(m_gold, n_m), _ratio(len(found), n)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else None
    # (a continent's mention names no country: left out, like gold points far from any town)
    with_cc = [r for r in found if r[4] is not None and r[5] is not None]
    at = []
    for t in thresholds:
        kept = [g for s, g in ments if (s if s is not None else 0.0) >= t]
        hit = sum(1 for r in rows if r[6] is not None and r[6] >= t)
        at.append(
            {
                "threshold": t,
                "mentions": len(kept),
                "precision": _ratio(sum(kept), len(kept)),
                "recall": _ratio(hit, n),
            }
        )
    srt = sorted(with_coords)
    median = None
    if srt:
        mid = len(srt) // 2
        median = srt[mid] if len(srt) % 2 else (srt[mid - 1] + srt[mid]) / 2
    return {
        "method": method,
        "dataset": dataset,
        "config_key": config_key,
        "gold_toponyms": n,
        "mentions": n_m,
        "found": len(found),
        "found_without_coordinates": len(found) - len(with_coords),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "acc_161km": _ratio(within, n),
        "acc_161km_found": _ratio(within, len(found)),
        "country_accuracy_found": _ratio(sum(1 for r in with_cc if r[4] == r[5]), len(with_cc)),
        "median_error_km": round(median, 1) if median is not None else None,
        "mean_error_km": round(sum(srt) / len(srt), 1) if srt else None,
        "auc": log_error_auc(all_err),
        "mention_score": scored_by,  # what at_threshold and mention_calibration read
        "at_threshold": at,
        "mention_calibration": reliability([s for s, _ in ments], [g for _, g in ments], bins),
    }


def evaluate_toponyms(
    con: duckdb.DuckDBPyConnection,
    docs: Path,
    gold: Path,
    method: str = "offline",
    settings: dict[str, Any] | None = None,
    name: str | None = None,
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> dict[str, Any]:
    """Load the docs as dataset `eval:<name>` (default: the docs file's stem), run the method,
    score its mentions against the gold spans."""
    ids, texts = load_docs(Path(docs))
    spans = load_gold_spans(Path(gold), set(ids))
    dataset = eval_dataset(name or Path(docs).stem)
    replace_captions(con, dataset, ids, texts, str(docs))
    summary = run_method(con, method, dataset, settings)
    gold_t = pa.table(
        {
            "caption_id": [f"{dataset}:{i}" for i in spans["id"].to_pylist()],
            "start_": spans["start"],
            "end_": spans["end"],
            "lat": spans["lat"],
            "lon": spans["lon"],
        }
    )
    method = (settings or {}).get("method", method)
    out = toponym_metrics(con, gold_t, dataset, method, summary.config_key, thresholds)
    out.update(
        {
            "docs": str(docs),
            "gold": str(gold),
            "n_docs": len(ids),
            "rows_run": summary.rows_done,
            "rows_failed": summary.rows_failed,
            "seconds": round(summary.seconds, 2),
        }
    )
    return out
