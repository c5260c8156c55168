"""The lexicons as small tables copied into each geoparser index (the SQL joins them)."""

from __future__ import annotations

import pyarrow as pa

from udfs.gazetteer.features import english_frequencies, person_context_words
from udfs.gazetteer.lexicon import (
    AU_STATES,
    CA_PROVINCES,
    COUNTRY_TERMS,
    LISTING_CUES,
    PLACE_CUES,
    PLACE_TYPES,
    PREPOSITIONS,
    PRODUCT_NOUNS,
    STREET_TYPES,
    UK_POSTCODE_AREAS,
    US_STATES,
    US_STATES_AP,
)
from udfs.gazetteer.points import continent_points


def word_tables() -> dict[str, pa.Table]:
    """The word lists and fixed points as tables the geoparser's SQL joins (g_words, g_cues...)."""
    codes = sorted(US_STATES | US_STATES_AP | set(CA_PROVINCES) | AU_STATES)
    words = [(w, "prep") for w in PREPOSITIONS] + [(w, "cue") for w in PLACE_CUES]
    words += [(w, "type") for w in PLACE_TYPES] + [(w, "product") for w in sorted(PRODUCT_NOUNS)]
    words += [(w, "listing") for w in sorted(LISTING_CUES)] + person_context_words()
    words += [(w, "street") for w in sorted(STREET_TYPES)]
    words += [(w, "ukarea") for w in sorted(UK_POSTCODE_AREAS)]
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
                    for w, f in english_frequencies().items()
                    if f >= 1e-6 and w.isascii() and w.isalpha()
                ]
            }
        ),
        "g_region": continent_points(),
    }
