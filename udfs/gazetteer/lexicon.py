"""Word lists the geoparser reads (data files in `lexicons/`) and fixed patterns.

Each list is a plain text file, one entry per line (`#` starts a comment line); two-column lists
are tab-separated. Edit the files, not this module, to change what the parser knows: an edit
builds a new index on the next run and reruns the captions (index.source_digest).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

LEXICONS = Path(__file__).with_name("lexicons")
MAX_NGRAM = 5

# Candidate kinds (also the order in which a country's places answer a name).
COUNTRY, DEMONYM, ADMIN1, CITY, FEATURE = 0, 1, 2, 3, 4


def _lines(name: str) -> list[str]:
    text = (LEXICONS / name).read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def words(name: str) -> set[str]:
    """The entries of `lexicons/<name>.txt`."""
    return {ln.strip() for ln in _lines(f"{name}.txt")}


def pairs(name: str) -> list[tuple[str, str]]:
    """The (first, second) columns of `lexicons/<name>.tsv`, in file order."""
    out = []
    for ln in _lines(f"{name}.tsv"):
        a, b = ln.split("\t", 1)
        out.append((a.strip(), b.strip()))
    return out


VAGUE = words("vague")
PLACE_CUES = words("place_cues")
PREPOSITIONS = words("prepositions")
PLACE_TYPES = words("place_types")
PRODUCT_NOUNS = words("product_nouns")
LISTING_CUES = words("listing_cues")
STREET_TYPES = words("street_types")
US_STATES = words("us_states")
US_STATES_AP = words("us_states_ap")
AU_STATES = words("au_states")
UK_POSTCODE_AREAS = words("uk_postcode_areas")
# GeoNames admin1 codes of Canadian provinces -> postal abbreviations.
CA_PROVINCES = dict(pairs("ca_provinces"))


@lru_cache(maxsize=1)
def country_terms() -> dict[str, list[str]]:
    """country -> terms that place a caption there ("£", "semi detached", "bhk", "gmbh")."""
    out: dict[str, list[str]] = {}
    for cc, term in pairs("country_terms"):
        out.setdefault(cc, []).append(term)
    return out


COUNTRY_TERMS = country_terms()

# Scripts written without spaces (kana, CJK ideographs, Hangul), for Python re and for RE2.
_CJK_RANGES = [(0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF)]
CJK = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _CJK_RANGES) + "]")
CJK_RE2 = "[" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in _CJK_RANGES) + "]"
POSTCODES = [
    ("GB", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b")),
    ("CA", re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b")),
    ("AU", re.compile(r"\b(?:NSW|QLD|VIC|Vic|WA|SA|TAS|Tas|ACT|NT),? \d{4}\b")),
]
SPECIAL_RE2 = "|".join([CJK_RE2] + [rx.pattern for _, rx in POSTCODES])
