"""The scoring models' features: their names, order and sources, and the word statistics
(wordfreq Zipf frequency, dictionary headwords) the name-only features are computed from."""

from __future__ import annotations

import math
from functools import lru_cache

from udfs.gazetteer.lexicon import CJK


@lru_cache(maxsize=1)
def english_frequencies() -> dict[str, float]:
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


@lru_cache(maxsize=4)
def _census(files: tuple[str, ...]) -> dict[str, float]:
    from geosql.countries import package_file

    out: dict[str, float] = {}
    for f in files:
        for line in package_file("names", f).read_text("ascii").splitlines():
            name, share = line.split()[:2]
            k = name.lower()
            out[k] = max(out.get(k, 0.0), float(share))
    return out


def person_names() -> dict[str, float]:
    """Lower-case given names and surnames -> the share of US people who bear them (percent;
    the 1990 US Census name lists shipped in the `names` package, public domain): Charlotte
    0.169, Houston 0.026, Jackson 0.31, London 0.007."""
    return _census(("dist.male.first", "dist.female.first", "dist.all.last"))


GIVEN_NAME_SHARE, SURNAME_SHARE = 0.05, 0.005  # percent: 1 in 2,000 / 1 in 20,000 people


def person_context_words() -> list[tuple[str, str]]:
    """(word, "given") for the common given names and (word, "surname") for the common
    surnames (US Census lists, shares above): a place name right after a given name ("Marie
    Houston") or a given name right before a surname ("Craig Robinson") is a person's."""
    given = _census(("dist.male.first", "dist.female.first"))
    last = _census(("dist.all.last",))
    return [(w, "given") for w, v in sorted(given.items()) if v >= GIVEN_NAME_SHARE] + [
        (w, "surname") for w, v in sorted(last.items()) if v >= SURNAME_SHARE
    ]


PERSON_NAME_SHARE = 0.01  # percent: one person in 10,000 bears the name


def person_name(key: str) -> bool:
    """`key` is one word that many people bear as a given name or surname."""
    return " " not in key and person_names().get(key, 0.0) >= PERSON_NAME_SHARE


def content_words(key: str) -> list[str]:
    """The words of a name key, articles and "of" aside ("the gap" -> ["gap"])."""
    return [w for w in key.split(" ") if w not in {"the", "a", "an", "of"}]


def dict_word(key: str) -> bool:
    """Every content word of `key` is an everyday English word."""
    words, d = content_words(key), dictionary_words()
    return bool(words) and all(w in d for w in words)


# Words that say a phrase of everyday words is a feature's name ("Big Sandy Lake").
TYPE_WORDS = frozenset(
    {"lake", "lakes", "river", "mount", "mountains", "island", "islands", "isle", "bay"}
    | {"canyon", "falls", "peak", "national", "park", "glacier", "desert", "gulf", "reservoir"}
    | {"volcano", "valley", "cape", "peninsula", "fjord", "lagoon"}
)
OPEN_WATER = ("NE:sea", "NE:ocean")  # seas name no country, whatever point they are given


def feature_name_ok(key: str) -> bool:
    """A natural feature or landmark is a candidate under this name: not an everyday word
    ("Arches", "Pool") nor a phrase of them without a type word ("Rocky Mountain")."""
    words = content_words(key)
    if " " not in key:
        return not (dict_word(key) or common_word(key, 4.5))
    return not all(w in dictionary_words() for w in words) or bool(TYPE_WORDS & set(words))


@lru_cache(maxsize=200_000)
def zipf(key: str) -> float:
    """How common `key` is as English text (wordfreq Zipf scale, 0 = unseen, 7 = 'the').

    Plain words are a dictionary lookup (the same value as wordfreq.zipf_frequency, ~20x
    faster); phrases and other scripts go through wordfreq's tokenizer.
    """
    if key.isascii() and key.isalpha():
        f = english_frequencies().get(key, 0.0)
        return round(math.log10(f) + 9, 2) if f > 0 else 0.0
    from wordfreq import zipf_frequency

    return zipf_frequency(key, "en")


def common_word(key: str, level: float) -> bool:
    """zipf(key) >= level, skipping wordfreq for phrases with a rarer word (a phrase is never
    more frequent than its rarest word)."""
    if CJK.search(key):
        return False
    if " " in key and any(w.isascii() and w.isalpha() and zipf(w) < level for w in key.split(" ")):
        return False
    return zipf(key) >= level


# The stage-1 features, in model order, and where each comes from: "name" features depend on
# the name alone and are precomputed in the index; "context" ones read the mention in its
# caption (sql/geoparse/30_features.sql).
FEATURE_SOURCES = {
    "country": "name",
    "country_common_word": "context",
    "demonym": "name",
    "demonym_product": "context",
    "us_state": "name",
    "admin1": "name",
    "admin1_common_word": "name",
    "city": "name",
    "city_log_pop": "name",
    "city_pop_100k": "name",
    "city_pop_1m": "name",
    "city_capital": "name",
    "city_prominence": "name",
    "city_person_name": "name",
    "city_famous_name": "name",
    "city_alias": "name",
    "feature": "name",
    "feature_prominence": "name",
    "name_zipf": "name",
    "city_common_word": "name",
    "city_common_uncapitalised": "context",
    "city_pop_500k": "name",
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
    "listing_city": "context",
    "after_comma": "context",
    "after_street": "context",
    "adjacent_capital": "context",
    "person_context": "context",
    "next_is_place_type": "context",
    "cue_country": "context",
    "supported_by_division": "context",
    "supported_by_mentions": "context",
    "one_over_n_countries": "name",
    "most_populous": "name",
    "accent_exact": "context",
    "accent_other": "context",
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


# The mention model (udfs/gazetteer/mention_model.json, scripts/train_mention_score.py):
# P(a stored mention is a toponym as toponym-annotated news marks them) from the mention's
# best candidate (the m_* columns of g_out, sql/geoparse/50_places.sql): its logit, what kind of place it is,
# and the signs that it is a word rather than a name.
MENTION_FEATURES = [
    "logit",  # the chosen candidate's first-pass logit (its score without support)
    "demonym",  # "French": evidence of a country, not a toponym
    "lower",  # written in lower case ("samples", "states")
    "country",
    "division",  # state, province, state code
    "feature",  # lake, park, peak...
    "dict_word",  # a town named like a dictionary word
    "person_name",  # a town named like a common person's name ("Dunn", "Franklin")
    "support",  # other mentions of the same country (0..1)
    "continent",
]


# The confidence model (udfs/gazetteer/confidence_model.json, scripts/train_confidence.py):
# P(the caption's answer is right) -- a place and the right country, or rightly no place --
# from the decision's own inputs (the c_* columns of g_decided, Engine.decide). The hybrid
# routes on it: the second stage's P(names a place) alone is sure of wrong countries.
CONFIDENCE_FEATURES = [
    "logit_confidence",  # of the second stage's confidence in its located / no place call
    "located",
    *CAPTION_FEATURES,  # what the second stage decided from
]
