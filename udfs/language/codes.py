"""Language codes: ISO 639 tags -> one code per language, and ISO 639 -> FLORES-200 (NLLB).

Both read the shipped tables in `udfs/language/data/` (see docs/multilingual.md for their
sources); nothing here imports a heavy module.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pyarrow as pa

DATA = Path(__file__).parent / "data"
UNDETERMINED = "und"


@functools.lru_cache(maxsize=1)
def flores_rows() -> list[dict[str, str]]:
    with (DATA / "flores200.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@functools.lru_cache(maxsize=1)
def _maps() -> tuple[dict[str, str], dict[str, str], set[str]]:
    """(iso639_3 -> iso639_1 or itself, code or tag -> FLORES code, every FLORES code)."""
    to_short: dict[str, str] = {}
    to_flores: dict[str, str] = {}
    codes = set()
    for r in flores_rows():
        code, iso3, iso1 = r["flores_code"], r["iso639_3"], r["iso639_1"]
        codes.add(code)
        to_short.setdefault(iso3, iso1 or iso3)
        if r["default_iso639_3"] == "True":
            to_flores[iso3] = code
        if iso1 and r["default_iso639_1"] == "True":
            to_flores[iso1] = code
    # Written Chinese: traditional characters for Taiwan, Hong Kong and Macau.
    for tag in ("zh-tw", "zh-hk", "zh-mo", "zh-hant"):
        to_flores[tag] = "zho_Hant"
    return to_short, to_flores, codes


def normalize_language(tag: str | None) -> str | None:
    """A language tag as written at ingest -> ISO 639-1 where it has one, else ISO 639-3,
    lower case ('es-MX' -> 'es', 'spa' -> 'es', 'ell_Grek' -> 'el', 'zh-Hant' -> 'zh');
    None for empty values."""
    if tag is None or not str(tag).strip():
        return None
    t = str(tag).strip().replace("_", "-").lower()
    base = t.split("-")[0]
    to_short, _, _ = _maps()
    return to_short.get(base, base)


def flores_code(tag: str | None) -> str | None:
    """The FLORES-200 code NLLB uses for a language tag ('es' -> 'spa_Latn', 'zh-TW' ->
    'zho_Hant', 'hin_Deva' -> itself), or None when NLLB does not know the language."""
    if tag is None or not str(tag).strip():
        return None
    raw = str(tag).strip()
    _, to_flores, codes = _maps()
    if raw in codes:
        return raw
    t = raw.replace("_", "-").lower()
    if t in to_flores:
        return to_flores[t]
    base = t.split("-")[0]
    if base in to_flores:
        return to_flores[base]
    short = normalize_language(base)
    return to_flores.get(short) if short else None


def language_countries() -> pa.Table:
    """The shipped language-country table (country_code, language, rank, widely_spoken,
    geonames_tag)."""
    with (DATA / "language_countries.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return pa.table(
        {
            "country_code": [r["country_code"] for r in rows],
            "language": [r["language"] for r in rows],
            "rank": pa.array([int(r["rank"]) for r in rows], pa.int32()),
            "widely_spoken": [r["widely_spoken"] == "True" for r in rows],
            "geonames_tag": [r["geonames_tag"] for r in rows],
        }
    )


def load_language_countries(con) -> int:
    """(Re)load `language_countries` from the shipped table in one transaction; returns rows."""
    t = language_countries()
    cur = con.cursor()
    try:
        cur.begin()
        cur.register("_lc", t)
        cur.execute("DELETE FROM language_countries")
        cur.execute("INSERT INTO language_countries BY NAME SELECT * FROM _lc")
        cur.unregister("_lc")
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    finally:
        cur.close()
    return t.num_rows
