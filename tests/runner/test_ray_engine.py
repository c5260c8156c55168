"""`--engine ray` on a local Ray (2 CPUs, no dashboard, loopback only): the same rows as the
local runner, idempotent reruns, a killed worker and a killed driver lose nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import geosql
from geosql.ingest import ingest
from geosql.runner import run_stage

pytest.importorskip("ray")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import geo_stage  # noqa: E402

from geosql.attach import attach  # noqa: E402
from geosql.ray_engine import run_ray, status  # noqa: E402

WORDS = ["Japan", "France", "cats", "BOOM", "Kyoto Japan", "a dog"]


def _shards(d: Path, n_shards: int = 3, per: int = 7) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for s in range(n_shards):
        f = d / f"part-{s:03d}.csv"
        rows = [f'{s * 100 + i},"{WORDS[(s + i) % len(WORDS)]} {i}"' for i in range(per)]
        f.write_text("id,text\n" + "\n".join(rows) + "\n")
        out.append(f)
    return out


def _rows(con) -> list[tuple]:
    return con.execute(
        "SELECT caption_id, method, country_code, confidence, config_key FROM geo_predictions"
        " ORDER BY 1"
    ).fetchall()


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")


def test_ray_gives_the_local_rows_and_reruns_only_what_is_missing(env, tmp_path: Path):
    shards = _shards(tmp_path / "shards")
    local, remote = tmp_path / "local.duckdb", tmp_path / "remote.duckdb"
    with geosql.connect(local) as con:
        ingest(con, [str(s) for s in shards], "web", id_col="id")
        con.execute(geo_stage.TABLE_SQL)
        run_stage(con, "test-geo")
        want = _rows(con)
        want_items = con.execute(
            "SELECT item_id, input_hash, status FROM stage_items ORDER BY 1"
        ).fetchall()
    with geosql.connect(remote) as con:
        con.execute(geo_stage.TABLE_SQL)
    out = tmp_path / "results"
    first = run_ray(remote, "test-geo", [str(shards[0])], out, dataset="web",
                    mapping={"id_col": "id"}, num_cpus=2)  # fmt: skip
    assert len(first.done) == 1
    res = run_ray(remote, "test-geo", str(tmp_path / "shards" / "*.csv"), out, dataset="web",
                  mapping={"id_col": "id"}, num_cpus=2)  # fmt: skip
    assert len(res.done) == 2 and len(res.skipped) == 1 and not res.failed
    assert {r["status"] for r in status(out)} == {"done"}
    with geosql.connect(remote) as con:
        assert attach(con, out)[0] == 3
        assert attach(con, out)[0] == 0  # attached once
        assert _rows(con) == want
        got_items = con.execute(
            "SELECT item_id, input_hash, status FROM stage_items ORDER BY 1"
        ).fetchall()
        assert got_items == want_items
        n = con.execute(
            "SELECT count(*) FROM current_geo_predictions WHERE method = 'kw'"
        ).fetchone()[0]
        assert n == len(want)


def test_a_killed_driver_resumes(env, tmp_path: Path):
    shards = _shards(tmp_path / "shards", n_shards=4)
    wh = tmp_path / "wh.duckdb"
    with geosql.connect(wh) as con:
        con.execute(geo_stage.TABLE_SQL)
    out = tmp_path / "results"
    code = textwrap.dedent(
        f"""
        import sys, os, signal
        sys.path.insert(0, {str(HERE)!r})
        import geo_stage
        from geosql.ray_engine import run_ray
        run_ray({str(wh)!r}, "test-geo", {[str(s) for s in shards[:2]]!r}, {str(out)!r},
                dataset="web", mapping={{"id_col": "id"}}, num_cpus=2)
        os.kill(os.getpid(), signal.SIGKILL)  # the driver dies after two shards
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    res = run_ray(wh, "test-geo", [str(s) for s in shards], out, dataset="web",
                  mapping={"id_col": "id"}, num_cpus=2)  # fmt: skip
    assert len(res.skipped) == 2 and len(res.done) == 2
    with geosql.connect(wh) as con:
        attach(con, out)
        n, n_ids = con.execute(
            "SELECT count(*), count(DISTINCT caption_id) FROM geo_predictions"
        ).fetchone()
    assert (
        n
        == n_ids
        == sum(1 for i in range(4 * 7) if "BOOM" not in WORDS[(i // 7 + i % 7) % len(WORDS)])
    )


def test_a_killed_worker_is_restarted_and_nothing_is_duplicated(env, tmp_path: Path):
    shards = _shards(tmp_path / "shards", n_shards=3)
    with shards[1].open("a") as f:
        f.write('999,"KILL me"\n')
    wh = tmp_path / "wh.duckdb"
    with geosql.connect(wh) as con:
        con.execute(geo_stage.TABLE_SQL)
    flag = tmp_path / "killed"
    out = tmp_path / "results"
    res = run_ray(wh, "test-geo", [str(s) for s in shards], out, dataset="web",
                  config={"kill_flag": str(flag)}, mapping={"id_col": "id"}, num_cpus=2)  # fmt: skip
    assert flag.exists()  # a worker did die
    assert len(res.done) == 3 and not res.failed
    with geosql.connect(wh) as con:
        attach(con, out)
        n, n_ids = con.execute(
            "SELECT count(*), count(DISTINCT caption_id) FROM geo_predictions"
        ).fetchone()
    assert (
        n
        == n_ids
        == 3 * 7 + 1 - sum(1 for i in range(21) if "BOOM" in WORDS[(i // 7 + i % 7) % len(WORDS)])
    )
