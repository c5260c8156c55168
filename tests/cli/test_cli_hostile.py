"""Hostile CLI inputs from issue 13 §4 (audit by engineer H): each is refused with one line that
names the file, line or setting, and nothing in the warehouse changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import geosql
from geosql.cli import get_cli


def invoke(wh: Path, *args: str):
    return CliRunner().invoke(get_cli(), ["--warehouse", str(wh), *args])


def one_line_error(res) -> str:
    assert res.exit_code != 0, res.output
    assert "Traceback" not in res.output, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    return lines[0]


def n_captions(wh: Path) -> int:
    with geosql.connect(wh, read_only=True) as con:
        return con.execute("SELECT count(*) FROM captions").fetchall()[0][0]


@pytest.fixture
def cap_wh(wh: Path) -> Path:
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 't', ?)",
            [("t:1", "a house in Peru"), ("t:2", "Tokyo Japan")],
        )
    return wh


@pytest.mark.parametrize("stage", ["entity-svm", "clip-embed", "geoparse"])
def test_where_injection_is_refused_and_captions_stay(cap_wh: Path, stage: str):
    inj = "1=1)); DROP TABLE captions; SELECT ((1"
    line = one_line_error(invoke(cap_wh, "run", stage, "--where", inj, "--retry-errors"))
    assert line.startswith("Error: --where"), line
    assert n_captions(cap_wh) == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--set", "fuzzy=ture"), "fuzzy='ture' is not a bool"),
        (("--batch-size", "0"), "--batch-size must be at least 1"),
        (("--limit", "-1"), "--limit must be 0 or more"),
    ],
)
def test_silent_run_options_are_refused(cap_wh: Path, args: tuple[str, ...], needle: str):
    assert needle in one_line_error(invoke(cap_wh, "run", "geoparse", *args))
    with geosql.connect(cap_wh, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM stage_runs").fetchall()[0][0] == 0


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.csv", "", "the file is empty"),
        ("ragged.csv", "id,text\n1,Paris\n2,Lima,Peru,x\n", "line 3: 4 fields, the header has 2"),
        ("quote.csv", 'id,text\n1,"Paris\n2,Lima\n', "line 2: a quoted field is never closed"),
        ("bad.jsonl", '{"id":"1","text":"a"}\n{"id":"2","text": oops}\n', "line 2, column"),
        ("noid.jsonl", '{"id":"","text":"a"}\n{"id":"2","text":"b"}\n', "line 1: column 'id'"),
    ],
)
def test_bad_caption_files_name_the_line(wh: Path, tmp_path: Path, name, content, needle):
    f = tmp_path / name
    f.write_text(content)
    line = one_line_error(invoke(wh, "ingest", str(f), "--dataset", "d", "--id-col", "id"))
    assert str(f) in line and needle in line, line
    assert n_captions(wh) == 0


def test_file_name_with_brackets_is_read_literally(wh: Path, tmp_path: Path):
    f = tmp_path / "shard[1].csv"
    f.write_text("id,text\n1,Paris France\n")
    res = invoke(wh, "ingest", str(f), "--dataset", "d")
    assert res.exit_code == 0, res.output
    assert n_captions(wh) == 1


def test_geonames_garbage_names_file_and_line(wh: Path, tmp_path: Path):
    f = tmp_path / "cities500.txt"
    good = "\t".join(["1", "Paris", "Paris", "", "48.85", "2.35", "P", "PPLC", "FR"] + [""] * 10)
    f.write_text(good + "\nthis is garbage\n")
    line = one_line_error(invoke(wh, "refdata", "load", "--geonames", str(f)))
    assert str(f) in line and "line 2" in line, line
