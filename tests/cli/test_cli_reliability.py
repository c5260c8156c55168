"""Hostile inputs to the CLI: each gives one line that says what to do, and nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import click
from click.testing import CliRunner

import geosql
from geosql.cli import get_cli

TESTS = Path(__file__).resolve().parents[1]


def invoke(wh: Path, *args: str):
    return CliRunner().invoke(get_cli(), ["--warehouse", str(wh), *args])


def _one_line_error(res) -> str:
    assert res.exit_code != 0
    assert "Traceback" not in res.output, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    return lines[0]


def test_warehouse_that_is_a_csv_or_under_a_file_is_refused(tmp_path: Path):
    csv = tmp_path / "captions.csv"
    csv.write_text("id,text\n1,a house in Peru\n")
    line = _one_line_error(invoke(csv, "ingest", str(csv), "--dataset", "x"))
    assert "is not a DuckDB file" in line
    assert csv.read_text() == "id,text\n1,a house in Peru\n"
    line = _one_line_error(invoke(csv / "wh.duckdb", "init", "--skip-refdata"))
    assert "is a file, not a folder" in line


def test_sql_out_into_a_missing_folder(wh: Path, tmp_path: Path):
    line = _one_line_error(invoke(wh, "sql", "SELECT 1 AS x", "--out", str(tmp_path / "no/x.csv")))
    assert "does not exist" in line


def test_stages_reads_without_writing(wh: Path):
    before = (wh.stat().st_mtime_ns, wh.read_bytes())
    res = invoke(wh, "stages")
    assert res.exit_code == 0, res.output
    assert "geoparse:" in res.output
    assert (wh.stat().st_mtime_ns, wh.read_bytes()) == before


def test_every_command_and_option_has_help():
    def walk(cmd: click.Command, path: tuple[str, ...] = ()):
        yield path, cmd
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, (*path, name))

    missing = []
    for path, cmd in walk(get_cli()):
        if path and not (cmd.help or cmd.short_help):
            missing.append(" ".join(path))
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.help and p.name not in {"help", "version"}:
                missing.append(f"{' '.join(path)} {p.opts[0]}")
    assert not missing, f"no help text: {missing}"


def test_ctrl_c_prints_one_line_and_records_interrupted(wh: Path, tmp_path: Path):
    started = tmp_path / "started"
    with geosql.connect(wh) as con:
        sys.path.insert(0, str(TESTS))
        import upper_stage

        con.execute(upper_stage.TABLE_SQL)
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 't', ?)",
            [(f"c{i}", f"caption {i}") for i in range(40)],
        )
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        import upper_stage
        from geosql.cli import get_cli
        get_cli()(["-w", {str(wh)!r}, "run", "test-upper", "--set", "sleep=0.5",
                   "--set", "started_file={started}", "--batch-size", "2"], prog_name="geosql")
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # Interrupt once the run is under way (a loaded machine may take long to import).
    for _ in range(1200):
        if started.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert started.exists(), proc.communicate()
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("interrupted:"), err
    with geosql.connect(wh, read_only=True) as con:
        status, done = con.execute("SELECT status, rows_done FROM stage_runs").fetchone()
        n = con.execute("SELECT count(*) FROM test_upper").fetchone()[0]
    assert status == "interrupted" and n == done and n % 2 == 0
    assert os.path.exists(wh)


def test_entity_svm_without_a_model_says_which_to_choose(wh: Path):
    line = _one_line_error(invoke(wh, "run", "entity-svm"))
    assert "entity-svm needs --set model=ID" in line and "geosql svm train" in line


def test_where_with_a_trailing_comment_is_refused(wh: Path):
    line = _one_line_error(invoke(wh, "run", "geoparse", "--where", "true) --"))
    assert "--where" in line
