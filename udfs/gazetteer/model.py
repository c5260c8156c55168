"""The trained scoring models (geoparse_model.json in this package, written by
scripts/train_geoparser.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from udfs.gazetteer.features import (
    CAPTION_FEATURES,
    CONFIDENCE_FEATURES,
    FEATURES,
    MENTION_FEATURES,
)

MODEL_FILE = Path(__file__).with_name("geoparse_model.json")
MENTION_MODEL_FILE = Path(__file__).with_name("mention_model.json")
CONFIDENCE_MODEL_FILE = Path(__file__).with_name("confidence_model.json")


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


def _load_side_model(f: Path, features: list[str], script: str) -> dict | None:
    import json

    if not f.exists():
        return None
    d = json.loads(f.read_text())
    if d["features"] != features:
        raise RuntimeError(f"{f} was trained with other features: retrain with {script}")
    return d


def write_side_model(f: Path, features: list[str], model, C: float, **extra) -> None:
    """Write a fitted scikit-learn logistic regression as a side model file (what
    `_load_side_model` reads): its features, coefficients, intercept and C, then `extra`."""
    import json

    out = {
        "features": features,
        "coef": [round(float(c), 6) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "C": C,
        **extra,
    }
    f.write_text(json.dumps(out, indent=1) + "\n")


@lru_cache(maxsize=1)
def load_mention_model() -> dict | None:
    """The mention model (mention_model.json: coef over MENTION_FEATURES, intercept); None
    without it (mentions then have no toponym_score)."""
    return _load_side_model(MENTION_MODEL_FILE, MENTION_FEATURES, "scripts/train_mention_score.py")


@lru_cache(maxsize=1)
def load_confidence_model() -> dict | None:
    """The confidence model (confidence_model.json: coef over CONFIDENCE_FEATURES,
    intercept); None without it (confidence is then the second stage's)."""
    return _load_side_model(
        CONFIDENCE_MODEL_FILE, CONFIDENCE_FEATURES, "scripts/train_confidence.py"
    )


def model_digest() -> str:
    """A digest of the trained models (a retrained one changes the stage's config key)."""
    import hashlib

    files = [f for f in (MODEL_FILE, MENTION_MODEL_FILE, CONFIDENCE_MODEL_FILE) if f.exists()]
    if not files:
        return "untrained"
    h = hashlib.sha1()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


def default_threshold() -> float:
    try:
        return load_model()["threshold"]
    except RuntimeError:
        return 0.5
