"""Test stages for the runner: `test-geo` writes geo_predictions (scope: method) from keywords,
and `test-geo-down` depends on the test-geo config in use for its `upstream` method.

test-geo: 'Japan' -> JP, 'France' -> FR, other text -> no place; 'BOOM' fails the row, 'WAIT'
leaves it pending (a transient outage), 'CACHE' appends one row to test_geo_cache; 'KILL' kills
the worker process once (when the `kill_flag` file does not exist yet).
"""

from __future__ import annotations

import os

import pyarrow as pa

from geosql.registry import BatchResult, Stage, registry

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS test_geo_cache (request VARCHAR, answer VARCHAR);"
    "CREATE TABLE IF NOT EXISTS test_geo_down (caption_id VARCHAR, up VARCHAR, config_key VARCHAR)"
)


def _process(state, batch: pa.Table, config: dict) -> BatchResult:
    flag = config["kill_flag"]
    if flag and not os.path.exists(flag) and any("KILL" in t for t in batch["text"].to_pylist()):
        open(flag, "w").close()
        os._exit(1)  # the worker dies once, mid-run
    rows, errors, pending, cache = [], [], [], []
    for r in batch.to_pylist():
        t = r["text"]
        if "BOOM" in t:
            errors.append((r["caption_id"], "ValueError", "boom"))
        elif "WAIT" in t:
            pending.append(r["caption_id"])
        else:
            cc = "JP" if "Japan" in t else "FR" if "France" in t else None
            rows.append((r["caption_id"], config["method"], cc, config["bias"]))
            if "CACHE" in t:
                cache.append(("req:" + t, "ans"))
    out = pa.table(
        {
            "caption_id": [x[0] for x in rows],
            "method": [x[1] for x in rows],
            "country_code": pa.array([x[2] for x in rows], pa.string()),
            "confidence": pa.array([x[3] for x in rows], pa.float64()),
        }
    )
    app = {
        "test_geo_cache": pa.table(
            {"request": [c[0] for c in cache], "answer": [c[1] for c in cache]}
        )
    }
    return BatchResult({"geo_predictions": out}, errors, {"calls": len(rows)}, app, pending)


def _down(state, batch: pa.Table, config: dict) -> BatchResult:
    return BatchResult({"test_geo_down": pa.table({"caption_id": batch["caption_id"],
                                                    "up": batch["country_code"]})})  # fmt: skip


if "test-geo" not in registry.stages:
    registry.stage(
        Stage(
            name="test-geo",
            description="Test stage: keyword geoparser into geo_predictions.",
            inputs="SELECT caption_id, text FROM captions",
            outputs=("geo_predictions",),
            process=_process,
            defaults={"method": "kw", "bias": 0.5, "kill_flag": ""},
            runtime_keys=("kill_flag",),
            scope="method",
            batch_size=2,
        )
    )
    registry.stage(
        Stage(
            name="test-geo-down",
            description="Test stage: reads the current test-geo predictions.",
            inputs="SELECT caption_id, country_code FROM current_geo_predictions"
            " WHERE method = {upstream}",
            outputs=("test_geo_down",),
            process=_down,
            defaults={"upstream": "kw"},
            depends_on=("test-geo:upstream",),
        )
    )
