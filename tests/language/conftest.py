"""Fixtures of the multilingual tests: a tiny random-weight NLLB model built offline."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_nllb(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    pytest.importorskip("sentencepiece")
    pytest.importorskip("torch")
    from udfs.translate.tiny import build_tiny_nllb

    return build_tiny_nllb(tmp_path_factory.mktemp("nllb") / "tiny-nllb")
