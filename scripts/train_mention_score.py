"""Train the mention model: P(a stored mention is a toponym) for geo_mentions.toponym_score.

    PYTHONPATH=. .venv/bin/python scripts/train_mention_score.py --warehouse W \
        [--shared ../shared] [--no-write]

Parses the GeoVirus articles (`../shared/data/toponyms/`, never copied into the repo) with the
geoparser as it stands, one article at a time, and labels each stored mention 1 when it
overlaps a gold toponym span. Fits a logistic regression over MENTION_FEATURES
(udfs/gazetteer/features.py; the m_* columns of g_out, sql/geoparse/50_places.sql) and reports
5-fold cross-validation grouped by article (no article in both a fold's training and test
rows): ECE of the raw candidate score and of the model, and mention precision / gold recall at
a few thresholds, out of fold. Refits on every article and writes
udfs/gazetteer/mention_model.json (unless --no-write). Deterministic: fixed folds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geosql  # noqa: E402
from geosql.eval.calibration import reliability  # noqa: E402
from geosql.eval.toponyms import load_docs, load_gold_spans  # noqa: E402
from udfs.gazetteer import Engine, load_gazetteer  # noqa: E402
from udfs.gazetteer.features import MENTION_FEATURES  # noqa: E402
from udfs.gazetteer.model import MENTION_MODEL_FILE, write_side_model  # noqa: E402

THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
C = 1.0


def collect(engine: Engine, texts: list[str], spans: dict[int, list[tuple[int, int]]]):
    """(X, y, raw score, doc, mention span) per stored mention, and the gold spans per doc."""
    cols = ", ".join(f"m_{f}" for f in MENTION_FEATURES)
    X, y, raw, doc, pos = [], [], [], [], []
    for d, text in enumerate(texts):
        engine.parse([text])
        rows = engine.db.sql(
            f"SELECT start_pos, end_pos, score, {cols} FROM g_out ORDER BY mid"
        ).fetchall()
        for s, e, score, *x in rows:
            X.append(x)
            y.append(any(s < ge and e > gs for gs, ge in spans.get(d, ())))
            raw.append(score)
            doc.append(d)
            pos.append((s, e))
    return np.array(X, float), np.array(y, bool), np.array(raw, float), np.array(doc), pos


def recall_at(scores, doc, pos, spans, t: float) -> float:
    """Gold toponyms with an overlapping mention scored >= t / all gold toponyms."""
    by_doc: dict[int, list[tuple[int, int, float]]] = {}
    for (s, e), d, p in zip(pos, doc, scores, strict=True):
        by_doc.setdefault(int(d), []).append((s, e, p))
    n = hit = 0
    for d, gold in spans.items():
        for gs, ge in gold:
            n += 1
            hit += any(s < ge and e > gs and p >= t for s, e, p in by_doc.get(d, ()))
    return hit / n


def report(name: str, scores, y, doc, pos, spans) -> dict:
    rel = reliability(list(scores), list(y), 10)
    out = {"ece": rel["ece"], "at": []}
    print(f"{name}: ECE {rel['ece']:.3f}")
    for t in THRESHOLDS:
        kept = scores >= t
        prec = float(y[kept].mean()) if kept.any() else float("nan")
        rec = recall_at(scores, doc, pos, spans, t)
        out["at"].append({"threshold": t, "precision": round(prec, 4), "recall": round(rec, 4)})
        print(f"  >= {t}: {int(kept.sum())} mentions, precision {prec:.3f}, recall {rec:.3f}")
    return out


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warehouse", required=True, help="a warehouse with reference data")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    top = a.shared / "data" / "toponyms"
    ids, texts = load_docs(top / "geovirus_docs.csv")
    gold = load_gold_spans(top / "geovirus_gold.csv", set(ids))
    index = {i: k for k, i in enumerate(ids)}
    spans: dict[int, list[tuple[int, int]]] = {}
    for i, s, e in zip(gold["id"].to_pylist(), gold["start"].to_pylist(),
                       gold["end"].to_pylist(), strict=True):  # fmt: skip
        spans.setdefault(index[i], []).append((s, e))
    with geosql.connect(a.warehouse, read_only=True) as con:
        engine = Engine(load_gazetteer(con), mention_model={})
    X, y, raw, doc, pos = collect(engine, texts, spans)
    print(f"{len(texts)} articles, {len(y)} mentions, {y.mean():.3f} of them gold toponyms")
    base = report("raw candidate score", raw, y, doc, pos, spans)
    oof = np.zeros(len(y))
    for tr, te in GroupKFold(n_splits=5).split(X, y, doc):
        m = LogisticRegression(C=C, max_iter=2000).fit(X[tr], y[tr])
        oof[te] = m.predict_proba(X[te])[:, 1]
    cv = report("mention model, 5-fold CV grouped by article", oof, y, doc, pos, spans)
    m = LogisticRegression(C=C, max_iter=2000).fit(X, y)
    for f, c in zip(MENTION_FEATURES, m.coef_[0], strict=True):
        print(f"  {f:12s} {c:+.3f}")
    if a.no_write:
        return
    write_side_model(
        MENTION_MODEL_FILE, MENTION_FEATURES, m, C,
        trained_on=f"GeoVirus: {len(texts)} articles, {len(y)} mentions",
        cv_grouped_by_article={"raw_score": base, "model": cv},
    )  # fmt: skip
    print(f"wrote {MENTION_MODEL_FILE}")


if __name__ == "__main__":
    main()
