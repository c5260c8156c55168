"""Diversity per country (Vendi) and generated-vs-real coverage (PRDC).

Registers the stages `diversity` and `coverage`; `ingest-generated` lives in `cli.py`.
"""

from udfs.diversity import stages  # noqa: F401  (registers the stages)
