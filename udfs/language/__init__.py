"""Multilingual profiling: stage `detect-language`, language codes (ISO 639 <-> FLORES-200),
the language-country table and multilingual name forms for the gazetteer (`names`)."""

from udfs.language import detect  # noqa: F401  (registers the stage)
