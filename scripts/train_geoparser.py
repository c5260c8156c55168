"""Train the offline geoparser's scoring models.

    .venv/bin/python scripts/train_geoparser.py [--warehouse W] [--shared ../shared]

Stage 1 scores each (mention, candidate country) with a logistic regression over the features
in udfs/gazetteer.py:FEATURES. Stage 2 decides whether the caption names a place at all, from
caption-level features (CAPTION_FEATURES) computed on out-of-fold stage-1 scores. Uses the two
dev sets in ../shared/data/dev (never copied into the repo): first fits on the `train == 1` rows
and reports accuracy on the `train == 0` rows (the held-out estimate), then refits the shipped
model on all rows (unless --train-half-only). Writes udfs/geoparse_model.json.
Deterministic: fixed folds and seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geosql  # noqa: E402
from geosql.countries import is_no_place, normalize_country  # noqa: E402
from udfs.gazetteer import (  # noqa: E402
    CAPTION_FEATURES,
    FEATURES,
    Geoparser,
    caption_features,
    load_gazetteer,
)

SETS = [
    ("laion_self_dev.csv", "text", "gt"),
    ("marginalized_dev.csv", "Text", "Country name EN"),
]
FOLDS = 5


def load(shared: Path, split: int) -> list[tuple[str, str | None, str]]:
    out = []
    for f, tc, gc in SETS:
        df = pl.read_csv(shared / "data" / "dev" / f).filter(pl.col("train") == split)
        for row in df.iter_rows(named=True):
            g = row[gc]
            gold = None if is_no_place(g) else normalize_country(g)
            if gold is None and not is_no_place(g):
                continue  # unparseable gold label
            out.append((row[tc], gold, f))
    return out


def accuracy(gp: Geoparser, rows) -> dict[str, float]:
    res: dict[str, list[int]] = {}
    for text, gold, f in rows:
        res.setdefault(f, []).append(int(gp.parse(text).country_code == gold))
    return {f: round(sum(v) / len(v), 4) for f, v in res.items()}


def fit_mentions(cands, idx, C: float) -> tuple[list[float], float]:
    """Stage 1 on the captions in idx: (coef, intercept)."""
    from sklearn.linear_model import LogisticRegression

    X, y, w = [], [], []
    for i in idx:
        _, rows, _, gold = cands[i]
        for _m, cc, x in rows:
            X.append(x)
            y.append(int(cc == gold))
            w.append(1.0 / max(len(rows), 1) ** 0.5)  # long captions don't dominate
    clf = LogisticRegression(C=C, max_iter=5000, random_state=0)
    clf.fit(np.array(X), np.array(y), sample_weight=np.array(w))
    return [round(float(c), 5) for c in clf.coef_[0]], round(float(clf.intercept_[0]), 5)


def caption_rows(cand, coef, b):
    """(caption features, top country) from stage-1 scores, or None without candidates."""
    _, rows, info, _ = cand
    prob, xtop = {}, {}
    for _m, cc, x in rows:
        p = 1 / (1 + math.exp(-(b + sum(c * v for c, v in zip(coef, x, strict=True)))))
        if p > prob.get(cc, -1):
            prob[cc], xtop[cc] = p, x
    if not prob:
        return None
    top = max(prob, key=prob.get)
    return caption_features(prob, xtop[top], info), top


def fit(gaz, rows, C: float) -> dict:
    """Stage 1 on every candidate, stage 2 on out-of-fold stage-1 scores, threshold by accuracy."""
    from sklearn.linear_model import LogisticRegression

    gp0 = Geoparser(gaz, model={"coef": [0.0] * len(FEATURES), "intercept": 0.0, "threshold": 0.5})
    cands = []
    for text, gold, _f in rows:
        ments, cand_rows, info = gp0.candidates(text)
        cands.append((ments, cand_rows, info, gold))
    coef, b = fit_mentions(cands, range(len(cands)), C)
    # Stage 2 on out-of-fold stage-1 scores (fixed folds by position).
    F, Y = [], []
    for k in range(FOLDS):
        ck, bk = fit_mentions(cands, [i for i in range(len(cands)) if i % FOLDS != k], C)
        for i in range(k, len(cands), FOLDS):
            r, gold = caption_rows(cands[i], ck, bk), cands[i][3]
            if r is None:
                continue
            f, top = r
            if gold is None or top == gold:  # answering helps iff top == gold
                F.append(f)
                Y.append(int(gold is not None))
    clf2 = LogisticRegression(C=1.0, max_iter=5000, random_state=0)
    clf2.fit(np.array(F), np.array(Y))
    model = {
        "features": FEATURES,
        "coef": coef,
        "intercept": b,
        "caption_features": CAPTION_FEATURES,
        "caption_coef": [round(float(c), 5) for c in clf2.coef_[0]],
        "caption_intercept": round(float(clf2.intercept_[0]), 5),
        "threshold": 0.5,
    }
    best = (0.0, 0.5)
    for t in np.arange(0.3, 0.71, 0.025):
        acc = accuracy(Geoparser(gaz, model={**model, "threshold": float(t)}), rows)
        score = sum(acc.values()) / len(acc)  # both kinds of text count equally
        if score > best[0] + 1e-9:
            best = (score, float(round(t, 3)))
    model["threshold"] = best[1]
    model["fit_accuracy"] = accuracy(Geoparser(gaz, model=model), rows)
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", default="warehouse/geosql.duckdb")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--C", type=float, default=2.0)
    ap.add_argument(
        "--train-half-only",
        action="store_true",
        help="ship the model fitted on train==1 rows instead of refitting on all rows",
    )
    args = ap.parse_args()
    with geosql.connect(args.warehouse) as con:
        from geosql import refdata

        for _ in refdata.load_defaults(con, only_missing=True):
            pass
        gaz = load_gazetteer(con)
    shared = Path(args.shared)
    train, val = load(shared, 1), load(shared, 0)
    # Held-out estimate: fit on the train half, score the other half.
    model = fit(gaz, train, args.C)
    estimate = accuracy(Geoparser(gaz, model=model), val)
    print(f"fitted on train==1 rows: threshold {model['threshold']}, held-out accuracy {estimate}")
    if not args.train_half_only:  # the shipped model learns from every labelled row
        model = fit(gaz, train + val, args.C)
    model.update(
        {
            "trained_on": ("train==1 rows" if args.train_half_only else "all rows")
            + " of laion_self_dev.csv and marginalized_dev.csv",
            "C": args.C,
            "heldout_accuracy_of_train_half_fit": estimate,
        }
    )
    out = ROOT / "udfs" / "geoparse_model.json"
    out.write_text(json.dumps(model, indent=1) + "\n")
    for name, c in sorted(zip(FEATURES, model["coef"], strict=True), key=lambda t: -abs(t[1]))[:10]:
        print(f"  {name:26s} {c:+.3f}")
    for name, c in zip(CAPTION_FEATURES, model["caption_coef"], strict=True):
        print(f"  caption:{name:18s} {c:+.3f}")
    print(f"wrote {out} (threshold {model['threshold']}, fit accuracy {model['fit_accuracy']})")


if __name__ == "__main__":
    main()
