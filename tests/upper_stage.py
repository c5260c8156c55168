"""A tiny test stage, `test-upper`: upper-cases caption text into `test_upper` (the table `done`
reads) and writes each text's length into a second table, `test_upper_len`.

Settings: `fail_word` (rows whose text contains it fail with a per-row error), `crash_after`
(runtime only: the process dies with os._exit(1) when asked for batch crash_after + 1, i.e. after
that many batches were written), used by the crash-resume tests, `broken_table` (runtime
only: that table's rows get a column it does not have, so writing them fails) and `sleep`
(runtime only: seconds to wait per batch, for the Ctrl-C test) and `started_file` (runtime only:
a file created when the first batch starts, so that test knows the run is under way).
"""

from __future__ import annotations

import os
import time

import pyarrow as pa

from geosql.registry import BatchResult, Stage, registry
from geosql.runner import row_errors

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS test_upper (caption_id VARCHAR, upper VARCHAR, config_key VARCHAR);"
    "CREATE TABLE IF NOT EXISTS test_upper_len (caption_id VARCHAR, n INTEGER, config_key VARCHAR)"
)


def _open(spec, config: dict) -> dict:
    return {"batches": 0, "spec": spec}


def _process(state: dict, batch: pa.Table, config: dict) -> BatchResult:
    state["batches"] += 1
    if config["started_file"]:
        open(config["started_file"], "a").close()
    if config["sleep"]:
        time.sleep(config["sleep"])
    if config["crash_after"] and state["batches"] > config["crash_after"]:
        os._exit(1)

    def one(row: dict) -> str:
        if config["fail_word"] and config["fail_word"] in row["text"]:
            raise ValueError(f"text contains {config['fail_word']}")
        return row["text"].upper()

    results, errors = row_errors(one, batch, "caption_id")
    ok = [i for i, r in enumerate(results) if r is not None]
    ids = [batch["caption_id"][i].as_py() for i in ok]
    out = {
        "test_upper": pa.table({"caption_id": ids, "upper": [results[i] for i in ok]}),
        "test_upper_len": pa.table({"caption_id": ids, "n": [len(results[i]) for i in ok]}),
    }
    if config["broken_table"]:
        t = out[config["broken_table"]]
        out[config["broken_table"]] = t.append_column("no_such_column", pa.array([1] * len(t)))
    return BatchResult(out, errors)


if "test-upper" not in registry.stages:
    registry.stage(
        Stage(
            name="test-upper",
            description="Test stage: upper-case caption text.",
            inputs="SELECT caption_id, text FROM captions",
            outputs=("test_upper", "test_upper_len"),
            process=_process,
            open=_open,
            defaults={
                "fail_word": "BAD",
                "crash_after": 0,
                "broken_table": "",
                "sleep": 0.0,
                "started_file": "",
            },
            runtime_keys=("crash_after", "broken_table", "sleep", "started_file"),
            batch_size=3,
        )
    )
