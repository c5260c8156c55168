"""Train the offline geoparser's scoring models.

    .venv/bin/python scripts/train_geoparser.py [--warehouse W] [--shared ../shared]

Stage 1 scores each (mention, candidate country) with a logistic regression over the features
in udfs/gazetteer/features.py:FEATURES (computed by the geoparser's own SQL, sql/geoparse/). Its two
support features weigh the other mentions by a first pass, the prior: a logistic regression on
every other feature (out of fold while training). Stage 2 decides whether the caption names a
place at all, from caption-level features (CAPTION_FEATURES) on out-of-fold stage-1 scores.
Uses the two dev sets in ../shared/data/dev (never copied into the repo): first fits on the
`train == 1` rows and reports accuracy on the `train == 0` rows (the held-out estimate; with --cv
also 5-fold accuracy over all rows), then refits the shipped model on all rows (unless
--train-half-only). Writes udfs/gazetteer/geoparse_model.json.
Deterministic: fixed folds and seeds.
"""

from __future__ import annotations

import argparse
import json
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
    PRIOR_FEATURES,
    Engine,
    load_gazetteer,
)

SETS = [
    ("laion_self_dev.csv", "text", "gt"),
    ("marginalized_dev.csv", "Text", "Country name EN"),
]
FOLDS = 5
# Ablation (--drop): features whose column is zeroed; dropping "feature" also removes the
# natural-feature candidates themselves (a large negative weight on their indicator).
DROP: set[str] = set()
EXCLUDED = -30.0
# Weights set by hand, not fitted: the dev sets hold too few cases to learn them, and the
# held-out errors say which way they go. A demonym right before a product or style noun names a
# style ("French door curtains", "Moroccan tiles"): weak evidence of a place (one dev row).
# A town's name inside a person's name ("Craig Robinson", "Jacqueline Marie Houston"): the
# fitted weight is ~0 because the person's country is usually the caption's (US actors in US
# captions), and the labels are countries, so they cannot say the word is not a place.
FIXED = {"demonym_product": -4.0, "person_context": -4.0}


def country(value) -> str | None:
    """ISO2 of a label or answer; None for no place (and for an unrecognized name)."""
    return None if value is None or is_no_place(str(value)) else normalize_country(str(value))


def labelled(shared: Path, split: int):
    """(csv row, text, gold ISO2 or None, file) of every dev row of `split` with a usable gold
    label, in file order."""
    for f, tc, gc in SETS:
        df = pl.read_csv(shared / "data" / "dev" / f).filter(pl.col("train") == split)
        for row in df.iter_rows(named=True):
            gold = country(row[gc])
            if gold is None and not is_no_place(row[gc]):
                continue  # unparseable gold label
            yield row, row[tc], gold, f


def load(shared: Path, split: int) -> list[tuple[str, str | None, str]]:
    return [(text, gold, f) for _, text, gold, f in labelled(shared, split)]


def accuracy(engine: Engine, rows, threshold: float | None = None) -> dict[str, float]:
    """Accuracy per dev file of the engine's current g_scored (see `prepare`)."""
    preds, _ = engine.decide(threshold)
    return _per_file(rows, preds["country_code"].to_pylist())


def _per_file(rows, got: list[str | None]) -> dict[str, float]:
    """Accuracy per dev file of answers `got`, aligned with `rows`."""
    res: dict[str, list[int]] = {}
    for (_text, gold, f), cc in zip(rows, got, strict=True):
        res.setdefault(f, []).append(int(cc == gold))
    return {f: round(sum(v) / len(v), 4) for f, v in res.items()}


