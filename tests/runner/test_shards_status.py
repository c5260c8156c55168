"""`geosql ray status` reads the markers a shard run leaves: done, failed, running, stale,
pending (no Ray needed: the markers are plain files)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from geosql.cli import get_cli
from geosql.ray_engine import status
from geosql.shards import RUN_FILE, failure, marker, running


def _write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def test_status_shows_running_and_stale_shards(tmp_path: Path):
    out = tmp_path / "results"
    shards = [str(tmp_path / f"s{i}.parquet") for i in range(5)]
    _write(out / RUN_FILE, {"shards": shards})
    _write(marker(out, shards[0]), {"rows": 7})
    _write(failure(out, shards[1]), {"error": "ValueError: bad row"})
    host = socket.gethostname()
    _write(running(out, shards[2]), {"host": host, "pid": os.getpid(), "started": time.time()})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    _write(running(out, shards[3]), {"host": host, "pid": dead.pid, "started": time.time()})
    got = {Path(r["shard"]).name: r for r in status(out)}
    assert [got[f"s{i}.parquet"]["status"] for i in range(5)] == [
        "done",
        "failed",
        "running",
        "stale",
        "pending",
    ]
    assert got["s0.parquet"]["rows"] == "7"
    assert got["s1.parquet"]["detail"] == "ValueError: bad row"
    assert f"pid {os.getpid()}" in got["s2.parquet"]["detail"]
    assert "process is gone" in got["s3.parquet"]["detail"]
    res = CliRunner().invoke(get_cli(), ["ray", "status", str(out)])
    assert res.exit_code == 0, res.output
    assert "running  " in res.output and "stale" in res.output
    assert res.output.strip().splitlines()[-1] == (
        "1 done, 1 failed, 1 pending, 1 running, 1 stale"
    )
