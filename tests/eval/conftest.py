"""A stand-in geoparsing stage with known answers (method 'fake'), registered per test.

It finds the words of LEXICON in a text (case-sensitive, every occurrence) and answers the
country of the highest-scoring one when its score reaches `threshold`; so the eval plumbing is
tested without depending on the real geoparser's answers.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from geosql.registry import BatchResult, Stage, registry

# word: (country, lat, lon, score)
LEXICON = {
    "Paris": ("FR", 48.8534, 2.3488, 0.9),
    "Tokyo": ("JP", 35.6895, 139.6917, 0.95),
    "Springfield": ("US", 39.8017, -89.6437, 0.4),
}


def _process(state, batch: pa.Table, cfg: dict) -> BatchResult:
    preds: dict[str, list] = {k: [] for k in ("caption_id", "country_code", "confidence")}
    ments: dict[str, list] = {
        k: [] for k in ("caption_id", "mention", "start_pos", "end_pos", "country_code", "lat",
                        "lon", "score")
    }  # fmt: skip
    for cid, text in zip(batch["caption_id"].to_pylist(), batch["text"].to_pylist(), strict=True):
        best = None
        for word, (cc, lat, lon, score) in LEXICON.items():
            i = (text or "").find(word)
            while i >= 0:
                for k, v in zip(ments, (cid, word, i, i + len(word), cc, lat, lon, score),
                                strict=True):  # fmt: skip
                    ments[k].append(v)
                if best is None or score > best[1]:
                    best = (cc, score)
                i = text.find(word, i + 1)
        ok = best is not None and best[1] >= cfg["threshold"]
        preds["caption_id"].append(cid)
        preds["country_code"].append(best[0] if ok else None)
        preds["confidence"].append(best[1] if ok else (1 - best[1] if best else 1.0))
    n, m = len(preds["caption_id"]), len(ments["caption_id"])
    p = pa.table({**preds, "evidence": pa.nulls(n, pa.string()), "method": [cfg["method"]] * n})
    mt = pa.table(
        {
            **{
                k: pa.array(v, pa.int32() if k.endswith("_pos") else None) for k, v in ments.items()
            },
            "geonameid": pa.nulls(m, pa.int64()),
            "method": pa.array([cfg["method"]] * m, pa.string()),
        }
    )
    return BatchResult({"geo_predictions": p, "geo_mentions": mt})


@pytest.fixture
def fake_method():
    """Registers the stage `fake-geoparse` (method 'fake') for one test."""
    registry.load()
    st = registry.stage(
        Stage(
            name="fake-geoparse",
            description="test stand-in: fixed lexicon",
            inputs="SELECT caption_id, text FROM captions",
            outputs=("geo_predictions", "geo_mentions"),
            process=_process,
            defaults={"method": "fake", "threshold": 0.5},
            scope="method",
        )
    )
    try:
        yield st
    finally:
        registry.stages.pop("fake-geoparse", None)
