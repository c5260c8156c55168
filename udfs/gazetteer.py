"""Offline geoparser over the GeoNames tables: extract -> retrieve -> predict, no API.

Set-based, in a private in-memory DuckDB (steps in sql/geoparse/*.sql). Extract: captions are
split into word tokens; every 1..5-token n-gram is joined against the normalized place names
(longest match wins, left to right); state/province codes and postcodes are recognised, and CJK
text, which has no spaces, goes through an Aho-Corasick automaton. Retrieve: each mention brings
its candidate countries with their best place (country, division, city with population).
Predict: a logistic model scores each (mention, country) from place type, population, how
common the name is as an everyday word (wordfreq), capitalisation, "City, ST" patterns and
co-mentioned containing regions; a second model decides whether the caption names a place at
all. The name index is built once per warehouse and cached as Parquet beside it.
"""

from __future__ import annotations

import math
import re
import shutil
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

from geosql.registry import BatchResult, Stage, registry

GAZETTEER_VERSION = "20"
MAX_NGRAM = 5

# Candidate kinds.
COUNTRY, DEMONYM, ADMIN1, CITY = 0, 1, 2, 3

# Regions and words that never locate a caption on their own (the labelling convention:
# continents and vague regions are no place).
VAGUE = {
    "mediterranean",
    "caribbean",
    "scandinavia",
    "middle east",
    "far east",
    "near east",
    "balkans",
    "the balkans",
    "baltic",
    "baltics",
    "sahara",
    "siberia",
    "patagonia",
    "arctic",
    "antarctic",
    "tropics",
    "tropical",
    "oriental",
    "orient",
    "latin america",
    "central america",
    "south america",
    "north america",
    "africa",
    "asia",
    "europe",
    "oceania",
    "australasia",
    "eurasia",
    "antarctica",
    "southeast asia",
    "east asia",
    "south asia",
    "west africa",
    "east africa",
    "western europe",
    "eastern europe",
    "the west",
    "pacific",
    "atlantic",
    "indian ocean",
    "himalaya",
    "himalayas",
    "alps",
    "andes",
    "amazon",
    "nordic",
    "celtic",
    "arab",
    "arabic",
    "latin",
    "hispanic",
    "asian",
    "african",
    "european",
    "western",
    "eastern",
    "northern",
    "southern",
    "central",
    "north",
    "south",
    "east",
    "west",
    "world",
    "earth",
    "international",
    "global",
    "new",
    "old",
    "city",
    "town",
    "village",
    "island",
    "lake",
    "mountain",
    "river",
    "beach",
    "valley",
    "hill",
    "bay",
    "coast",
    "county",
    "state",
    "province",
}

US_STATES = {
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "DC",
}
# GeoNames admin1 codes of Canadian provinces -> postal abbreviations.
CA_PROVINCES = {
    "AB": "01",
    "BC": "02",
    "MB": "03",
    "NB": "04",
    "NL": "05",
    "NS": "07",
    "ON": "08",
    "PE": "09",
    "QC": "10",
    "SK": "11",
    "YT": "12",
    "NT": "13",
    "NU": "14",
}
AU_STATES = {"NSW", "QLD", "VIC", "WA", "SA", "TAS", "ACT", "NT"}
# Newspaper (AP) abbreviations of US states, read like state codes: "Mountain View, Calif.".
# Those that are also everyday words or names ("La", "Miss", "Ill", "Del", "Ore") are left out.
US_STATES_AP = {
    "Ala", "Ariz", "Ark", "Calif", "Colo", "Conn", "Fla", "Kan", "Kans", "Mass", "Mich",
    "Minn", "Mont", "Neb", "Nev", "Okla", "Penn", "Tenn", "Tex", "Wash", "Wis", "Wyo",
}  # fmt: skip

