"""Several engines side by side (udfs/gazetteer/parallel.py) give one engine's answers, row for
row; how many there are follows the `parallel` setting and the worker's cores."""

from __future__ import annotations

import pyarrow as pa
import pytest

import geosql
import udfs.gazetteer.parallel as par
from geosql.runner import run_stage
from geosql.worker import CORES_ENV, worker_cores
from udfs.gazetteer import Engine
from udfs.gazetteer.stage import close_engine, engines_for, open_engine, prepare

# Repeated texts, NULLs, empty, CJK, mojibake and long rows over the chunks of several engines.
MORE = [
    "Sunset over the Golden Gate Bridge, San Francisco, California",
    None,
    "3 bedroom house for sale in Austin, TX 78701",
    "",
    "Sunset over the Golden Gate Bridge, San Francisco, California",
    "4 bed terraced house to rent, N5 1TB",
    None,
    "東京の夜景とタワー",
    "Bou IsmaÃ¯l is a city in Tipaza Province, Algeria",
    "Lake Louise, Banff National Park, Alberta",
    "A house in Liverpool",
    "Paris " * 300,
    "Semi-detached house for sale in Richmond",
    "Beautiful beach near Doha",
]


@pytest.mark.parametrize("n", [2, 3])
def test_parallel_engine_same_rows_as_one(index, monkeypatch, n):
    one = Engine(index)
    texts = pa.array(MORE * 5)
    p1, m1 = one.parse(texts)
    monkeypatch.setattr(par, "MIN_ROWS", 2)  # split even this small batch
    eng = par.ParallelEngine(lambda threads: Engine(index, threads=threads), n)
    calls = []
    for e in eng.engines:  # every engine gets a share of the distinct texts
        rows = e.parse_rows
        monkeypatch.setattr(e, "parse_rows", lambda a, rows=rows: calls.append(len(a)) or rows(a))
    p2, m2 = eng.parse(texts)
    eng.close()
    # chunks hold about equal characters: the long row may take a whole chunk's share
    assert 2 <= len(calls) <= n and all(c > 0 for c in calls)
    assert sum(calls) == len(set(MORE))  # the distinct texts, each parsed once
    assert p2.equals(p1) and m2.equals(m1)
    assert m1.num_rows > 20 and p1.num_rows == len(texts)


def test_parallel_engine_small_batch_uses_first_engine(index, monkeypatch):
    eng = par.ParallelEngine(lambda threads: Engine(index, threads=threads), 2)
    seen = []
    monkeypatch.setattr(eng.engines[1], "parse_rows", lambda a: seen.append(a))
    p, _ = eng.parse(pa.array(MORE))  # far below MIN_ROWS per engine
    eng.close()
    assert seen == [] and p.num_rows == len(MORE)


def test_chunks_cover_rows_in_order():
    lengths = pa.array([10, 0, None, 500, 3, 3, 3, 900, 1])
    for n in (1, 2, 3, 4, 20):
        parts = par._chunks(lengths, n)
        assert parts[0][0] == 0 and parts[-1][1] == len(lengths)
        assert all(a < b for a, b in parts) and len(parts) <= n
        assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))
    assert len(par._chunks(lengths, 2)) == 2


def test_engine_count(monkeypatch):
    assert par.engine_count(3, cpus=2) == 3  # a setting is taken as it is
    assert par.engine_count(0, cpus=2) == 2
    assert par.engine_count(0, cpus=1) == 1
    assert par.engine_count(0, cpus=64) == par.MAX_ENGINES
    monkeypatch.setenv(CORES_ENV, "1")  # a worker given one core runs one engine
    assert worker_cores() == 1 and par.engine_count(0) == 1
    monkeypatch.setenv(CORES_ENV, "3")
    assert worker_cores() == 3


def test_open_engine_follows_setting(ref_wh, monkeypatch):
    monkeypatch.setenv(CORES_ENV, "2")
    with geosql.connect(ref_wh) as con:
        cfg = {"threshold": 0.5, "fuzzy": False, "parallel": 0}
        spec = prepare(con, cfg)
    two = open_engine(spec, cfg)
    assert isinstance(two, par.ParallelEngine) and len(two.engines) == 2
    assert two.engines[0].db.sql("SELECT current_setting('threads')").fetchall() == [(1,)]
    assert two.threshold == 0.5 and two.parse_one("Tokyo, Japan")["country_code"] == "JP"
    close_engine(two)
    one = open_engine(spec, {**cfg, "parallel": 1})
    assert isinstance(one, Engine)
    assert one.db.sql("SELECT current_setting('threads')").fetchall() == [(2,)]
    close_engine(one)
    # an in-memory warehouse's index is tables, copied into each engine: one unless asked
    assert engines_for(spec["index"], 0) == 2
    assert engines_for({"g_names": None}, 0) == 1 and engines_for({}, 3) == 3


def test_stage_parallel_same_rows_same_config(ref_wh, monkeypatch):
    monkeypatch.setattr(par, "MIN_ROWS", 2)
    with geosql.connect(ref_wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 'demo', ?)",
            [(f"c{i}", t) for i, t in enumerate(MORE * 3)],
        )
        got = {}
        for k in (1, 2):
            s = run_stage(con, "geoparse", config={"parallel": k})
            assert s.rows_done == len(MORE) * 3 and s.rows_failed == 0
            got[k] = (
                s.config_key,
                con.sql(
                    "SELECT caption_id, country_code, confidence FROM geo_predictions"
                    " ORDER BY caption_id"
                ).fetchall(),
                con.sql(
                    "SELECT caption_id, start_pos, end_pos, geonameid, score FROM geo_mentions"
                    " ORDER BY caption_id, start_pos"
                ).fetchall(),
            )
            if k == 1:  # the setting does not change results: same config, so clear to rerun
                con.execute("DELETE FROM geo_predictions; DELETE FROM geo_mentions")
                con.execute("DELETE FROM stage_items WHERE stage = 'geoparse'")
        assert got[1] == got[2] and len(got[1][2]) > 20
