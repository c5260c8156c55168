"""Train the offline geoparser's scoring model (logistic regression over candidate features).

    .venv/bin/python scripts/train_geoparser.py [--warehouse W] [--shared ../shared]

Uses the `train == 1` rows of the two dev sets in ../shared/data/dev (never copied into the
repo), reports accuracy on the `train == 0` rows, and writes udfs/geoparse_model.json (feature
names, coefficients, intercept, decision threshold). Deterministic: fixed seed, sorted inputs.
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
from udfs.gazetteer import FEATURES, Geoparser, load_gazetteer  # noqa: E402

SETS = [
    ("laion_self_dev.csv", "text", "gt"),
    ("marginalized_dev.csv", "Text", "Country name EN"),
]


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
    return {f: sum(v) / len(v) for f, v in res.items()}


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
    gp = Geoparser(gaz, weights=([0.0] * len(FEATURES), 0.0, 0.5))
    X, y, w = [], [], []
    for text, gold, _f in train:
        _, rows = gp.candidates(text)
        # Weight each caption equally, and the two kinds of text equally.
        for _m, cc, x in rows:
            X.append(x)
            y.append(int(cc == gold))
            w.append(1.0 / max(len(rows), 1) ** 0.5)
    X, y = np.array(X), np.array(y)
    clf = LogisticRegression(C=args.C, max_iter=5000, random_state=0)
    clf.fit(X, y, sample_weight=np.array(w))
    coef, b = [round(float(c), 5) for c in clf.coef_[0]], round(float(clf.intercept_[0]), 5)
    best = (0.0, 0.5)
    for t in np.arange(0.2, 0.81, 0.025):
        gp = Geoparser(gaz, weights=(coef, b, float(t)))
        acc = accuracy(gp, train)
        score = sum(acc.values()) / len(acc)
        if score > best[0] + 1e-9:
            best = (score, float(round(t, 3)))
    gp = Geoparser(gaz, weights=(coef, b, best[1]))
    tr, va = accuracy(gp, train), accuracy(gp, val)
    model = {
        "features": FEATURES,
        "coef": coef,
        "intercept": b,
        "threshold": best[1],
        "trained_on": "train==1 rows of laion_self_dev.csv and marginalized_dev.csv",
        "C": args.C,
        "train_accuracy": {k: round(v, 4) for k, v in tr.items()},
        "validation_accuracy": {k: round(v, 4) for k, v in va.items()},
    }
    out = ROOT / "udfs" / "geoparse_model.json"
    out.write_text(json.dumps(model, indent=1) + "\n")
    for name, c in sorted(zip(FEATURES, coef, strict=True), key=lambda t: -abs(t[1])):
        print(f"  {name:24s} {c:+.3f}")
    print(f"threshold {best[1]}  train {tr}  validation {va}")
    print(f"wrote {out}")
    assert all(math.isfinite(c) for c in coef)


if __name__ == "__main__":
    main()