# Scripts written without spaces (kana, CJK ideographs, Hangul), for Python re and for RE2.
_CJK_RANGES = [(0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF)]
_CJK = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _CJK_RANGES) + "]")
_CJK_RE2 = "[" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in _CJK_RANGES) + "]"
POSTCODES = [
    ("GB", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b")),
    ("CA", re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b")),
    ("AU", re.compile(r"\b(?:NSW|QLD|VIC|Vic|WA|SA|TAS|Tas|ACT|NT),? \d{4}\b")),
]
_SPECIAL_RE2 = "|".join([_CJK_RE2] + [rx.pattern for _, rx in POSTCODES])


@lru_cache(maxsize=1)
def _english_frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en")


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Lower-case headwords of Webster's Second International (web2, in the english-words
    package): everyday words, without the proper nouns that wordfreq also counts, so "sale",
    "reading" and "mobile" are words while "london", "rome" and "honolulu" are not."""
    from geosql.countries import package_file

    text = package_file("english_words", "web2.txt").read_text("utf-8")
    return frozenset(w for w in text.split() if w[:1].islower())


def content_words(key: str) -> list[str]:
    """The words of a name key, articles and "of" aside ("the gap" -> ["gap"])."""
    return [w for w in key.split(" ") if w not in {"the", "a", "an", "of"}]


def dict_word(key: str) -> bool:
    """Every content word of `key` is an everyday English word."""
    words, d = content_words(key), dictionary_words()
    return bool(words) and all(w in d for w in words)


@lru_cache(maxsize=200_000)
def zipf(key: str) -> float:
    """How common `key` is as English text (wordfreq Zipf scale, 0 = unseen, 7 = 'the').

    Plain words are a dictionary lookup (the same value as wordfreq.zipf_frequency, ~20x
    faster); phrases and other scripts go through wordfreq's tokenizer.
    """
    if key.isascii() and key.isalpha():
        f = _english_frequencies().get(key, 0.0)
        return round(math.log10(f) + 9, 2) if f > 0 else 0.0
    from wordfreq import zipf_frequency

    return zipf_frequency(key, "en")


def _common(key: str, level: float) -> bool:
    """zipf(key) >= level, skipping wordfreq for phrases with a rarer word (a phrase is never
    more frequent than its rarest word)."""
    if _CJK.search(key):
        return False
    if " " in key and any(w.isascii() and w.isalpha() and zipf(w) < level for w in key.split(" ")):
        return False
    return zipf(key) >= level


PLACE_CUES = {
    "town",
    "village",
    "city",
    "district",
    "province",
    "region",
    "population",
    "capital",
    "located",
    "county",
    "governorate",
    "municipality",
    "prefecture",
    "commune",
    "suburb",
    "neighbourhood",
    "neighborhood",
    "downtown",
    "census",
    "inhabitants",
    "km",
    "kilometres",
    "kilometers",
    "miles",
    "north",
    "south",
    "east",
    "west",
    "border",
    "river",
    "valley",
    "coast",
}
PREPOSITIONS = {
    "in",
    "at",
    "from",
    "near",
    "to",
    "visit",
    "visiting",
    "around",
    "outside",
    "across",
    "into",
    "toward",
    "towards",
    "via",
    "of",
}
PLACE_TYPES = {
    "city",
    "county",
    "island",
    "islands",
    "beach",
    "lake",
    "river",
    "valley",
    "bay",
    "state",
    "province",
    "district",
    "town",
    "village",
    "park",
    "mountains",
    "harbour",
    "harbor",
    "coast",
    "street",
    "road",
    "avenue",
    "airport",
    "region",
    "peninsula",
    "falls",
}
# Words and symbols that place a caption in one country without naming a place: currencies,
# company suffixes, property-listing terms. A candidate of that country gets the feature
# cue_country ("3 bed semi-detached house for sale in Frankham Close, Sheffield" is Sheffield,
# England, not Sheffield, Alabama). One or two word keys; symbols match anywhere in the text.
COUNTRY_TERMS = {
    "GB": [
        "semi detached",
        "terraced",
        "end terrace",
        "maisonette",
        "mews",
        "to rent",
        "to let",
        "gbp",
        "£",
    ],
    "IN": ["bhk", "lakh", "lakhs", "crore", "crores", "₹"],
    "SG": ["pte ltd", "hdb"],
    "MY": ["sdn bhd"],
    "DE": ["gmbh"],
}
# The stage-1 features, in model order, and where each comes from: "name" features depend on
# the name alone and are precomputed in the index; "context" ones read the mention in its
# caption (sql/geoparse/30_features.sql).
FEATURE_SOURCES = {
    "country": "name",
    "country_common_word": "context",
    "demonym": "name",
    "us_state": "name",
    "admin1": "name",
    "admin1_common_word": "name",
    "city": "name",
    "city_log_pop": "name",
    "city_pop_100k": "name",
    "city_pop_1m": "name",
    "city_capital": "name",
    "city_zipf": "name",
    "city_common_word": "name",
    "city_common_uncapitalised": "context",
    "city_excess_zipf": "name",
    "city_pop_500k": "name",
    "city_zipf_500k": "name",
    "city_dict_word": "name",
    "city_dict_zipf": "name",
    "multi_all_common": "name",
    "abbreviation": "context",
    "n_tokens": "name",
    "short": "name",
    "cap_in_mixed": "context",
    "lower_in_mixed": "context",
    "sentence_start": "context",
    "preposition": "context",
    "place_cue": "context",
    "adjacent_capital": "context",
    "next_is_place_type": "context",
    "cue_country": "context",
    "supported_by_division": "context",
    "supported_by_mentions": "context",
    "one_over_n_countries": "name",
    "most_populous": "name",
    "non_latin": "name",
    "fuzzy": "context",
    "fuzzy_gap": "context",
}
FEATURES = list(FEATURE_SOURCES)
# The first pass (g_prior) sees every feature but the support from other mentions, which it
# weighs.
SUPPORT_FEATURES = ["supported_by_division", "supported_by_mentions"]
PRIOR_FEATURES = [f for f in FEATURES if f not in SUPPORT_FEATURES]
STATIC_FEATURES = [f for f, src in FEATURE_SOURCES.items() if src == "name"]


CAPTION_FEATURES = [
    "logit_top",
    "logit_second",
    "n_countries",
    "top_is_country",
    "top_is_division",
    "top_is_city",
    "place_cue",
    "cap_info",
    "log_words",
    "sentence",
]


# ------------------------------------------------------------------------------ gazetteer


def _rank(kind: int, pop: int) -> tuple[float, int]:
    """Which place of a country answers a name: the country, a big city, a division, a town."""
    return (1.5 if kind == CITY and pop >= 100_000 else kind, -pop)


def _name_rows(con) -> pa.Table:
    return con.sql(
        """
        SELECT n.name, p.geonameid, p.country_code, p.feature_code,
               coalesce(p.population, 0) AS population, p.lat, p.lon, n.lang
        FROM place_names n JOIN places p USING (geonameid)
        WHERE p.country_code IS NOT NULL AND p.feature_code <> 'CONT'
        ORDER BY p.geonameid, n.name  -- deterministic candidate numbering and tie-breaks
        """
    ).to_arrow_table()


def build_gazetteer(con) -> dict[str, pa.Table]:
    """The geoparser's index from the warehouse's places/place_names/countries tables.

    Returns Arrow tables: `g_gaz` (one row per name key and candidate country with the
    name-only features), `g_names` (every key: vague region? pronoun-like?) and `g_country`
    (the country place of each code, for state codes and postcodes).
    """
    rows = _name_rows(con)
    db = _private_db()
    db.register("n", rows)
    keys = db.sql("SELECT geo_key(name) AS k FROM n").to_arrow_table()["k"].to_pylist()
    db.register(
        "cap",
        con.sql("SELECT iso2, capital FROM countries WHERE capital IS NOT NULL").to_arrow_table(),
    )
    capitals = set(db.sql("SELECT iso2, geo_key(capital) FROM cap").fetchall())
    db.close()
    cols = {c: rows[c].to_pylist() for c in rows.column_names}
    places: list[tuple] = []  # (country, kind, pop, gid, lat, lon)
    place_idx: dict[tuple[int, int], int] = {}
    index: dict[str, set[int]] = {}
    for i, key in enumerate(keys):
        fc = cols["feature_code"][i] or ""
        if cols["lang"][i] == "demonym":  # "French", "Hawaiian"
            k = DEMONYM
        elif fc.startswith("PCL"):
            k = COUNTRY
        else:
            k = ADMIN1 if fc in ("ADM1", "ADM2") else CITY  # a division either way
        if not key or key in VAGUE or key.count(" ") >= MAX_NGRAM or key.isdigit():
            continue
        if cols["lang"][i] == "folded" and _common(key, 3.0):  # "Ísland" is not "island"
            continue
        if _CJK.search(key):
            if len(key) < 2:
                continue
        elif len(key) < 3 and k == CITY:
            continue
        g = cols["geonameid"][i]
        pi = place_idx.get((g, k))
        if pi is None:
            pi = place_idx[(g, k)] = len(places)
            places.append(
                (
                    cols["country_code"][i],
                    k,
                    int(cols["population"][i] or 0),
                    g,
                    cols["lat"][i],
                    cols["lon"][i],
                )
            )
        index.setdefault(key, set()).add(pi)
    compact: dict[str, tuple[int, ...]] = {}
    for key, cands in index.items():
        # Per key the strongest candidate per (country, kind): enough to decide, much smaller.
        best: dict[tuple[str, int], int] = {}
        for c in cands:
            bk = places[c][:2]
            if bk not in best or places[c][2] > places[best[bk]][2]:
                best[bk] = c
        ordered = sorted(best.values(), key=lambda c: (places[c][1], -places[c][2]))
        # Everyday words ("ring", "oak", "spring") name many small places: keep those
        # candidates only for big cities, so they cost nothing on ordinary text.
        # Phrases of everyday words ("Mountain View") keep towns of 20,000 or more.
        if any(places[c][1] == CITY for c in ordered) and _common(key, 4.5):
            least = 20_000 if " " in key else 100_000
            ordered = [c for c in ordered if places[c][1] != CITY or places[c][2] >= least]
        # Function words ("the", "of", "us") are never places, except a country code written
        # in capitals ("US", "UK"), which the pronoun flag checks.
        if _common(key, 5.5):
            ordered = [c for c in ordered if places[c][1] == COUNTRY]
        if ordered:
            compact[key] = tuple(ordered[:12])
    # Names written as one word in hashtags, URLs and file names: "capetown", "newyork".
    for key in [k for k in compact if 1 <= k.count(" ") <= 2 and k.isascii()]:
        joined = key.replace(" ", "")
        if len(joined) >= 7 and joined not in compact:
            compact[joined] = compact[key]
    gaz: dict[str, list] = {c: [] for c in _GAZ_COLUMNS}
    for key, cands in compact.items():
        _add_key_rows(gaz, key, [places[c] for c in cands], capitals)
    names = {"key": [], "vague": [], "pronoun": []}
    for key in compact:
        names["key"].append(key)
        names["vague"].append(False)
        names["pronoun"].append(" " not in key and len(key) <= 3 and zipf(key) >= 5.5)
    # Vague regions are names with no candidates: the longest match consumes them, so
    # "Latin America" never falls back to "America".
    for key in sorted(VAGUE - compact.keys()):
        names["key"].append(key)
        names["vague"].append(True)
        names["pronoun"].append(False)
    country: dict[str, tuple] = {}
    for p in places:
        if p[1] == COUNTRY and (p[0] not in country or p[2] > country[p[0]][2]):
            country[p[0]] = p
    return {
        "g_gaz": pa.table(gaz),
        "g_names": pa.table(names),
        "g_country": pa.table(
            {
                "cc": list(country),
                "gid": [p[3] for p in country.values()],
                "lat": [p[4] for p in country.values()],
                "lon": [p[5] for p in country.values()],
            }
        ),
    }


_GAZ_COLUMNS = [
    "key",
    "cc",
    "gid",
    "lat",
    "lon",
    "n_strong",
    "country_z43",
    "city_z3",
    *(f"f_{f}" for f in STATIC_FEATURES),
]


def _add_key_rows(gaz: dict[str, list], key: str, cands: list[tuple], capitals: set) -> None:
    """One row per candidate country of `key`: its best place and the name-only features."""
    cjk = bool(_CJK.search(key))
    z = 0.0 if cjk else zipf(key)
    n_tok = key.count(" ") + 1
    # Multi-word names made of everyday words: "The Gap", "Iron Mountain", "White Oak".
    words = content_words(key)
    all_common = n_tok > 1 and bool(words) and all(zipf(w) >= 3.5 for w in words)
    dw = not cjk and dict_word(key)
    by_country: dict[str, tuple] = {}
    n_strong: dict[str, int] = {}
    for p in cands:
        cc, kind, pop = p[0], p[1], p[2]
        if cc not in by_country or _rank(kind, pop) < _rank(*by_country[cc][1:3]):
            by_country[cc] = p
        n_strong[cc] = n_strong.get(cc, 0) + (kind in (COUNTRY, ADMIN1))
    top_pop = max(p[2] for p in by_country.values())
    for cc, (_, k, pop, gid, lat, lon) in by_country.items():
        city = k == CITY
        lp = math.log10(pop + 1) if city else 0.0
        f = {
            "country": k == COUNTRY,
            "demonym": k == DEMONYM,
            "us_state": k == ADMIN1 and cc == "US",
            "admin1": k == ADMIN1 and cc != "US",
            "admin1_common_word": k == ADMIN1 and z >= 4.0,
            "city": city,
            "city_log_pop": lp,
            "city_pop_100k": city and pop >= 100_000,
            "city_pop_1m": city and pop >= 1_000_000,
            "city_capital": city and (cc, key) in capitals,
            "city_zipf": z if city else 0.0,
            "city_common_word": city and z >= 4.0,
            "city_excess_zipf": max(0.0, z - (lp - 2.0)) if city else 0.0,
            "city_pop_500k": city and pop >= 500_000,
            # Big cities are frequent words because they are famous, not because they are words.
            "city_zipf_500k": z if city and pop >= 500_000 else 0.0,
            # Everyday words are dictionary headwords; famous names are not ("rome", "boston").
            "city_dict_word": city and dw,
            "city_dict_zipf": z if city and dw else 0.0,
            "multi_all_common": all_common,
            "n_tokens": min(n_tok, 3) - 1.0,
            "short": len(key) <= 4,
            "one_over_n_countries": 1.0 / len(by_country),
            "most_populous": city and pop >= top_pop,
            "non_latin": cjk or not key.isascii(),
        }
        row = {
            "key": key,
            "cc": cc,
            "gid": gid,
            "lat": lat,
            "lon": lon,
            "n_strong": n_strong[cc],
            "country_z43": k == COUNTRY and z >= 4.3,
            "city_z3": city and z >= 3.0,
        }
        for c in _GAZ_COLUMNS:
            gaz[c].append(row[c] if c in row else float(f[c[2:]]))


def _index_path(con, warehouse: str | None) -> Path | None:
    if not warehouse or warehouse == ":memory:":
        return None
    from geosql.paths import models_dir

    n = con.sql(
        "SELECT (SELECT count(*) FROM places), (SELECT count(*) FROM place_names)"
    ).fetchall()[0]
    return models_dir(warehouse) / f"gazetteer-v{GAZETTEER_VERSION}-{n[0]}-{n[1]}.duckdb"


def warehouse_path(con) -> str | None:
    """File path of the database `con` is attached to (None for in-memory)."""
    rows = con.sql(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def load_gazetteer(con) -> dict[str, pa.Table] | Path:
    """The gazetteer of this warehouse: a small DuckDB file cached beside it (built on first
    use, rebuilt when the reference data changes); the tables themselves for in-memory ones."""
    from geosql.errors import GeosqlError

    if not con.sql("SELECT count(*) FROM places").fetchall()[0][0]:
        raise GeosqlError("no reference data in this warehouse: run `geosql init` first")
    path = _index_path(con, warehouse_path(con))
    if path is not None and path.exists():
        return path
    tables = build_gazetteer(con)
    if path is None:
        return tables
    for old in path.parent.glob("gazetteer-*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    db = _private_db(tmp)
    _materialize(db, tables)
    db.close()
    tmp.rename(path)  # atomic: a crash never leaves a half-written index
    return path


def _materialize(db, tables: dict[str, pa.Table]) -> None:
    """Create the engine's lookup tables (g_gaz, g_names, g_prefix, g_tri, g_country, g_codes,
    g_words, g_common) in `db`'s current database."""
    for name, t in {**tables, **_word_tables()}.items():
        db.register("_t", t)
        db.execute(f"CREATE TABLE {name} AS FROM _t")
        db.unregister("_t")
    db.execute(
        # Fuzzy retrieval: trigrams of the names of countries, divisions, cities of 15,000+.
        "CREATE TABLE g_tri AS WITH k AS (SELECT DISTINCT key FROM g_gaz WHERE length(key) >= 5"
        " AND strlen(key) = length(key) AND NOT contains(key, '#') AND (f_country > 0"
        " OR f_admin1 > 0 OR f_us_state > 0 OR f_city_log_pop >= log10(15001)))"
        " SELECT left(key, 1) AS first, unnest(geo_trigrams(key)) AS tri, key,"
        " len(geo_trigrams(key)) AS n FROM k;"
        "CREATE TABLE g_prefix AS SELECT array_to_string(string_split(key, ' ')[1:2], ' ')"
        " AS prefix, max(len(string_split(key, ' '))) AS span FROM g_names"
        " WHERE contains(key, ' ') GROUP BY 1;"
        # Code and postcode mentions point at the country itself, with no name features.
        "CREATE TABLE g_country_full AS SELECT c.*, 1 AS n_strong,"
        " false AS country_z43, false AS city_z3,"
        + ", ".join(
            f"{1.0 if f == 'one_over_n_countries' else 0.0}::DOUBLE AS f_{f}"
            for f in STATIC_FEATURES
        )
        + " FROM g_country c;"
        "DROP TABLE g_country; ALTER TABLE g_country_full RENAME TO g_country;"
    )