def prepare(engine: Engine, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate features of every row: X, y (candidate is the gold country), caption index r,
    sample weights (long captions don't dominate)."""
    engine.features([t for t, _, _ in rows])
    return matrix(engine, rows)


def matrix(engine: Engine, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`prepare` on the features already computed (the view g_feat, read again after
    `set_prior`)."""
    feat = engine.feature_table()
    X = np.column_stack([feat[f"f_{f}"].to_numpy() for f in FEATURES]).astype(float)
    for f in DROP | FIXED.keys():
        X[:, FEATURES.index(f)] = 0.0
    r = feat["r"].to_numpy()
    cc = feat["cc"].to_pylist()
    y = np.array([int(c == rows[i][1]) for i, c in zip(r, cc, strict=True)])
    per_caption = np.bincount(r, minlength=len(rows))
    w = 1.0 / np.sqrt(np.maximum(per_caption[r], 1))
    return X, y, r, w


def fit_stage1(X, y, w, C: float):
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=5000, random_state=0)
    clf.fit(X, y, sample_weight=w)
    return clf


def _excluded(fs: list[str]) -> list[float]:
    """Coefficients added to the fitted ones: the fixed weights (FIXED), and a large negative
    one that removes the candidates of a dropped indicator ("feature")."""
    return [EXCLUDED if f == "feature" and f in DROP else FIXED.get(f, 0.0) for f in fs]


def _prior_model(clf) -> dict:
    coef = [float(c) + x for c, x in zip(clf.coef_[0], _excluded(PRIOR_FEATURES), strict=True)]
    return {
        "prior_features": PRIOR_FEATURES,
        "prior_coef": [round(c, 5) for c in coef],
        "prior_intercept": round(float(clf.intercept_[0]), 5),
    }


def _engine(gaz, **kw) -> Engine:
    """An engine without the side models (mention, confidence): fitting and scoring the
    geoparser reads neither, and a side model trained with other features must not stop it."""
    return Engine(gaz, mention_model={}, confidence_model={}, **kw)


def fit(gaz, rows, C: float) -> dict:
    """Stage 1 on every candidate, stage 2 on out-of-fold stage-1 scores, threshold by accuracy."""
    from sklearn.linear_model import LogisticRegression

    # Candidates include fuzzy matches, so the fuzzy features get weights for `fuzzy=true`.
    zero = {"coef": [0.0] * len(FEATURES), "intercept": 0.0, "threshold": 0.5}
    engine = _engine(gaz, model=zero, fuzzy=True)
    X, y, r, w = prepare(engine, rows)
    feat = engine.feature_table()
    removed = feat["f_feature"].to_numpy().astype(bool)
    # The fixed weights' part of each candidate's logit (their columns are zero in X).
    offset = sum(v * feat[f"f_{f}"].to_numpy().astype(float) for f, v in FIXED.items())
    if "feature" in DROP:  # removed candidates neither train nor win
        w = np.where(removed, 0.0, w)
    # First pass (the prior that weighs support from other mentions): every feature but support.
    cols = [FEATURES.index(f) for f in PRIOR_FEATURES]
    prior = fit_stage1(X[:, cols], y, w, C)
    # Support features of each fold from a prior fitted without that fold (out of fold).
    Xs = np.zeros_like(X)
    for k in range(FOLDS):
        tr, te = (r % FOLDS) != k, (r % FOLDS) == k
        engine.set_prior(_prior_model(fit_stage1(X[tr][:, cols], y[tr], w[tr], C)))
        Xs[te] = matrix(engine, rows)[0][te]
    X = Xs
    clf = fit_stage1(X, y, w, C)
    # Stage 2 on out-of-fold stage-1 scores (fixed folds by caption position).
    p = np.zeros(len(y))
    for k in range(FOLDS):
        tr, te = (r % FOLDS) != k, (r % FOLDS) == k
        z = fit_stage1(X[tr], y[tr], w[tr], C).decision_function(X[te]) + offset[te]
        p[te] = 1 / (1 + np.exp(-z))
    if "feature" in DROP:
        p[removed] = 0.0
    engine.score(p)
    cap = engine.caption_features()
    F, Y = [], []
    for row in cap.to_pylist():
        gold = rows[row["r"]][1]
        if gold is None or row["cc"] == gold:  # answering helps iff top == gold
            F.append([row[f] for f in CAPTION_FEATURES])
            Y.append(int(gold is not None))
    clf2 = LogisticRegression(C=1.0, max_iter=5000, random_state=0)
    clf2.fit(np.array(F), np.array(Y))
    model = {
        **_prior_model(prior),
        "features": FEATURES,
        "coef": [
            round(float(c) + x, 5) for c, x in zip(clf.coef_[0], _excluded(FEATURES), strict=True)
        ],
        "intercept": round(float(clf.intercept_[0]), 5),
        "caption_features": CAPTION_FEATURES,
        "caption_coef": [round(float(c), 5) for c in clf2.coef_[0]],
        "caption_intercept": round(float(clf2.intercept_[0]), 5),
        "threshold": 0.5,
    }
    engine = _engine(gaz, model=model)
    engine.features([t for t, _, _ in rows])
    engine.score()
    best = (0.0, 0.5)
    for t in np.arange(0.3, 0.71, 0.025):
        acc = accuracy(engine, rows, float(t))
        score = sum(acc.values()) / len(acc)  # both kinds of text count equally
        if score > best[0] + 1e-9:
            best = (score, float(round(t, 3)))
    model["threshold"] = best[1]
    model["fit_accuracy"] = accuracy(engine, rows, best[1])
    return model


def evaluate(gaz, model: dict, rows, fuzzy: bool = False) -> dict[str, float]:
    engine = _engine(gaz, model=model, fuzzy=fuzzy)
    engine.features([t for t, _, _ in rows])
    engine.score()
    return accuracy(engine, rows)


def cross_validate(gaz, rows, C: float, k: int = FOLDS) -> dict:
    """k-fold accuracy over all labelled rows (fixed folds by row position): each row is
    predicted by a model fitted without it. Lower variance than the one train/held-out split.
    Returns the pooled accuracy per dev file and, per file, each fold's accuracy with their
    mean and spread (max - min), so the gap between folds is visible."""
    got: list[str | None] = [None] * len(rows)
    mention: list[str | None] = [None] * len(rows)
    per_fold: dict[str, list[float]] = {}
    for fold in range(k):
        train = [row for i, row in enumerate(rows) if i % k != fold]
        test = [i for i in range(len(rows)) if i % k == fold]
        preds, _ = _engine(gaz, model=fit(gaz, train, C)).parse([rows[i][0] for i in test])
        pm = preds["mention"].to_pylist()
        for i, cc, m in zip(test, preds["country_code"].to_pylist(), pm, strict=True):
            got[i], mention[i] = cc, m
        for f, acc in _per_file([rows[i] for i in test], [got[i] for i in test]).items():
            per_fold.setdefault(f, []).append(acc)
    return {
        "pooled": _per_file(rows, got),
        "predictions": pl.DataFrame(
            {
                "file": [f for _, _, f in rows],
                "text": [t for t, _, _ in rows],
                "gold": [g for _, g, _ in rows],
                "pred": got,
                "mention": mention,
            }
        ),
        "folds": per_fold,
        "mean": {f: round(float(np.mean(v)), 4) for f, v in per_fold.items()},
        "spread": {f: round(max(v) - min(v), 4) for f, v in per_fold.items()},
    }


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
    ap.add_argument(
        "--cv", action="store_true", help=f"also print {FOLDS}-fold accuracy over all rows"
    )
    ap.add_argument(
        "--index", help="a built gazetteer index file (gazetteer-v*.duckdb) instead of --warehouse"
    )
    ap.add_argument("--drop", default="", help="ablation: comma-separated features to drop")
    ap.add_argument("--oof", help="with --cv: write the out-of-fold predictions (parquet)")
    ap.add_argument("--out", help="write the model here instead of udfs/gazetteer/")
    ap.add_argument("--no-write", action="store_true", help="report only; keep the model file")
    args = ap.parse_args()
    DROP.update(f for f in args.drop.split(",") if f)
    if DROP - set(FEATURES):
        ap.error(f"--drop: unknown features {sorted(DROP - set(FEATURES))}")
    if args.index:
        gaz = Path(args.index)
    else:
        with geosql.connect(args.warehouse) as con:
            from geosql import refdata

            for _ in refdata.load_defaults(con, only_missing=True):
                pass
            gaz = load_gazetteer(con)
    shared = Path(args.shared)
    train, val = load(shared, 1), load(shared, 0)
    # Held-out estimate: fit on the train half, score the other half.
    model = fit(gaz, train, args.C)
    estimate = evaluate(gaz, model, val)
    print(f"fitted on train==1 rows: threshold {model['threshold']}, held-out accuracy {estimate}")
    with_fuzzy = evaluate(gaz, model, val, fuzzy=True)
    print(f"  the same with fuzzy retrieval (stage setting fuzzy=true): {with_fuzzy}")
    if args.cv:
        cv = cross_validate(gaz, train + val, args.C)
        print(f"{FOLDS}-fold cross-validated accuracy, all rows: {cv['pooled']}")
        print(f"  per fold: {cv['folds']}; mean {cv['mean']}; spread {cv['spread']}")
        if args.oof:
            cv["predictions"].write_parquet(args.oof)
    if args.no_write:
        return
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
    out = Path(args.out) if args.out else ROOT / "udfs" / "gazetteer" / "geoparse_model.json"
    out.write_text(json.dumps(model, indent=1) + "\n")
    for name, c in sorted(zip(FEATURES, model["coef"], strict=True), key=lambda t: -abs(t[1]))[:10]:
        print(f"  {name:26s} {c:+.3f}")
    for name, c in zip(CAPTION_FEATURES, model["caption_coef"], strict=True):
        print(f"  caption:{name:18s} {c:+.3f}")
    print(f"wrote {out} (threshold {model['threshold']}, fit accuracy {model['fit_accuracy']})")


if __name__ == "__main__":
    main()
