"""Direct (untranslated) geoparsing accuracy on the multilingual caption sets, through the
`geoparse()` UDF of a warehouse whose name index includes `udfs.language.names`.

    .venv/bin/python tests/language/direct_accuracy.py REF.duckdb WORKDIR [--kana-fix] [--boundary]

REF is a warehouse with reference data (copied, never written). The extra names are appended
to the copy's `place_names` (what the gazetteer's index build does when it includes them) and
non-place words leave the index. --kana-fix and --boundary emulate two proposed changes to the
gazetteer engine (kana kept unaccented in keys; katakana matches on word boundaries only).
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
KANA_RE = r"\x{0E00}-\x{0E7F}"
# The gazetteer's key normalization (geo_norm) for a whole name.
FOLD = (
    "CASE WHEN regexp_matches({0}, '[\\x{{0900}}-\\x{{0DFF}}\\x{{3040}}-\\x{{30FF}}]')"
    " THEN lower({0}) ELSE lower(strip_accents({0})) END"
)


def _gazetteer_modules() -> tuple[list, type]:
    """(modules that hold `_private_db`, the Engine class) of either gazetteer layout."""
    import udfs.gazetteer as g

    if hasattr(g, "Engine") and hasattr(g, "_private_db"):  # one module
        return [g], g.Engine
    from udfs.gazetteer import engine, index

    return [index, engine], engine.Engine


def patch_engine(kana_fix: bool, boundary: bool) -> None:
    mods, engine_cls = _gazetteer_modules()
    if kana_fix:
        orig = mods[0]._private_db

        def private_db(path=None):
            db = orig(path)
            from geosql.paths import sql_dir

            sql = (sql_dir() / "geoparse" / "00_macros.sql").read_text(encoding="utf-8")
            assert KANA_RE in sql
            db.execute(sql.replace(KANA_RE, KANA_RE + r"\x{3040}-\x{30FF}"))
            return db

        for m in mods:
            m._private_db = private_db
    if boundary:
        from udfs.language.names import cjk_boundary_ok

        orig_auto = engine_cls.cjk_automaton

        class Filtered:
            def __init__(self, a):
                self.a = a

            def iter_long(self, text):
                for end, key in self.a.iter_long(text):
                    if cjk_boundary_ok(text, end - len(key) + 1, end + 1):
                        yield end, key

        def cjk_automaton(self):
            return Filtered(orig_auto(self))

        engine_cls.cjk_automaton = cjk_automaton


def build(ref: Path, work: Path, names: bool) -> Path:
    from udfs.gazetteer import load_gazetteer
    from udfs.language.names import (
        LANGS,
        _fold,
        non_place_phrases,
        non_place_words,
        resolve_extra_names,
    )

    work.mkdir(parents=True, exist_ok=True)
    dst = work / "direct.duckdb"
    shutil.copy(ref, dst)
    with geosql.connect(dst) as con:
        if names:
            con.register("_x", resolve_extra_names(con))
            con.execute("INSERT INTO place_names SELECT geonameid, name, lang FROM _x")
            words = sorted({w for lang in LANGS for w in non_place_words(lang)})
            con.register("_w", pa.table({"w": words}))
            con.execute(
                f"DELETE FROM place_names WHERE {FOLD.format('name')} IN"
                f" (SELECT {FOLD.format('w')} FROM _w)"
            )
        index = load_gazetteer(con)
    if names:  # phrases consume their words and name nothing (like the vague regions)
        import duckdb

        phrases = sorted({w for lang in LANGS for w in non_place_phrases(lang)})
        db = duckdb.connect(str(index))
        db.register("_p", pa.table({"k": [_fold(p) for p in phrases]}))
        db.execute(
            "INSERT INTO g_names (key, vague, pronoun) SELECT k, true, false FROM _p"
            " WHERE k NOT IN (SELECT key FROM g_names)"
        )
        db.close()
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
    ap.add_argument("--kana-fix", action="store_true")
    ap.add_argument("--boundary", action="store_true")
    ap.add_argument("--set", default="dev", choices=["dev", "holdout", "both"])
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    patch_engine(a.kana_fix, a.boundary)
    wh = build(a.ref, a.work, not a.no_names)
    sets = ["dev", "holdout"] if a.set == "both" else [a.set]
    for s in sets:
        print(s, json.dumps(score(wh, [DATA / f"multilingual_{s}.csv"], a.v)))
    for p in glob.glob(str(a.work / "direct.models" / "*")):
        print("index", p)


if __name__ == "__main__":
    main()
