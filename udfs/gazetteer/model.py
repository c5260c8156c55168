"""The trained scoring models (geoparse_model.json in this package, written by
scripts/train_geoparser.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from udfs.gazetteer.features import CAPTION_FEATURES, FEATURES

MODEL_FILE = Path(__file__).with_name("geoparse_model.json")


@lru_cache(maxsize=1)
def load_model() -> dict:
    """The trained scoring model (udfs/geoparse_model.json); all-zero weights if absent."""
    import json

    f = MODEL_FILE
    if not f.exists():
        return {"coef": [0.0] * len(FEATURES), "intercept": 0.0, "threshold": 0.5}
    d = json.loads(f.read_text())
    if d["features"] != FEATURES or d.get("caption_features", CAPTION_FEATURES) != CAPTION_FEATURES:
        raise RuntimeError(
            f"{f} was trained with other features: retrain with scripts/train_geoparser.py"
        )
    return d


def model_digest() -> str:
    import hashlib

    f = MODEL_FILE
    return hashlib.sha1(f.read_bytes()).hexdigest()[:10] if f.exists() else "untrained"


def default_threshold() -> float:
    try:
        return load_model()["threshold"]
    except RuntimeError:
        return 0.5
