"""Direct (untranslated) geoparsing accuracy on the multilingual caption sets, through the
`geoparse()` UDF of a warehouse, with the product as it is: the gazetteer index includes the
multilingual names of `udfs.language.names` (udfs/gazetteer/multilingual.py), geo_norm keeps kana
voicing marks and katakana names match on katakana word boundaries only.

    .venv/bin/python tests/language/direct_accuracy.py REF.duckdb WORKDIR [--set both] [-v]
        [--no-names]

REF is a warehouse with reference data (copied into WORKDIR, never written); a gazetteer index
of the current version cached beside it (REF's `.models` folder) is copied along, so that the
index is not built again. --no-names: the baseline without the multilingual names (the index
built with no extra names, non-place words or phrases; engine unchanged); use another WORKDIR.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import shutil
from pathlib import Path

import pyarrow as pa

import geosql
from geosql.countries import is_no_place, normalize_country

DATA = Path(__file__).parent / "data"


def without_names() -> None:
    """Build the index without the multilingual names (the --no-names baseline)."""
    from udfs.gazetteer import index

    index.extra_name_rows = lambda con: pa.table(
        {
            "geonameid": pa.array([], pa.int64()),
            "name": pa.array([], pa.string()),
            "lang": pa.array([], pa.string()),
        }
    )
    index.non_place_keys = lambda db: (set(), set())
    index.phrase_keys = lambda db: set()


def build(ref: Path, work: Path, names: bool) -> Path:
    """A copy of `ref` in `work` with its gazetteer index (copied when cached, else built)."""
    from udfs.gazetteer import load_gazetteer

    work.mkdir(parents=True, exist_ok=True)
    dst = work / "direct.duckdb"
    shutil.copy(ref, dst)
    cached = ref.with_suffix(".models")
    if names and cached.is_dir():
        shutil.rmtree(work / "direct.models", ignore_errors=True)
        shutil.copytree(cached, work / "direct.models")
    if not names:
        without_names()
    with geosql.connect(dst) as con:
        load_gazetteer(con)
    return dst


def score(wh: Path, files: list[Path], verbose: bool) -> dict:
    rows = [r for f in files for r in csv.DictReader(f.open(encoding="utf-8"))]
    with geosql.connect(wh, read_only=True) as con:
        con.register(
            "t", pa.table({"i": list(range(len(rows))), "text": [r["text"] for r in rows]})
        )
        out = dict(con.sql("SELECT i, geoparse(text) FROM t").fetchall())
    stats: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        gold = None if is_no_place(r["gt"]) else normalize_country(r["gt"])
        pred = (out[i] or {}).get("country_code")
        s = stats.setdefault(r["lang"], [0, 0, 0, 0, 0])
        s[0] += 1
        s[1] += pred == gold
        if gold:
            s[2] += 1
            s[3] += pred == gold
        else:
            s[4] += pred is not None
        if verbose and pred != gold:
            print(" miss", r["lang"], gold, pred, r["text"], json.dumps(out[i], ensure_ascii=False))
    stats["all"] = [sum(x) for x in zip(*stats.values(), strict=True)]
    return {
        k: {
            "n": s[0],
            "accuracy": round(s[1] / s[0], 3),
            "located_accuracy": round(s[3] / s[2], 3),
            "false_positive_rate": round(s[4] / (s[0] - s[2]), 3),
        }
        for k, s in stats.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ref", type=Path)
    ap.add_argument("work", type=Path)
    ap.add_argument("--no-names", action="store_true")
    ap.add_argument("--set", default="dev", choices=["dev", "holdout", "both"])
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    wh = build(a.ref, a.work, not a.no_names)
    sets = ["dev", "holdout"] if a.set == "both" else [a.set]
    for s in sets:
        print(s, json.dumps(score(wh, [DATA / f"multilingual_{s}.csv"], a.v)))
    for p in glob.glob(str(a.work / "direct.models" / "*")):
        print("index", p)


if __name__ == "__main__":
    main()