# ------------------------------------------------------------------------------ engine


def _private_db(path: Path | None = None):
    """A DuckDB (in memory by default) with the geoparser's macros; never the warehouse."""
    import duckdb

    from geosql.paths import sql_dir

    db = duckdb.connect(str(path) if path else ":memory:")
    db.execute((sql_dir() / "geoparse" / "00_macros.sql").read_text(encoding="utf-8"))
    return db


def _word_tables() -> dict[str, pa.Table]:
    codes = sorted(US_STATES | US_STATES_AP | set(CA_PROVINCES) | AU_STATES)
    words = [(w, "prep") for w in PREPOSITIONS] + [(w, "cue") for w in PLACE_CUES]
    words += [(w, "type") for w in PLACE_TYPES]
    cues = [(cc, t) for cc, terms in sorted(COUNTRY_TERMS.items()) for t in terms]
    return {
        "g_codes": pa.table(
            {
                "code": codes,
                "us": [c in US_STATES or c in US_STATES_AP for c in codes],
                "ca": [c in CA_PROVINCES for c in codes],
                "au": [c in AU_STATES for c in codes],
            }
        ),
        "g_words": pa.table({"word": [w for w, _ in words], "kind": [k for _, k in words]}),
        "g_cues": pa.table(
            {
                "k": [t.split(" ")[0] for _, t in cues],
                "k1": [(t.split(" ") + [None])[1] for _, t in cues],
                "symbol": [not t[0].isalnum() for _, t in cues],
                "term": [t for _, t in cues],
                "cc": [cc for cc, _ in cues],
            }
        ),
        # Everyday English words (Zipf >= 3): never fuzzy-matched to a place name.
        "g_common": pa.table(
            {
                "word": [
                    w
                    for w, f in _english_frequencies().items()
                    if f >= 1e-6 and w.isascii() and w.isalpha()
                ]
            }
        ),
    }


