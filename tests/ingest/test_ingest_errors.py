"""Bad caption files give one line naming file, line and column, and add nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosql
from geosql.errors import GeosqlError
from geosql.ingest import ingest

CASES = {
    "empty.csv": ("", "the file is empty"),
    "ragged.csv": ("id,text\n1,a\n2,b,c\n3,d\n", "line 3: 3 fields, the header has 2"),
    "quote.csv": ('id,text\n1,"a house\n2,b\n', "line 2: a quoted field is never closed"),
    "bad.jsonl": (
        '{"id":"1","text":"a"}\n{"id":"2","text":"b"\n{"id":"3","text":"c"}\n',
        "line 2, column 21",
    ),
    "emptyid.jsonl": ('{"id":"","text":"a"}\n{"id":"2","text":"b"}\n', "line 1: column 'id'"),
    "emptyid.csv": ("id,text\n1,a\n,b\n", "line 3: column 'id' (--id-col) is empty"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_names_the_line(wh: Path, tmp_path: Path, name: str):
    body, expected = CASES[name]
    f = tmp_path / name
    f.write_text(body)
    with geosql.connect(wh) as con:
        with pytest.raises(GeosqlError) as e:
            ingest(con, [f], "t", id_col="id")
        msg = str(e.value)
        assert "\n" not in msg and str(f) in msg and expected in msg, msg
        assert con.execute("SELECT count(*) FROM captions").fetchone()[0] == 0


def test_a_file_named_like_a_pattern_is_that_file(wh: Path, tmp_path: Path):
    f = tmp_path / "shard[1].csv"
    f.write_text("id,text\n1,a house in Peru\n")
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "t", id_col="id")
        assert s.captions_added == 1
