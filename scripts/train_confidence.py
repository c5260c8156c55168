"""Train the confidence model: P(the caption's answer is right), the confidence the hybrid
routes on.

    PYTHONPATH=. .venv/bin/python scripts/train_confidence.py --warehouse W \
        [--shared ../shared] [--no-write]

The second stage's confidence says how sure the parser is that a caption names a place, not
that its country is right, so a wrong country can score 0.99. This script cross-fits the
geoparser (scripts/train_geoparser.py's `fit`, 5 fixed folds: every row is decided by a model
fitted without it), reads each decision's inputs (the c_* columns of g_decided,
CONFIDENCE_FEATURES) and whether the answer was right, and fits a logistic regression on them.

Honest estimate, as the hybrid would run: the calibrator is fitted on the cross-fitted
`train == 1` rows; the `train == 0` rows are decided by the geoparser fitted on `train == 1`
and routed to the LLM when the confidence is below a threshold; the dev sets' recorded Gemini
answers stand in for the LLM. Reports, per threshold, the share sent and the hybrid's accuracy
with pro and with flash answers (and with pro answers the distance between its country
distribution and the gold's, `tvd:`), against routing on the second stage's confidence. Then refits
on the cross-fitted rows of both halves and writes udfs/gazetteer/confidence_model.json (unless
--no-write). Deterministic: fixed folds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import train_geoparser as tg  # noqa: E402

import geosql  # noqa: E402
from geosql.eval.calibration import reliability  # noqa: E402
from geosql.eval.countries import distribution_distance  # noqa: E402
from udfs.gazetteer import Engine, load_gazetteer  # noqa: E402
from udfs.gazetteer.features import CONFIDENCE_FEATURES  # noqa: E402
from udfs.gazetteer.model import CONFIDENCE_MODEL_FILE, write_side_model  # noqa: E402
from udfs.gemini.prompts import budget_threshold  # noqa: E402

C_GEO = 2.0  # train_geoparser's default C
C = 1.0
THRESHOLDS = (0.5, 0.6, 0.7, 0.72, 0.75, 0.76, 0.77, 0.78, 0.8, 0.85, 0.9)
BUDGETS = (0.1, 0.15, 0.2)  # hybrid-geoparse --set budget=B: each dataset's own threshold


def llm_answers(shared: Path, split: int) -> list[tuple[str | None, str | None]]:
    """(pro, flash) per row of `tg.load(shared, split)`, in its order."""
    return [
        (tg.country(row["gemini-pro"]), tg.country(row["gemini-flash"]))
        for row, *_ in tg.labelled(shared, split)
    ]


def decisions(gaz, model: dict, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """X (c_* columns), y (answer right), the second stage's confidence, answers."""
    engine = Engine(gaz, model=model, confidence_model={})
    engine.features([t for t, _, _ in rows])
    engine.score()
    engine.decide()
    cols = ", ".join(f"c_{f}" for f in CONFIDENCE_FEATURES)
    got = engine.db.sql(
        f"SELECT country_code, raw_confidence, {cols} FROM g_decided ORDER BY r"
    ).fetchall()
    X = np.array([g[2:] for g in got], float)
    ans = [g[0] for g in got]
    y = np.array([a == r[1] for a, r in zip(ans, rows, strict=True)])
    return X, y, np.array([g[1] for g in got], float), ans


def cross_fitted(gaz, rows) -> tuple[np.ndarray, np.ndarray]:
    X = np.zeros((len(rows), len(CONFIDENCE_FEATURES)))
    y = np.zeros(len(rows), bool)
    for fold in range(tg.FOLDS):
        train = [r for i, r in enumerate(rows) if i % tg.FOLDS != fold]
        test = [i for i in range(len(rows)) if i % tg.FOLDS == fold]
        Xf, yf, _, _ = decisions(gaz, tg.fit(gaz, train, C_GEO), [rows[i] for i in test])
        X[test], y[test] = Xf, yf
    return X, y


def route_table(rows, ans, llm, conf: np.ndarray, name: str) -> list[dict]:
    out = []
    files = sorted({f for _, _, f in rows})
    per_file = {
        b: {
            f: budget_threshold(
                [(float(conf[i]), 1) for i, r in enumerate(rows) if r[2] == f], b, False
            )
            for f in files
        }
        for b in BUDGETS
    }
    for t in [*THRESHOLDS, *(("budget", b) for b in BUDGETS)]:
        if isinstance(t, tuple):  # routed like the stage with a budget: per dataset
            ts = per_file[t[1]]
            sent = np.array([conf[i] < ts[r[2]] for i, r in enumerate(rows)])
            label = f"budget {t[1]}"
        else:
            sent, label = conf < t, str(t)
        rec = {"routing": name, "threshold": label, "sent": round(float(sent.mean()), 4)}
        for k, col in (("pro", 0), ("flash", 1)):
            hyb = [lm[col] if s else a for s, a, lm in zip(sent, ans, llm, strict=True)]
            for f in files:
                idx = [i for i, r in enumerate(rows) if r[2] == f]
                acc = np.mean([hyb[i] == rows[i][1] for i in idx])
                rec[f"{k}:{f.split('_')[0]}"] = round(float(acc), 4)
                if k == "pro":  # what users read: the country distribution's distance to gold
                    pairs = [(rows[i][1], hyb[i]) for i in idx]
                    rec[f"tvd:{k}:{f.split('_')[0]}"] = distribution_distance(pairs)
        for f in files:
            idx = [i for i, r in enumerate(rows) if r[2] == f]
            rec[f"sent:{f.split('_')[0]}"] = round(float(sent[idx].mean()), 4)
        out.append(rec)
    return out


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warehouse", required=True, help="a warehouse with reference data")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    with geosql.connect(a.warehouse, read_only=True) as con:
        gaz = load_gazetteer(con)
    train, val = tg.load(a.shared, 1), tg.load(a.shared, 0)
    llm_val = llm_answers(a.shared, 0)
    Xt, yt = cross_fitted(gaz, train)
    cal = LogisticRegression(C=C, max_iter=5000).fit(Xt, yt)
    Xv, yv, raw, ans = decisions(gaz, tg.fit(gaz, train, C_GEO), val)
    pv = cal.predict_proba(Xv)[:, 1]
    pl.Config.set_tbl_cols(20)
    pl.Config.set_tbl_width_chars(200)
    print(f"held-out rows: {len(val)}; answers right {yv.mean():.4f}")
    for name, c in (("second stage", raw), ("confidence model", pv)):
        print(f"{name}: ECE of P(answer right) {reliability(list(c), list(yv), 10)['ece']:.3f}")
    table = route_table(val, ans, llm_val, raw, "second stage")
    table += route_table(val, ans, llm_val, pv, "confidence model")
    with pl.Config(tbl_rows=40):
        print(pl.DataFrame(table))
    Xv2, yv2 = cross_fitted(gaz, val)
    final = LogisticRegression(C=C, max_iter=5000).fit(np.vstack([Xt, Xv2]), np.r_[yt, yv2])
    for f, c in zip(CONFIDENCE_FEATURES, final.coef_[0], strict=True):
        print(f"  {f:18s} {c:+.3f}")
    if a.no_write:
        return
    write_side_model(
        CONFIDENCE_MODEL_FILE, CONFIDENCE_FEATURES, final, C,
        trained_on="cross-fitted decisions (5 folds) on all rows of laion_self_dev.csv"
        " and marginalized_dev.csv",
        heldout_routing=table,
    )  # fmt: skip
    print(f"wrote {CONFIDENCE_MODEL_FILE}")


if __name__ == "__main__":
    main()
