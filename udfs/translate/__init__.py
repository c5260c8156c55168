"""NLLB-200 translation of non-English captions (stage `translate`); torch and transformers
are imported only when the stage opens its model."""

from udfs.translate import stage  # noqa: F401  (registers the stage)