# UTF-8 read as cp1252/latin-1: "Ã©" for é, "Â " for a no-break space, "â€™" for ’.
_MOJIBAKE = r"Ã[\x{80}-\x{BF}\x{152}-\x{192}\x{2C6}-\x{2DC}\x{2013}-\x{2122}]|Â[\x{80}-\x{BF}]|â€"


def _fix_mojibake(texts: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    # Mojibake is never ASCII: the regex reads only the other rows (most are ASCII).
    other = pc.indices_nonzero(pc.invert(pc.fill_null(pc.string_is_ascii(texts), True)))
    hit = pc.match_substring_regex(texts.take(other), _MOJIBAKE)
    rows = pc.filter(other, pc.fill_null(hit, False))
    if not len(rows):
        return texts
    import ftfy

    # Only the flagged rows go through Python.
    fixed = [ftfy.fix_text(t) for t in texts.take(rows).to_pylist()]
    bad = pc.is_in(pa.arange(0, len(texts)), value_set=rows)
    return pc.replace_with_mask(texts.cast(pa.string()), bad, pa.array(fixed, pa.string()))


# Steps that run only when they can add mentions (see Engine.features).
FUZZY_STEP, SPECIAL_STEP = "25_fuzzy.sql", "26_special.sql"
# What the decision (40_captions.sql, mentions) reads of each scored candidate.
_SCORED = "r, mid, cc, gid, lat, lon, mtext, s, e, f_country, f_us_state, f_admin1, f_abbreviation, f_city"


class Engine:
    """The offline geoparser: texts -> predictions and mentions, set-based in a private DuckDB.

    Steps live in sql/geoparse/*.sql (tokens, mentions, features, caption features); Python
    only finds postcodes and CJK names (few rows) and holds the trained weights.
    """

    def __init__(
        self,
        gazetteer: dict[str, pa.Table] | Path,
        model: dict | None = None,
        threshold: float | None = None,
        fuzzy: bool = False,
    ):
        """`fuzzy`: also look up unmatched capitalised words by trigram similarity (off by
        default: on the dev sets it changes about one answer in 600 and costs ~20% speed)."""
        from geosql.paths import sql_dir

        self.model = model if model is not None else load_model()
        self.threshold = self.model["threshold"] if threshold is None else threshold
        self.db = _private_db()
        if isinstance(gazetteer, dict):
            _materialize(self.db, gazetteer)
        else:  # the cached index, read in place
            p = str(gazetteer).replace("'", "''")
            self.db.execute(
                f"ATTACH '{p}' AS gz (READ_ONLY); SET search_path = 'memory.main,gz.main'"
            )
        self.fuzzy = fuzzy
        self.set_prior(self.model)
        self.db.execute(
            "CREATE TABLE g_special (r BIGINT, s BIGINT, e BIGINT, key VARCHAR, src VARCHAR,"
            " cc VARCHAR, score DOUBLE)"
        )
        self._steps = {
            f: (sql_dir() / "geoparse" / f).read_text(encoding="utf-8")
            for f in (
                "10_tokens.sql",
                "20_mentions.sql",
                FUZZY_STEP,
                SPECIAL_STEP,
                "30_features.sql",
            )
        }
        self._captions = (sql_dir() / "geoparse" / "40_captions.sql").read_text(encoding="utf-8")
        self._automaton = None

    def set_prior(self, model: dict) -> None:
        """The first pass that weighs support (macro g_prior over a g_feat0 row): the model's
        prior_coef/prior_intercept, or 1.0 (support as plain counts) when it has none."""
        if model.get("prior_coef"):
            z = " + ".join(
                f"{c!r} * x.f_{f}" for c, f in zip(model["prior_coef"], PRIOR_FEATURES, strict=True)
            )
            expr = f"1 / (1 + exp(-({model['prior_intercept']!r} + {z})))"
        else:
            expr = "1.0::DOUBLE"
        self.db.execute(f"CREATE OR REPLACE TEMP MACRO g_prior(x) AS {expr}")

    # -- steps
    def features(self, texts: list[str | None] | pa.Array | pa.ChunkedArray) -> None:
        """Run extract/retrieve/features over `texts`; the view g_feat has one row per
        candidate (computed when read)."""
        if isinstance(texts, pa.ChunkedArray):
            arr = texts.combine_chunks()
        else:
            arr = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
        arr = _fix_mojibake(arr)
        self.db.register("_in", pa.table({"r": pa.arange(0, len(arr)), "text": arr}))
        self.db.execute("CREATE OR REPLACE TEMP TABLE g_input AS FROM _in")
        self.db.unregister("_in")
        n_special = self._special(arr)
        for name, step in self._steps.items():
            # Optional steps run only when they can add mentions: fuzzy lookups when asked
            # for, postcodes/CJK names when the text has any (most batches have none).
            if (name == FUZZY_STEP and not self.fuzzy) or (name == SPECIAL_STEP and not n_special):
                continue
            self.db.execute(step)

    def feature_table(self) -> pa.Table:
        """g_feat in (r, mid, cc) order: what `score(p)` expects its `p` aligned to."""
        return self.db.sql("SELECT * FROM g_feat ORDER BY r, mid, cc").to_arrow_table()

    def _special(self, arr: pa.Array) -> int:
        """Postcodes (UK, Canada, Australia) and CJK names into g_special (Python regexes and an
        Aho-Corasick automaton, run only on the rows that can have them); returns how many."""
        import pyarrow.compute as pc

        rows: list[tuple] = []
        # One RE2 pass finds the few rows that can have either; Python reads only those.
        hit = pc.match_substring_regex(arr, _SPECIAL_RE2)
        auto = None
        for r in pc.indices_nonzero(pc.fill_null(hit, False)).to_pylist():
            text = arr[r].as_py()
            for cc, rx in POSTCODES:
                for mt in rx.finditer(text):
                    key = " ".join(mt.group().lower().split()) + "#abbr"
                    rows.append((r, mt.start(), mt.end(), key, "postcode", cc, 2.0))
            if _CJK.search(text):
                auto = auto or self.cjk_automaton()
                for end, key in auto.iter_long(text.lower()):
                    rows.append((r, end - len(key) + 1, end + 1, key, "cjk", None, None))
        self.db.execute("DELETE FROM g_special")
        if rows:
            self.db.executemany("INSERT INTO g_special VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def cjk_automaton(self):
        if self._automaton is None:
            import ahocorasick

            a = ahocorasick.Automaton()
            for (k,) in self.db.sql(
                "SELECT key FROM g_names WHERE NOT vague AND regexp_matches(key, ?)",
                params=[_CJK_RE2],
            ).fetchall():
                a.add_word(k, k)
            a.make_automaton()
            self._automaton = a
        return self._automaton

    def score(self, p: pa.Array | None = None) -> None:
        """g_scored: the columns the decision reads from g_feat (a view, computed here) plus
        each candidate's probability, from the model or given `p` aligned to
        `feature_table()` (the training script's out-of-fold scores)."""
        if p is None:
            w, b = self.model["coef"], self.model["intercept"]
            logit = " + ".join(f"{c!r} * f_{f}" for c, f in zip(w, FEATURES, strict=True))
            self.db.execute(
                f"CREATE OR REPLACE TEMP TABLE g_scored AS SELECT {_SCORED},"
                f" 1 / (1 + exp(-({b!r} + {logit}))) AS p FROM g_feat"
            )
            return
        self.db.register("_p", pa.table({"n": pa.array(range(1, len(p) + 1)), "p": p}))
        self.db.execute(
            "CREATE OR REPLACE TEMP TABLE g_scored AS SELECT f.* EXCLUDE (n), _p.p FROM"
            f" (SELECT {_SCORED}, row_number() OVER (ORDER BY r, mid, cc) AS n FROM g_feat) f"
            " JOIN _p USING (n)"
        )
        self.db.unregister("_p")

    def caption_features(self) -> pa.Table:
        """Second-stage inputs per caption with a candidate (from g_scored)."""
        self.db.execute(self._captions)
        return self.db.sql("SELECT * FROM g_capfeat ORDER BY r").to_arrow_table()

    def decide(self, threshold: float | None = None) -> tuple[pa.Table, pa.Table]:
        """(predictions r/country_code/confidence/mention, mentions) from g_scored."""
        t = self.threshold if threshold is None else threshold
        self.db.execute(self._captions)
        if self.model.get("caption_coef"):
            cw, cb = self.model["caption_coef"], self.model["caption_intercept"]
            z = " + ".join(f"{c!r} * {f}" for c, f in zip(cw, CAPTION_FEATURES, strict=True))
            located = f"1 / (1 + exp(-({cb!r} + {z})))"
        else:
            located = "p_top"
        preds = self.db.sql(
            f"""
            WITH d AS (SELECT r, cc, mention, {located} AS lp FROM g_capfeat)
            SELECT i.r,
                   CASE WHEN d.lp >= {t!r} THEN d.cc END AS country_code,
                   round(CASE WHEN d.lp IS NULL THEN 1.0 WHEN d.lp >= {t!r} THEN d.lp
                              ELSE 1 - d.lp END, 4) AS confidence,
                   d.mention
            FROM g_input i LEFT JOIN d USING (r)
            ORDER BY i.r
            """
        ).to_arrow_table()
        ments = self.db.sql(
            f"""
            SELECT r, mtext AS mention, s AS start_pos, e AS end_pos, gid AS geonameid,
                   cc AS country_code, lat, lon, round(p, 4) AS score
            FROM g_scored
            WHERE p >= {MIN_MENTION_SCORE!r}
            QUALIFY row_number() OVER (PARTITION BY mid ORDER BY p DESC, cc DESC) = 1
            ORDER BY mid
            """
        ).to_arrow_table()
        return preds, ments

    def parse(self, texts: list[str | None] | pa.Array) -> tuple[pa.Table, pa.Table]:
        self.features(texts)
        self.score()
        return self.decide()

    def parse_one(self, text: str | None) -> dict:
        """{country_code, confidence, mention, mentions} for one text (tests, the REPL)."""
        preds, ments = self.parse([text])
        out = preds.to_pylist()[0]
        out.pop("r")
        out["mentions"] = [{k: v for k, v in m.items() if k != "r"} for m in ments.to_pylist()]
        return out


@lru_cache(maxsize=1)
def load_model() -> dict:
    """The trained scoring model (udfs/geoparse_model.json); all-zero weights if absent."""
    import json

    f = Path(__file__).with_name("geoparse_model.json")
    if not f.exists():
        return {"coef": [0.0] * len(FEATURES), "intercept": 0.0, "threshold": 0.5}
    d = json.loads(f.read_text())
    if d["features"] != FEATURES or d.get("caption_features", CAPTION_FEATURES) != CAPTION_FEATURES:
        raise RuntimeError(
            f"{f} was trained with other features: retrain with scripts/train_geoparser.py"
        )
    return d


def _model_digest() -> str:
    import hashlib

    f = Path(__file__).with_name("geoparse_model.json")
    return hashlib.sha1(f.read_bytes()).hexdigest()[:10] if f.exists() else "untrained"


def _default_threshold() -> float:
    try:
        return load_model()["threshold"]
    except RuntimeError:
        return 0.5


# ------------------------------------------------------------------------------ stage + UDF

MIN_MENTION_SCORE = 0.05  # weaker mentions are noise ("The", "Ring") and are not stored


def _setup(con, cfg: dict) -> Engine:
    """An Engine over this warehouse's gazetteer (the cache is built on first use)."""
    return Engine(load_gazetteer(con), threshold=cfg["threshold"], fuzzy=cfg["fuzzy"])


def _process(engine: Engine, batch: pa.Table, cfg: dict) -> BatchResult:
    preds, ments = engine.parse(batch["text"])
    ids = batch["caption_id"]
    method = pa.array([cfg["method"]] * len(preds), pa.string())
    preds = pa.table(
        {
            "caption_id": ids,  # one prediction per input row, in input order
            "country_code": preds["country_code"],
            "confidence": preds["confidence"],
            "evidence": preds["mention"],
            "method": method,
        }
    )
    ments = ments.drop_columns(["r"]).add_column(0, "caption_id", ids.take(ments["r"]))
    ments = ments.append_column("method", pa.array([cfg["method"]] * len(ments), pa.string()))
    return BatchResult({"geo_predictions": preds, "geo_mentions": ments})


@registry.udf(
    "geoparse",
    ["VARCHAR"],
    "STRUCT(country_code VARCHAR, confidence DOUBLE, mention VARCHAR)",
    factory=True,
    type="arrow",
)
def _geoparse_udf_factory(con):
    """geoparse(text) -> {country_code, confidence, mention}: the offline geoparser in SQL.

    Uses the gazetteer cached beside the warehouse (built by `geosql init` or a geoparse run).
    """
    import threading

    path = warehouse_path(con)
    try:
        index = _index_path(con, path)
    except Exception:  # tables missing (read-only old file...): fail at call time instead
        index = None
    state: dict[str, Engine] = {}
    lock = threading.Lock()

    def geoparse(texts: pa.Array) -> pa.Array:
        with lock:
            if "engine" not in state:
                if index is None or not index.exists():
                    raise RuntimeError(
                        "geoparse(): no gazetteer for this warehouse yet; run `geosql init` first"
                    )
                state["engine"] = Engine(index)
            arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
            preds, _ = state["engine"].parse(arr.cast(pa.string()))
        return pa.StructArray.from_arrays(
            [
                preds["country_code"].combine_chunks(),
                preds["confidence"].combine_chunks(),
                preds["mention"].combine_chunks(),
            ],
            names=["country_code", "confidence", "mention"],
        )

    return geoparse


registry.stage(
    Stage(
        name="geoparse",
        description="Offline geoparser: caption -> country over GeoNames (method 'offline').",
        inputs="SELECT caption_id, text FROM captions",
        done="SELECT caption_id FROM geo_predictions WHERE method = {method} AND config_key = $config_key",
        outputs={"geo_predictions": "method = {method}", "geo_mentions": "method = {method}"},
        process=_process,
        setup=_setup,
        defaults={"method": "offline", "threshold": _default_threshold(), "fuzzy": False},
        version=f"{GAZETTEER_VERSION}-{_model_digest()}",  # a retrained model reruns
        batch_size=250_000,  # >= 2 DuckDB row groups, so both cores work
    )
)
