"""The runner owns lineage: config keys, input versions, upstream keys, the config in use,
failed rows visible to views, caches kept, transient rows left pending, --where checked."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import geosql
from geosql.errors import GeosqlError
from geosql.runner import run_stage, set_current

sys.path.insert(0, str(Path(__file__).resolve().parent))
import geo_stage  # noqa: E402  (registers test-geo, test-geo-down)


def _load(con, texts: dict[str, str]) -> None:
    con.execute(geo_stage.TABLE_SQL)
    con.executemany(
        "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 'd', ?)", list(texts.items())
    )


def _pred(con, method: str = "kw") -> dict:
    return dict(
        con.execute(
            "SELECT caption_id, country_code FROM current_geo_predictions WHERE method = ?",
            [method],
        ).fetchall()
    )


def test_new_settings_rerun_and_views_switch_only_on_a_complete_run(wh: Path):
    with geosql.connect(wh) as con:
        _load(con, {"a": "Japan", "b": "France", "c": "cats", "d": "Japan again"})
        s1 = run_stage(con, "test-geo")
        assert s1.rows_done == 4
        assert run_stage(con, "test-geo").rows_done == 0  # same config: nothing to do
        part = run_stage(con, "test-geo", config={"bias": 0.9}, limit=2)
        assert part.rows_done == 2 and part.config_key != s1.config_key
        # a partial run of a new config does not mix two models in the views
        conf = con.execute(
            "SELECT DISTINCT confidence FROM current_geo_predictions WHERE method = 'kw'"
        ).fetchall()
        assert conf == [(0.5,)]
        rest = run_stage(con, "test-geo", config={"bias": 0.9})
        assert rest.rows_done == 2 and rest.config_key == part.config_key
        conf = con.execute("SELECT DISTINCT confidence FROM current_geo_predictions").fetchall()
        assert conf == [(0.9,)]
        # the old config's rows are kept; `stages use` switches back
        set_current(con, "test-geo", s1.config_key[:6])
        assert con.execute(
            "SELECT DISTINCT confidence FROM current_geo_predictions"
        ).fetchall() == [(0.5,)]


def test_changed_input_text_reruns_the_row(wh: Path):
    with geosql.connect(wh) as con:
        _load(con, {"a": "France", "b": "Japan"})
        run_stage(con, "test-geo")
        # replace the dataset the documented way: same ids, new text
        con.execute("DELETE FROM captions")
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text) VALUES ('a', 'd', 'Cherry blossoms in Tokyo Japan'), ('b', 'd', 'Japan')"
        )
        s = run_stage(con, "test-geo")
        assert s.rows_done == 1
        assert _pred(con) == {"a": "JP", "b": "JP"}
        n = con.execute("SELECT count(*) FROM geo_predictions").fetchone()[0]
        assert n == 2  # replaced, not duplicated


def test_upstream_config_enters_the_downstream_key(wh: Path):
    with geosql.connect(wh) as con:
        _load(con, {"a": "France", "b": "Japan"})
        run_stage(con, "test-geo")
        d1 = run_stage(con, "test-geo-down")
        assert d1.rows_done == 2
        assert run_stage(con, "test-geo-down").rows_done == 0
        run_stage(con, "test-geo", config={"bias": 0.1})  # upstream reruns with new settings
        d2 = run_stage(con, "test-geo-down")
        assert d2.rows_done == 2 and d2.config_key != d1.config_key


def test_failed_pending_and_cache_rows(wh: Path):
    with geosql.connect(wh) as con:
        _load(con, {"a": "Japan CACHE", "b": "BOOM", "c": "WAIT", "d": "cats", "e": "x CACHE"})
        s = run_stage(con, "test-geo")
        assert (s.rows_done, s.rows_failed, s.rows_pending) == (3, 1, 1)
        status = dict(
            con.execute(
                "SELECT caption_id, status FROM caption_geo_status WHERE method = 'kw'"
            ).fetchall()
        )
        assert status == {
            "a": "located",
            "b": "failed",
            "c": "not_run",
            "d": "no_place",
            "e": "no_place",
        }
        u = con.execute(
            "SELECT n_captions, n_unlocated, n_failed, n_not_run FROM unlocated_share"
        ).fetchall()
        assert u == [(3, 2, 1, 1)]
        assert con.execute("SELECT count(*) FROM test_geo_cache").fetchone()[0] == 2
        usage = con.execute("SELECT usage->>'calls' FROM stage_runs").fetchone()[0]
        assert usage == "3"
        # the pending row is picked up by the next run; the failed one only when asked
        con.execute("UPDATE captions SET text = 'France' WHERE caption_id = 'c'")
        again = run_stage(con, "test-geo")
        assert (again.rows_done, again.rows_failed) == (1, 0)
        assert run_stage(con, "test-geo", retry_errors=True).rows_failed == 1
        assert con.execute("SELECT count(*) FROM test_geo_cache").fetchone()[0] == 2  # kept once


@pytest.mark.parametrize(
    "where",
    ["1=1)); DROP TABLE captions; SELECT ((1", "1=1; DROP TABLE captions", "text = 'a' --"],
)
def test_where_accepts_one_expression_only(wh: Path, where: str):
    with geosql.connect(wh) as con:
        _load(con, {"a": "Japan"})
        with pytest.raises(GeosqlError, match="--where"):
            run_stage(con, "test-geo", where=where, retry_errors=True)
        assert con.execute("SELECT count(*) FROM captions").fetchone()[0] == 1
        assert run_stage(con, "test-geo", where="text LIKE 'Jap%'").rows_done == 1


def test_settings_are_checked(wh: Path):
    with geosql.connect(wh) as con:
        _load(con, {"a": "Japan"})
        with pytest.raises(GeosqlError, match="is not a float"):
            run_stage(con, "test-geo", config={"bias": "high"})
        with pytest.raises(GeosqlError, match="batch-size"):
            run_stage(con, "test-geo", batch_size=0)
        with pytest.raises(GeosqlError, match="limit"):
            run_stage(con, "test-geo", limit=-1)
        from geosql.settings import coerce

        with pytest.raises(GeosqlError, match="fuzzy='ture' is not a bool"):
            coerce("fuzzy", "ture", False)
        assert coerce("fuzzy", "Yes", False) is True and coerce("fuzzy", "off", True) is False
        with pytest.raises(GeosqlError, match="no setting 'nope'"):
            run_stage(con, "test-geo", config={"nope": 1})


def test_process_engine_gives_the_same_rows_as_local(wh: Path, tmp_path: Path):
    texts = {f"c{i}": ("Japan" if i % 3 else "France") + f" {i}" for i in range(11)}
    other = tmp_path / "other.duckdb"
    rows = []
    for path, engine in ((wh, "local"), (other, "process")):
        with geosql.connect(path) as con:
            _load(con, texts)
            s = run_stage(con, "test-geo", engine=engine, workers=2)
            assert s.rows_done == 11
            rows.append(
                con.execute(
                    "SELECT caption_id, method, country_code, confidence, config_key"
                    " FROM geo_predictions ORDER BY 1"
                ).fetchall()
            )
    assert rows[0] == rows[1]


def test_summary_line_keeps_setup_apart_from_speed(wh: Path):
    from geosql.runner import RunSummary

    s = RunSummary(1, "geoparse", "abc", 300, 0, 92.0, {}, 0, 89.0)
    assert s.line().endswith("in 92.0s (89.0s setup, then 100 rows/s)")
    quick = RunSummary(1, "geoparse", "abc", 300, 0, 3.0, {}, 0, 0.2)
    assert quick.line().endswith("in 3.0s (100 rows/s)")
    with geosql.connect(wh) as con:
        _load(con, {"a": "Japan"})
        s1 = run_stage(con, "test-geo")
        assert 0.0 < s1.setup_seconds <= s1.seconds  # prepare and open were timed
