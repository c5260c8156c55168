"""Offline geoparser over the GeoNames tables: extract -> retrieve -> predict, no API.

Extract: captions are split into word tokens; every 1..5-token n-gram is looked up in an
in-memory index of normalized place names (longest match wins). CJK text, which has no spaces,
goes through an Aho-Corasick automaton over the CJK names. Retrieve: each mention brings its
candidate places (country, division, city with population). Predict: candidates are scored from
place type, population, how common the name is as an everyday word (wordfreq), capitalisation,
"City, ST" patterns and co-mentioned containing regions; the best-supported country wins or the
caption gets no place.
"""

from __future__ import annotations

import math
import operator
import pickle
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from geosql.registry import BatchResult, Stage, registry

GAZETTEER_VERSION = "11"
MAX_NGRAM = 5

# Candidate kinds.
COUNTRY, DEMONYM, ADMIN1, CITY = 0, 1, 2, 3
KIND_NAMES = {COUNTRY: "country", DEMONYM: "demonym", ADMIN1: "admin1", CITY: "city"}

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

# Word characters plus the combining marks of scripts that use them inside words (Devanagari...).
_TOKEN = re.compile(
    r"(?:[^\W_]|[\u0300-\u036f\u0591-\u05c7\u064b-\u065f\u0900-\u0dff\u0e00-\u0e7f\u1000-\u109f])+"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_ZIP = re.compile(r"^\d{5}$")
POSTCODES = [
    ("GB", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b")),
    ("CA", re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b")),
    ("AU", re.compile(r"\b(?:NSW|QLD|VIC|Vic|WA|SA|TAS|Tas|ACT|NT),? \d{4}\b")),
]


@lru_cache(maxsize=200_000)
def norm_token(tok: str) -> str:
    """Lower-case, accents stripped (same for names and text)."""
    low = tok.lower()
    if low.isascii():
        return low
    return "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))


def name_key(name: str) -> str:
    return " ".join(norm_token(t) for t in _TOKEN.findall(name))


@lru_cache(maxsize=1)
def _english_frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en")


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


@dataclass
class Gazetteer:
    """Index of normalized place names -> candidate (country, kind, population, place)."""

    index: dict[str, tuple[int, ...]]
    country: list[str]
    kind: list[int]
    pop: list[int]
    gid: list[int]
    lat: list[float]
    lon: list[float]
    admin1: list[str]
    cjk_names: list[str]
    country_names: dict[str, str]
    capitals: set[tuple[str, str]] = field(default_factory=set)
    span: dict[str, int] = field(default_factory=dict)  # first word -> longest name (words)
    automaton: Any = field(default=None, repr=False)

    def cjk_automaton(self):
        if self.automaton is None:
            import ahocorasick

            a = ahocorasick.Automaton()
            for k in self.cjk_names:
                a.add_word(k, k)
            a.make_automaton()
            self.automaton = a
        return self.automaton


def build_gazetteer(con) -> Gazetteer:
    """Build the index from the warehouse's places/place_names/country_aliases tables."""
    rows = con.sql(
        """
        SELECT n.name, p.geonameid, p.country_code, p.feature_code, p.feature_class,
               coalesce(p.population, 0) AS population, p.lat, p.lon, p.admin1_code, n.lang
        FROM place_names n JOIN places p USING (geonameid)
        WHERE p.country_code IS NOT NULL AND p.feature_code <> 'CONT'
        ORDER BY p.geonameid, n.name  -- deterministic candidate numbering and tie-breaks
        """
    ).to_arrow_table()
    cols = {c: rows[c].to_pylist() for c in rows.column_names}
    country: list[str] = []
    kind: list[int] = []
    pop: list[int] = []
    gid: list[int] = []
    lat: list[float] = []
    lon: list[float] = []
    admin1: list[str] = []
    place_idx: dict[tuple[int, int], int] = {}
    index: dict[str, set[int]] = {}
    cjk: set[str] = set()
    for i in range(rows.num_rows):
        fc = cols["feature_code"][i] or ""
        k = (
            (COUNTRY if cols["lang"][i] != "demonym" else DEMONYM)
            if fc.startswith("PCL")
            else (ADMIN1 if fc == "ADM1" else CITY)
        )
        g = cols["geonameid"][i]
        key = name_key(cols["name"][i])
        if not key or key in VAGUE or key.count(" ") >= MAX_NGRAM or key.isdigit():
            continue
        if _CJK.search(key):
            if len(key) < 2:
                continue
            cjk.add(key)
        elif len(key) < 3 and k == CITY:
            continue
        pi = place_idx.get((g, k))
        if pi is None:
            pi = place_idx[(g, k)] = len(country)
            country.append(cols["country_code"][i])
            kind.append(k)
            pop.append(int(cols["population"][i] or 0))
            gid.append(g)
            lat.append(cols["lat"][i])
            lon.append(cols["lon"][i])
            admin1.append(cols["admin1_code"][i])
        index.setdefault(key, set()).add(pi)
    # Keep per key the strongest candidate per (country, kind): enough to decide, much smaller.
    compact: dict[str, tuple[int, ...]] = {}
    for key, cands in index.items():
        best: dict[tuple[str, int], int] = {}
        for c in cands:
            bk = (country[c], kind[c])
            if bk not in best or pop[c] > pop[best[bk]]:
                best[bk] = c
        ordered = sorted(best.values(), key=lambda c: (kind[c], -pop[c]))
        # Everyday words ("ring", "oak", "spring") name many small places: keep those
        # candidates only for big cities, so they cost nothing on ordinary text.
        if any(kind[c] == CITY for c in ordered) and _common(key, 4.5):
            ordered = [c for c in ordered if kind[c] != CITY or pop[c] >= 100_000]
        # Function words ("the", "of", "us") are never places, except a country code written
        # in capitals ("US", "UK"), which `mentions` checks.
        if _common(key, 5.5):
            ordered = [c for c in ordered if kind[c] == COUNTRY]
        if ordered:
            compact[key] = tuple(ordered[:12])
    # Names written as one word in hashtags, URLs and file names: "capetown", "newyork".
    for key in [k for k in compact if 1 <= k.count(" ") <= 2 and k.isascii()]:
        joined = key.replace(" ", "")
        if len(joined) >= 7 and joined not in compact:
            compact[joined] = compact[key]
    # Vague regions are indexed with no candidates: the longest match consumes them, so
    # "Latin America" never falls back to "America".
    for key in VAGUE:
        compact[name_key(key)] = ()
    span: dict[str, int] = {}
    for key in compact:
        if " " in key:
            first, n_words = key.split(" ", 1)[0], key.count(" ") + 1
            span[first] = max(span.get(first, 1), n_words)
    names = dict(con.sql("SELECT iso2, name FROM countries").fetchall())
    capitals = {
        (cc, name_key(cap))
        for cc, cap in con.sql(
            "SELECT iso2, capital FROM countries WHERE capital IS NOT NULL"
        ).fetchall()
    }
    return Gazetteer(
        compact, country, kind, pop, gid, lat, lon, admin1, sorted(cjk), names, capitals, span
    )


def _cache_path(con, warehouse: str | None) -> Path | None:
    if not warehouse or warehouse == ":memory:":
        return None
    from geosql.paths import models_dir

    n = con.sql(
        "SELECT (SELECT count(*) FROM places), (SELECT count(*) FROM place_names)"
    ).fetchall()[0]
    return models_dir(warehouse) / f"gazetteer-v{GAZETTEER_VERSION}-{n[0]}-{n[1]}.pkl"


def warehouse_path(con) -> str | None:
    """File path of the database `con` is attached to (None for in-memory)."""
    rows = con.sql(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def load_gazetteer(con) -> Gazetteer:
    """The gazetteer for this warehouse, cached as a pickle beside it (rebuilt when data changes)."""
    from geosql.errors import GeosqlError

    if not con.sql("SELECT count(*) FROM places").fetchall()[0][0]:
        raise GeosqlError("no reference data in this warehouse: run `geosql init` first")
    path = _cache_path(con, warehouse_path(con))
    if path is not None and path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    gaz = build_gazetteer(con)
    if path is not None:
        for old in path.parent.glob("gazetteer-*.pkl"):
            old.unlink()
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(gaz, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    return gaz


# ------------------------------------------------------------------------------ parsing


@dataclass
class Mention:
    text: str
    start: int
    end: int
    key: str
    candidates: tuple[int, ...]
    scores: dict[str, float] = field(default_factory=dict)  # country -> support
    best: dict[str, int] = field(default_factory=dict)  # country -> candidate index


@dataclass
class Parse:
    country_code: str | None
    confidence: float
    mention: str | None
    mentions: list[Mention]


def _fix_mojibake(text: str) -> str:
    if "Ã" in text or "Â" in text or "â€" in text:
        import ftfy

        return ftfy.fix_text(text)
    return text


class Geoparser:
    """Caption text -> Parse. Pure Python over an in-memory Gazetteer; no database access."""

    def __init__(
        self,
        gaz: Gazetteer,
        threshold: float | None = None,
        model: dict | None = None,
    ):
        """`model`: coef/intercept/threshold (+ caption_coef/caption_intercept); default:
        udfs/geoparse_model.json. `threshold` overrides the model's decision threshold."""
        self.g = gaz
        m = model if model is not None else load_model()
        self.weights, self.bias = m["coef"], m["intercept"]
        self.caption_model = (
            (m["caption_coef"], m["caption_intercept"]) if m.get("caption_coef") else None
        )
        self.threshold = m["threshold"] if threshold is None else threshold
        self._facts: dict[tuple, tuple] = {}

    # -- extract
    def mentions(self, text: str) -> tuple[list[Mention], list[tuple[str, int, int]]]:
        toks = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        keys = [norm_token(t[0]) for t in toks]
        index, span = self.g.index, self.g.span
        out: list[Mention] = []
        i, n = 0, len(toks)
        while i < n:
            for size in range(min(span.get(keys[i], 1), n - i), 0, -1):
                key = keys[i] if size == 1 else " ".join(keys[i : i + size])
                cands = index.get(key)
                if cands == ():  # a vague region: consume the words, no mention
                    i += size
                    break
                if (
                    cands
                    and size == 1
                    and len(key) <= 3
                    and zipf(key) >= 5.5
                    and not toks[i][0].isupper()
                ):
                    cands = None  # "us" the pronoun, not "US"
                if cands:
                    s, e = toks[i][1], toks[i + size - 1][2]
                    out.append(Mention(text[s:e], s, e, key, cands))
                    i += size
                    break
            else:
                i += 1
        if _CJK.search(text):
            low = text.lower()
            taken = [(m.start, m.end) for m in out]
            for end, key in self.g.cjk_automaton().iter_long(low):
                s = end - len(key) + 1
                if not any(a < end + 1 and s < b for a, b in taken):
                    out.append(Mention(text[s : end + 1], s, end + 1, key, index[key]))
        return out, toks

    # -- features and prediction
    def candidates(
        self, text: str | None
    ) -> tuple[list[Mention], list[tuple[Mention, str, list[float]]], dict[str, float]]:
        """Mentions, one feature vector per (mention, candidate country), caption-level facts."""
        if not text:
            return [], [], {}
        text = _fix_mojibake(text)
        ments, toks = self.mentions(text)
        self._abbreviations(text, toks, ments)
        if not ments:
            return ments, [], {}
        g = self.g
        words = [t[0] for t in toks if t[0][:1].isalpha()]
        n_cap = sum(1 for w in words if w[0].isupper())
        cap_info = bool(words) and 0 < n_cap <= 0.6 * len(words) and not text.isupper()
        low_words = {norm_token(w) for w in words}
        place_cue = bool(low_words & PLACE_CUES)
        info = {
            "place_cue": float(place_cue),
            "cap_info": float(cap_info),
            "log_words": math.log10(len(words) + 1),
            "sentence": float(cap_info and text.rstrip()[-1:] in ".!?" and len(words) >= 6),
        }
        tok_index = {t[1]: j for j, t in enumerate(toks)}
        spans = {(m.start, m.end) for m in ments}
        # Countries supported by country/division mentions, and by any mention.
        strong: dict[str, int] = {}
        anyc: dict[str, int] = {}
        for m in ments:
            cs = {g.country[c] for c in m.candidates}
            for c in cs:
                anyc[c] = anyc.get(c, 0) + 1
            for c in m.candidates:
                if g.kind[c] in (COUNTRY, ADMIN1) or m.key.endswith("#abbr"):
                    strong[g.country[c]] = strong.get(g.country[c], 0) + 1
        rows: list[tuple[Mention, str, list[float]]] = []
        seen: set[tuple[str, str]] = set()
        for m in ments:
            j = tok_index.get(m.start)
            prev_tok = toks[j - 1][0] if j else ""
            prev_end = toks[j - 1][2] if j else 0
            jn = j + m.key.count(" ") + 1 if j is not None else None
            next_tok = toks[jn][0] if jn is not None and jn < len(toks) else ""
            between_prev = text[prev_end : m.start] if j else ""
            latin = m.text[:1].lower() != m.text[:1].upper()
            # Scripts without case (CJK, Devanagari, Arabic...) look like a capitalised name.
            is_cap = m.text[:1].isupper() or not latin
            cap_info_m = cap_info or not latin
            sent_start = j == 0 or bool(
                between_prev.strip(" \"'(") and between_prev.strip()[-1:] in ".!?:|-"
            )
            prep = norm_token(prev_tok) in PREPOSITIONS and "," not in between_prev
            adj_cap = bool(
                cap_info
                and (
                    (
                        prev_tok[:1].isupper()
                        and between_prev == " "
                        and (toks[j - 1][1], toks[j - 1][2]) not in spans
                    )
                    or (next_tok[:1].isupper() and norm_token(next_tok) not in PLACE_TYPES)
                )
            )
            next_type = norm_token(next_tok) in PLACE_TYPES
            z, n_tok, all_common, by_country, top_pop_value = self._key_facts(m)
            for cc, c in by_country.items():
                if (m.key, cc) in seen:
                    continue
                seen.add((m.key, cc))
                k = g.kind[c]
                abbr = m.key.endswith("#abbr")
                lp = math.log10(g.pop[c] + 1) if k == CITY else 0.0
                top_pop = k == CITY and g.pop[c] >= top_pop_value
                city = k == CITY
                cap_mixed = cap_info_m and is_cap
                x = [
                    1.0 if k == COUNTRY and not abbr else 0.0,
                    1.0
                    if k == COUNTRY and z >= 4.3 and not cap_mixed and not m.text.isupper()
                    else 0.0,
                    1.0 if k == DEMONYM else 0.0,
                    1.0 if k == ADMIN1 and cc == "US" else 0.0,
                    1.0 if k == ADMIN1 and cc != "US" else 0.0,
                    1.0 if k == ADMIN1 and z >= 4.0 else 0.0,
                    1.0 if city else 0.0,
                    lp,
                    1.0 if city and g.pop[c] >= 100_000 else 0.0,
                    1.0 if city and g.pop[c] >= 1_000_000 else 0.0,
                    1.0 if city and (cc, m.key) in g.capitals else 0.0,
                    z if city else 0.0,
                    1.0 if city and z >= 4.0 else 0.0,
                    1.0 if city and z >= 3.0 and not cap_mixed else 0.0,
                    max(0.0, z - (lp - 2.0)) if city else 0.0,
                    1.0 if city and g.pop[c] >= 500_000 else 0.0,
                    1.0 if all_common else 0.0,
                    (m.scores.get(cc, 0.0) / 2.5) if abbr else 0.0,
                    min(n_tok, 3) - 1.0,
                    1.0 if len(m.key) <= 4 else 0.0,
                    1.0 if cap_mixed else 0.0,
                    1.0 if cap_info_m and not is_cap else 0.0,
                    1.0 if sent_start else 0.0,
                    1.0 if prep else 0.0,
                    1.0 if place_cue else 0.0,
                    1.0 if adj_cap else 0.0,
                    1.0 if next_type else 0.0,
                    min(strong.get(cc, 0) - (1 if k in (COUNTRY, ADMIN1) or abbr else 0), 2),
                    min(anyc.get(cc, 0) - 1, 3),
                    1.0 / len(by_country),
                    1.0 if top_pop else 0.0,
                    1.0 if _CJK.search(m.key) or not m.key.isascii() else 0.0,
                ]
                rows.append((m, cc, x))
        return ments, rows, info

    def _key_facts(self, m: Mention) -> tuple[float, int, bool, dict[str, int], int]:
        """What depends on the name alone (memoized): commonness, length, best place per country."""
        memo_key = (m.key, m.candidates)
        facts = self._facts.get(memo_key)
        if facts is not None:
            return facts
        g = self.g
        z = zipf(m.key) if not (_CJK.search(m.key) or m.key.endswith("#abbr")) else 0.0
        n_tok = m.key.count(" ") + 1
        # Multi-word names made of everyday words: "The Gap", "Iron Mountain", "White Oak".
        words_m = [w for w in m.key.split(" ") if w not in {"the", "a", "an", "of"}]
        all_common = n_tok > 1 and bool(words_m) and all(zipf(w) >= 3.5 for w in words_m)
        # Prefer the country itself, then a big city over a same-named division ("Tokyo",
        # "New York"), then the division, then the most populous place.
        by_country: dict[str, int] = {}
        for c in m.candidates:
            cc = g.country[c]
            if cc not in by_country or _rank(g, c) < _rank(g, by_country[cc]):
                by_country[cc] = c
        top_pop = max(g.pop[c] for c in by_country.values())
        facts = (z, n_tok, all_common, by_country, top_pop)
        if len(self._facts) > 500_000:
            self._facts.clear()
        self._facts[memo_key] = facts
        return facts

    def parse(self, text: str | None) -> Parse:
        ments, rows, info = self.candidates(text)
        w, b = self.weights, self.bias
        prob: dict[str, float] = {}
        best: dict[str, tuple[float, Mention, list[float]]] = {}
        for m, cc, x in rows:
            p = 1.0 / (1.0 + math.exp(-(b + sum(map(operator.mul, w, x)))))
            m.scores[cc] = max(p, m.scores.get(cc, 0.0))
            prob[cc] = max(p, prob.get(cc, 0.0))
            if cc not in best or p > best[cc][0]:
                best[cc] = (p, m, x)
        for m in ments:
            for cc in list(m.best):
                if cc not in m.scores:
                    del m.best[cc]
            for c in m.candidates:
                cc = self.g.country[c]
                if cc in m.scores and cc not in m.best:
                    m.best[cc] = c
        if not prob:
            return Parse(None, 1.0, None, ments)
        win = max(prob, key=prob.get)
        p = self.located_probability(prob, best[win][2], info)
        if p < self.threshold:
            return Parse(None, round(1.0 - p, 4), best[win][1].text, ments)
        return Parse(win, round(p, 4), best[win][1].text, ments)

    def located_probability(
        self, prob: dict[str, float], x_top: list[float], info: dict[str, float]
    ) -> float:
        """Second stage: does the caption name a place at all? (the best country's p otherwise)."""
        top = max(prob.values())
        if self.caption_model is None:
            return top
        coef, bias = self.caption_model
        f = caption_features(prob, x_top, info)
        return 1.0 / (1.0 + math.exp(-(bias + sum(map(operator.mul, coef, f)))))

    def _abbreviations(self, text: str, toks: list, ments: list[Mention]) -> None:
        """'Austin, TX', 'Toronto, ON', 'TX 78701', 'in NC': state and province codes; postcodes."""
        for j in range(1, len(toks)):
            tok, s, e = toks[j]
            if not (tok.isupper() and 2 <= len(tok) <= 3):
                continue
            prev_end = toks[j - 1][2]
            between = text[prev_end:s]
            after_zip = j + 1 < len(toks) and _ZIP.match(toks[j + 1][0])
            after_prep = (
                len(tok) == 2
                and between == " "
                and norm_token(toks[j - 1][0]) in {"in", "from"}
                and not text.isupper()
            )
            if "," not in between and not after_zip and not after_prep:
                continue
            cc = None
            if tok in US_STATES:
                cc = "US"
            elif tok in CA_PROVINCES and not after_prep:
                cc = "CA"
            elif tok in AU_STATES and "," in between:
                cc = "AU"
            if cc is None or any(m.start <= s < m.end for m in ments):
                continue
            prev_is_place = any(m.end == prev_end for m in ments)
            self._code_mention(
                ments, tok, s, e, cc, 2.5 if (prev_is_place or after_zip or after_prep) else 1.2
            )
        # Postcodes: UK "N5 1TB", Canada "V6K 2G4", Australia "VIC 3129".
        for cc, rx in POSTCODES:
            for mt in rx.finditer(text):
                # A postcode outranks a name it overlaps ("Vic" in "Vic 3213").
                ments[:] = [m for m in ments if m.end <= mt.start() or m.start >= mt.end()]
                self._code_mention(ments, mt.group(), mt.start(), mt.end(), cc, 2.0)

    def _code_mention(
        self, ments: list[Mention], tok: str, s: int, e: int, cc: str, score: float
    ) -> None:
        """A pre-scored mention of country `cc` from a state code or postcode."""
        g = self.g
        cands = g.index.get(name_key(g.country_names.get(cc, "")), ())
        idx = next((c for c in cands if g.country[c] == cc), None)
        if idx is not None:
            m = Mention(tok, s, e, f"{tok.lower()}#abbr", (idx,))
            m.scores = {cc: score}
            ments.append(m)


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
FEATURES = [
    "country",
    "country_common_word",
    "demonym",
    "us_state",
    "admin1",
    "admin1_common_word",
    "city",
    "city_log_pop",
    "city_pop_100k",
    "city_pop_1m",
    "city_capital",
    "city_zipf",
    "city_common_word",
    "city_common_uncapitalised",
    "city_excess_zipf",
    "city_pop_500k",
    "multi_all_common",
    "abbreviation",
    "n_tokens",
    "short",
    "cap_in_mixed",
    "lower_in_mixed",
    "sentence_start",
    "preposition",
    "place_cue",
    "adjacent_capital",
    "next_is_place_type",
    "supported_by_division",
    "supported_by_mentions",
    "one_over_n_countries",
    "most_populous",
    "non_latin",
]


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


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def caption_features(
    prob: dict[str, float], x_top: list[float], info: dict[str, float]
) -> list[float]:
    """Caption-level features for the located/no-place decision (CAPTION_FEATURES order)."""
    ps = sorted(prob.values(), reverse=True)
    f = dict(zip(FEATURES, x_top, strict=True))
    return [
        _logit(ps[0]),
        _logit(ps[1]) if len(ps) > 1 else -5.0,
        float(sum(1 for q in ps if q >= 0.2)),
        f["country"],
        max(f["us_state"], f["admin1"], 1.0 if f["abbreviation"] > 0 else 0.0),
        f["city"],
        info.get("place_cue", 0.0),
        info.get("cap_info", 0.0),
        info.get("log_words", 0.0),
        info.get("sentence", 0.0),
    ]


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


def _rank(g: Gazetteer, c: int) -> tuple[float, int]:
    big_city = g.kind[c] == CITY and g.pop[c] >= 100_000
    return (1.5 if big_city else g.kind[c], -g.pop[c])


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

_parsers: dict[str, Geoparser] = {}


def geoparser_for(con, threshold: float | None = None) -> Geoparser:
    key = f"{warehouse_path(con)}:{threshold}"
    if key not in _parsers:
        _parsers[key] = Geoparser(load_gazetteer(con), threshold)
    return _parsers[key]


MIN_MENTION_SCORE = 0.05  # weaker mentions are noise ("The", "Ring") and are not stored

PRED_COLS = ("caption_id", "country_code", "confidence", "evidence")
MENTION_COLS = (
    "caption_id",
    "mention",
    "start_pos",
    "end_pos",
    "geonameid",
    "country_code",
    "lat",
    "lon",
    "score",
)


def parse_rows(gp: Geoparser, ids: list[str], texts: list[str | None]):
    """Parse captions -> (prediction rows, mention rows, errors) as plain tuples."""
    preds, ments, errors = [], [], []
    g = gp.g
    for cid, text in zip(ids, texts, strict=True):
        try:
            r = gp.parse(text)
        except Exception as e:  # one bad caption never stops the run
            errors.append((cid, type(e).__name__, str(e)))
            continue
        preds.append((cid, r.country_code, round(r.confidence, 4), r.mention))
        for m in r.mentions:
            if not m.scores:
                continue
            top = max(m.scores, key=m.scores.get)
            if m.scores[top] < MIN_MENTION_SCORE:
                continue
            i = m.best[top]
            ments.append(
                (
                    cid,
                    m.text,
                    m.start,
                    m.end,
                    g.gid[i],
                    top,
                    g.lat[i],
                    g.lon[i],
                    round(m.scores[top], 4),
                )
            )
    return preds, ments, errors


# Worker processes (spawned, so no state is shared with DuckDB's threads) load the gazetteer
# from the pickle cached beside the warehouse.
_WORKER: dict[str, Geoparser] = {}


def _worker_init(cache: str, threshold: float) -> None:
    with open(cache, "rb") as f:
        _WORKER["gp"] = Geoparser(pickle.load(f), threshold)


def _worker_parse(chunk: tuple[list[str], list[str | None]]):
    return parse_rows(_WORKER["gp"], *chunk)


@dataclass
class _State:
    gp: Geoparser
    pool: Any = None
    workers: int = 1


def _setup(con, cfg: dict) -> _State:
    import os

    gp = geoparser_for(con, cfg["threshold"])
    workers = cfg["workers"] or (os.cpu_count() or 1)
    cache = _cache_path(con, warehouse_path(con))
    if workers <= 1 or cache is None or not cache.exists():
        return _State(gp)
    import multiprocessing as mp

    pool = mp.get_context("spawn").Pool(
        workers, initializer=_worker_init, initargs=(str(cache), gp.threshold)
    )
    return _State(gp, pool, workers)


def _teardown(state: _State) -> None:
    if state.pool is not None:
        state.pool.terminate()
        state.pool.join()


def _process(state: _State, batch: pa.Table, cfg: dict) -> BatchResult:
    ids = batch["caption_id"].to_pylist()
    texts = batch["text"].to_pylist()
    if state.pool is not None and len(ids) >= 1000:
        step = -(-len(ids) // (state.workers * 2))
        chunks = [(ids[i : i + step], texts[i : i + step]) for i in range(0, len(ids), step)]
        parts = state.pool.map(_worker_parse, chunks)
    else:
        parts = [parse_rows(state.gp, ids, texts)]
    preds = [r for p in parts for r in p[0]]
    ments = [r for p in parts for r in p[1]]
    errors = [r for p in parts for r in p[2]]
    method = cfg["method"]

    def table(rows: list[tuple], cols: tuple[str, ...]) -> pa.Table:
        t = pa.table({c: [r[k] for r in rows] for k, c in enumerate(cols)})
        return t.append_column("method", pa.array([method] * len(rows), pa.string()))

    return BatchResult(
        {"geo_predictions": table(preds, PRED_COLS), "geo_mentions": table(ments, MENTION_COLS)},
        errors=errors,
    )


@registry.udf(
    "geoparse",
    ["VARCHAR"],
    "STRUCT(country_code VARCHAR, confidence DOUBLE, mention VARCHAR)",
    factory=True,
)
def _geoparse_udf_factory(con):
    """geoparse(text) -> {country_code, confidence, mention}: the offline geoparser in SQL.

    Uses the gazetteer cached beside the warehouse (built by `geosql init` or a geoparse run).
    """
    path = warehouse_path(con)
    try:
        cache = _cache_path(con, path)
    except Exception:  # tables missing (read-only old file...): fail at call time instead
        cache = None
    state: dict[str, Geoparser] = {}

    def geoparse(text: str) -> dict:
        if "gp" not in state:
            if cache is None or not cache.exists():
                raise RuntimeError(
                    "geoparse(): no gazetteer for this warehouse yet; run `geosql init` first"
                )
            with cache.open("rb") as f:
                state["gp"] = Geoparser(pickle.load(f))
        r = state["gp"].parse(text)
        return {"country_code": r.country_code, "confidence": r.confidence, "mention": r.mention}

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
        teardown=_teardown,
        defaults={"method": "offline", "threshold": _default_threshold(), "workers": 0},
        runtime_keys=("workers",),
        version=f"{GAZETTEER_VERSION}-{_model_digest()}",  # a retrained model reruns
        batch_size=5000,
    )
)
