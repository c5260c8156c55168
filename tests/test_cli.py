"""The CLI through click's CliRunner, and the stage runner's crash-resume on real files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import geosql
from geosql.cli import get_cli
from geosql.runner import run_stage

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
import upper_stage  # noqa: E402  (registers the test stage `test-upper`)


def invoke(wh: Path, *args: str):
    return CliRunner().invoke(get_cli(), ["--warehouse", str(wh), *args])


def walk(cmd: click.Command, path: tuple[str, ...] = ()):
    yield path
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from walk(sub, (*path, name))


def test_every_command_has_help(tmp_path: Path):
    paths = list(walk(get_cli()))
    names = {p[0] for p in paths if p}
    assert {"init", "refdata", "ingest", "run", "sql", "shell", "stages", "eval", "bench"} <= names
    for path in paths:
        res = CliRunner().invoke(get_cli(), [*path, "--help"])
        assert res.exit_code == 0, (path, res.output)
        assert "Usage:" in res.output, path


@pytest.fixture
def loaded(wh: Path, tmp_path: Path) -> Path:
    f = tmp_path / "caps.csv"
    f.write_text('id,text\n1,"a house in Peru"\n2,"two cars"\n3,"a beach"\n')
    res = invoke(wh, "ingest", str(f), "--dataset", "toy", "--id-col", "id",
                 "--entity", "house", "--entity", "car")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "3 captions added" in res.output and "house: 1" in res.output
    return wh


def test_sql_formats(loaded: Path, tmp_path: Path):
    q = "SELECT caption_id, text FROM captions ORDER BY caption_id"
    res = invoke(loaded, "sql", q)
    assert res.exit_code == 0 and "toy:1" in res.output and "a house in Peru" in res.output
    res = invoke(loaded, "sql", q, "--format", "csv")
    assert res.output.splitlines() == [
        "caption_id,text", "toy:1,a house in Peru", "toy:2,two cars", "toy:3,a beach"
    ]  # fmt: skip
    res = invoke(loaded, "sql", q, "--format", "json")
    assert json.loads(res.output)[1] == {"caption_id": "toy:2", "text": "two cars"}
    out = tmp_path / "o.jsonl"
    res = invoke(loaded, "sql", q, "--format", "json", "--out", str(out))
    assert res.exit_code == 0 and "wrote 3 rows" in res.output
    assert [json.loads(x)["caption_id"] for x in out.read_text().splitlines()] == [
        "toy:1", "toy:2", "toy:3"
    ]  # fmt: skip
    pqf = tmp_path / "o.parquet"
    res = invoke(loaded, "sql", "SELECT entity, count(*) AS n FROM caption_entities GROUP BY 1"
                 " ORDER BY 1", "--format", "parquet", "--out", str(pqf))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert pq.read_table(pqf).to_pylist() == [
        {"entity": "car", "n": 1},
        {"entity": "house", "n": 1},
    ]
    res = invoke(loaded, "sql", q, "--format", "parquet")
    assert res.exit_code != 0 and "--format parquet needs --out" in res.output


def test_sql_error_is_one_line(loaded: Path):
    res = invoke(loaded, "sql", "SELECT * FROM no_such_table")
    assert res.exit_code != 0
    assert res.output.startswith("Error: ") and res.output.count("\n") == 1


@pytest.mark.parametrize(
    "args, needle",
    [
        (["missing.csv"], "missing.csv: file not found"),
        (["{bad}"], "column 'caption' (--text-col) not found"),
        (["{bad}", "--text-col", "text", "--id-col", "nope"], "column 'nope' (--id-col)"),
    ],
)
def test_ingest_errors_are_one_line(loaded: Path, tmp_path: Path, args, needle):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,x\n")
    before = invoke(loaded, "sql", "SELECT count(*) FROM captions", "--format", "csv").output
    argv = [a.replace("{bad}", str(bad)) for a in args]
    res = invoke(loaded, "ingest", *argv, "--dataset", "d", "--text-col", "caption")
    if "--text-col" in args:  # the later --text-col wins
        res = invoke(loaded, "ingest", *argv, "--dataset", "d")
    assert res.exit_code != 0
    assert res.output.startswith("Error: ") and res.output.count("\n") == 1, res.output
    assert needle in res.output
    after = invoke(loaded, "sql", "SELECT count(*) FROM captions", "--format", "csv").output
    assert after == before


def test_ingest_requires_dataset(tmp_path: Path):
    res = invoke(tmp_path / "w.duckdb", "ingest", "x.csv")
    assert res.exit_code != 0 and "--dataset" in res.output


def test_stages_lists_stages_and_history(loaded: Path):
    with geosql.connect(loaded) as con:
        con.execute(upper_stage.TABLE_SQL)
    res = invoke(loaded, "run", "test-upper", "--set", "fail_word=Peru")
    assert res.exit_code == 0, res.output
    assert "2 rows done, 1 failed" in res.output
    res = invoke(loaded, "stages")
    assert res.exit_code == 0, res.output
    assert "geoparse:" in res.output and "test-upper: Test stage" in res.output
    assert "--set fail_word=BAD" in res.output
    assert "run history" in res.output and "done" in res.output
    res = invoke(loaded, "run", "no-such-stage")
    assert res.exit_code != 0 and "unknown stage 'no-such-stage'" in res.output


# ---------------------------------------------------------------- crash-resume


def _captions(wh: Path, n: int = 10, bad: tuple[int, ...] = (4,)) -> None:
    with geosql.connect(wh) as con:
        con.execute(upper_stage.TABLE_SQL)
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 't', ?)",
            [(f"c{i:02d}", f"caption {i}{' BAD' if i in bad else ''}") for i in range(n)],
        )


def test_crash_resume_loses_nothing_and_duplicates_nothing(wh: Path):
    _captions(wh)
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        import upper_stage, geosql
        from geosql.runner import run_stage
        with geosql.connect({str(wh)!r}) as con:
            run_stage(con, "test-upper", config={{"crash_after": 2}}, batch_size=3)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    with geosql.connect(wh, read_only=True) as con:
        # two batches of 3 were committed: 5 rows done, 1 failed (the BAD row)
        assert con.execute("SELECT count(*) FROM test_upper").fetchone()[0] == 5
        assert con.execute("SELECT status, rows_done, rows_failed FROM stage_runs").fetchall() == [
            ("running", 5, 1)
        ]
        assert con.execute("SELECT item_id, error_type FROM stage_errors").fetchall() == [
            ("c04", "ValueError")
        ]

    with geosql.connect(wh) as con:
        s = run_stage(con, "test-upper", batch_size=3)
        assert (s.rows_done, s.rows_failed) == (4, 0)  # the failed row is not retried
        rows = con.execute(
            "SELECT caption_id, upper, count(*) OVER (PARTITION BY caption_id) FROM test_upper"
            " ORDER BY 1"
        ).fetchall()
        runs = con.execute(
            "SELECT status, rows_done, rows_failed FROM stage_runs ORDER BY run_id"
        ).fetchall()
        n_keys = con.execute("SELECT count(DISTINCT config_key) FROM test_upper").fetchone()[0]
    assert [r[0] for r in rows] == [f"c{i:02d}" for i in range(10) if i != 4]
    assert all(r[2] == 1 for r in rows)  # nothing duplicated
    assert rows[0][1] == "CAPTION 0" and n_keys == 1
    assert runs == [("interrupted", 5, 1), ("done", 4, 0)]


@pytest.mark.parametrize("broken", ["test_upper", "test_upper_len"])
def test_a_failed_write_leaves_the_batch_to_redo(wh: Path, broken: str):
    """The side table commits on its own (written at the same time as the done table, which
    commits after it): a failure in either leaves the batch not done, and the rerun replaces
    whatever the side table got."""
    _captions(wh, n=4, bad=())
    with geosql.connect(wh) as con:
        with pytest.raises(duckdb.Error, match="no_such_column"):
            run_stage(con, "test-upper", config={"broken_table": broken}, batch_size=2)
        assert con.execute("SELECT count(*) FROM test_upper").fetchone()[0] == 0
        side = con.execute("SELECT count(*) FROM test_upper_len").fetchone()[0]
        assert side == (2 if broken == "test_upper" else 0)  # the first batch's, committed
        assert con.execute("SELECT status FROM stage_runs").fetchall() == [("failed",)]
        s = run_stage(con, "test-upper", batch_size=2)
        assert s.rows_done == 4
        for table in ("test_upper", "test_upper_len"):
            n = con.execute(f"SELECT count(*), count(DISTINCT caption_id) FROM {table}").fetchone()
            assert n == (4, 4), table


def test_row_errors_are_kept_and_retried_only_when_asked(wh: Path):
    _captions(wh, n=5, bad=(1, 3))
    with geosql.connect(wh) as con:
        s = run_stage(con, "test-upper")
        assert (s.rows_done, s.rows_failed) == (3, 2)
        errs = con.execute(
            "SELECT item_id, error_type, error_message, run_id FROM stage_errors ORDER BY 1"
        ).fetchall()
        assert errs == [
            ("c01", "ValueError", "text contains BAD", s.run_id),
            ("c03", "ValueError", "text contains BAD", s.run_id),
        ]
        again = run_stage(con, "test-upper")
        assert (again.rows_done, again.rows_failed) == (0, 0)
        con.execute("UPDATE captions SET text = 'fixed' WHERE caption_id = 'c01'")
        retry = run_stage(con, "test-upper", retry_errors=True)
        assert (retry.rows_done, retry.rows_failed) == (1, 1)
        assert con.execute("SELECT item_id, run_id FROM stage_errors").fetchall() == [
            ("c03", retry.run_id)
        ]
        assert con.execute("SELECT upper FROM test_upper WHERE caption_id = 'c01'").fetchall() == [
            ("FIXED",)
        ]
        assert con.execute("SELECT count(*) FROM test_upper").fetchone()[0] == 4
