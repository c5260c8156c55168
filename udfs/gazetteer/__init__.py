"""Offline geoparser over the GeoNames tables: extract -> retrieve -> predict, no API.

Set-based, in a private in-memory DuckDB (steps in sql/geoparse/*.sql). Extract: captions are
split into word tokens; every 1..5-token n-gram is joined against the normalized place names
(longest match wins, left to right); state/province codes and postcodes are recognised, and CJK
text, which has no spaces, goes through an Aho-Corasick automaton. Retrieve: each mention brings
its candidate countries with their best place (country, division, city with population).
Predict: a logistic model scores each (mention, country) from place type, population, how
common the name is as an everyday word (wordfreq), capitalisation, "City, ST" patterns and
co-mentioned containing regions; a second model decides whether the caption names a place at
all. The name index is built once per warehouse and cached beside it.

Modules: `lexicon` (word lists in lexicons/), `features` (feature names, word statistics),
`index` (the name index), `engine` (the parser), `model` (trained weights), `stage` (the
`geoparse` stage and SQL UDF, registered on import).
"""

from udfs.gazetteer.engine import MIN_MENTION_SCORE, Engine
from udfs.gazetteer.features import (
    CAPTION_FEATURES,
    FEATURES,
    PRIOR_FEATURES,
    STATIC_FEATURES,
    dict_word,
    dictionary_words,
    zipf,
)
from udfs.gazetteer.index import GAZETTEER_VERSION, build_gazetteer, load_gazetteer, warehouse_path
from udfs.gazetteer.model import load_model
from udfs.gazetteer.stage import parse_bounded

__all__ = [
    "CAPTION_FEATURES",
    "FEATURES",
    "GAZETTEER_VERSION",
    "MIN_MENTION_SCORE",
    "PRIOR_FEATURES",
    "STATIC_FEATURES",
    "Engine",
    "build_gazetteer",
    "dict_word",
    "dictionary_words",
    "load_gazetteer",
    "load_model",
    "parse_bounded",
    "warehouse_path",
    "zipf",
]
