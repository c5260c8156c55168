"""What the name index takes from `udfs.language.names` (direct non-English geoparsing): the
extra name forms (exonyms, Greek case forms, Hindi variants, demonyms), the everyday words of
the supported languages that are also place names, and the phrases that name nothing.

Non-place words in a non-Latin script (Greek, Devanagari, kana, kanji) leave the index: no
English caption writes them. A Latin-script one (Spanish "mesa", "sol", "casa") is read in
English captions too, so it stays a name where an English caption would plausibly mean the
place: a country, a first-level division ("Montana", "Colonia"; the reference data has no
population for divisions) or a city of 100,000+ people whose own name it is ("Mesa", "Palma",
"La Paz"); its other places (Seoul's alternate name "Sol", towns called "Casa") leave.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

# A Latin-script non-place word keeps a city only of this size, and only by its own name.
LATIN_KEEP_POP = 100_000


def extra_name_rows(con: Any) -> pa.Table:
    """(geonameid, name, lang) of every extra name form resolved against this warehouse's
    places: rows to index like `place_names` rows."""
    from udfs.language.names import resolve_extra_names

    return resolve_extra_names(con).select(["geonameid", "name", "lang"])


def non_place_keys(db: Any) -> tuple[set[str], set[str]]:
    """(keys that leave the index, Latin-script keys kept only for plausible English place
    mentions): the non-place words of every supported language, keyed by `geo_key` of `db`
    (the private database with the geoparser's macros, so keys match the index's)."""
    from udfs.language.names import LANGS, non_place_phrases, non_place_words

    words = sorted({w for lang in LANGS for w in non_place_words(lang)})
    # The first word of a non-place phrase stays a place: the phrase is there to tell them
    # apart ("हवाई" Hawaii, a frequent word as "air", vs "हवाई जहाज" aeroplane).
    firsts = sorted({p.split()[0] for lang in LANGS for p in non_place_phrases(lang)})
    keys = _keys(db, words) - _keys(db, firsts)
    latin = {k for k in keys if k.isascii()}
    return keys - latin, latin


def phrase_keys(db: Any) -> set[str]:
    """Keys of the non-place phrases ("हवाई जहाज", aeroplane): vague keys that consume their
    words and name nothing, so that "हवाई" (Hawaii) is not read inside them."""
    from udfs.language.names import LANGS, non_place_phrases

    return _keys(db, sorted({p for lang in LANGS for p in non_place_phrases(lang)}))


def keep_latin(feature_code: str, population: int, own_name: bool) -> bool:
    """Whether a place keeps a Latin-script non-place word as its name (module docstring)."""
    if feature_code.startswith("PCL") or feature_code == "ADM1":
        return True
    return own_name and feature_code.startswith("PP") and population >= LATIN_KEEP_POP


def _keys(db: Any, words: list[str]) -> set[str]:
    db.register("_np_words", pa.table({"w": pa.array(words, pa.string())}))
    try:
        rows = db.sql("SELECT DISTINCT geo_key(w) FROM _np_words").fetchall()
    finally:
        db.unregister("_np_words")
    return {k for (k,) in rows if k}
