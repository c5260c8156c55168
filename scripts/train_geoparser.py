"""Train the offline geoparser's scoring models.

    .venv/bin/python scripts/train_geoparser.py [--warehouse W] [--shared ../shared]

Stage 1 scores each (mention, candidate country) with a logistic regression over the features
in udfs/gazetteer.py:FEATURES. Stage 2 decides whether the caption names a place at all, from
caption-level features (CAPTION_FEATURES) computed on out-of-fold stage-1 scores. Trained on the
`train == 1` rows of the two dev sets in ../shared/data/dev (never copied into the repo);
accuracy is reported on the `train == 0` rows. Writes udfs/geoparse_model.json.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", default="warehouse/geosql.duckdb")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--C", type=float, default=2.0)
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    with geosql.connect(args.warehouse) as con:
        from geosql import refdata

        for _ in refdata.load_defaults(con, only_missing=True):
            pass
        gaz = load_gazetteer(con)
    shared = Path(args.shared)
    train, val = load(shared, 1), load(shared, 0)
    zero = {"coef": [0.0] * len(FEATURES), "intercept": 0.0, "threshold": 0.5}
    gp0 = Geoparser(gaz, model=zero)
    cands = []
    for text, gold, _f in train:
        ments, rows, info = gp0.candidates(text)
        cands.append((ments, rows, info, gold))
    coef, b = fit_mentions(cands, range(len(cands)), args.C)

    # Stage 2 on out-of-fold stage-1 scores (fixed folds by position).
    F, Y = [], []
    for k in range(FOLDS):
        fit_idx = [i for i in range(len(cands)) if i % FOLDS != k]
        ck, bk = fit_mentions(cands, fit_idx, args.C)
        for i in range(k, len(cands), FOLDS):
            r = caption_rows(cands[i], ck, bk)
            gold = cands[i][3]
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
        gp = Geoparser(gaz, model={**model, "threshold": float(t)})
        acc = accuracy(gp, train)
        score = sum(acc.values()) / len(acc)
        if score > best[0] + 1e-9:
            best = (score, float(round(t, 3)))
    model["threshold"] = best[1]
    gp = Geoparser(gaz, model=model)
    tr, va = accuracy(gp, train), accuracy(gp, val)
    model.update(
        {
            "trained_on": "train==1 rows of laion_self_dev.csv and marginalized_dev.csv",
            "C": args.C,
            "train_accuracy": tr,
            "validation_accuracy": va,
        }
    )
    out = ROOT / "udfs" / "geoparse_model.json"
    out.write_text(json.dumps(model, indent=1) + "\n")
    for name, c in sorted(zip(FEATURES, coef, strict=True), key=lambda t: -abs(t[1]))[:10]:
        print(f"  {name:26s} {c:+.3f}")
    for name, c in zip(CAPTION_FEATURES, model["caption_coef"], strict=True):
        print(f"  caption:{name:18s} {c:+.3f}")
    print(f"threshold {best[1]}  train {tr}  validation {va}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
