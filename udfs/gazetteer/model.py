"""The trained scoring models (geoparse_model.json in this package, written by
scripts/train_geoparser.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from udfs.gazetteer.features import CAPTION_FEATURES, FEATURES, MENTION_FEATURES

MODEL_FILE = Path(__file__).with_name("geoparse_model.json")
MENTION_MODEL_FILE = Path(__file__).with_name("mention_model.json")


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


@lru_cache(maxsize=1)
def load_mention_model() -> dict | None:
    """The mention model (mention_model.json: coef over MENTION_FEATURES, intercept); None
    without it (mentions then have no toponym_score)."""
    import json

    f = MENTION_MODEL_FILE
    if not f.exists():
        return None
    d = json.loads(f.read_text())
    if d["features"] != MENTION_FEATURES:
        raise RuntimeError(
            f"{f} was trained with other features: retrain with scripts/train_mention_score.py"
        )
    return d


def model_digest() -> str:
    """A digest of the trained models (a retrained one changes the stage's config key)."""
    import hashlib

    files = [f for f in (MODEL_FILE, MENTION_MODEL_FILE) if f.exists()]
    if not files:
        return "untrained"
    h = hashlib.sha1(MODEL_FILE.read_bytes() if MODEL_FILE.exists() else b"")
    if MENTION_MODEL_FILE.exists():
        h.update(MENTION_MODEL_FILE.read_bytes())
    return h.hexdigest()[:10]


def default_threshold() -> float:
    try:
        return load_model()["threshold"]
    except RuntimeError:
        return 0.5
