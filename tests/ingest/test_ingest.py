"""Caption ingest on real DuckDB files: formats, ids, entity tagging, idempotence, bad input."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import geosql
from geosql import GeosqlError
from geosql.ingest import entity_regex, ingest, plural_forms


def write_csv(path: Path, header: list[str], rows: list[list], delim: str = ",") -> Path:
    def cell(v) -> str:
        s = "" if v is None else str(v)
        return '"' + s.replace('"', '""') + '"' if delim == "," else s

    lines = [delim.join(header)] + [delim.join(cell(v) for v in r) for r in rows]
    data = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data.encode()))
    else:
        path.write_text(data, encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def snapshot(path: Path) -> dict[str, list]:
    with geosql.connect(path, read_only=True) as con:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("captions", "caption_entities", "stage_runs")
        }


def entities_of(path: Path) -> dict[str, list[str]]:
    with geosql.connect(path, read_only=True) as con:
        rows = con.execute(
            "SELECT caption_id, list(entity ORDER BY entity) FROM caption_entities GROUP BY 1"
        ).fetchall()
    return dict(rows)


TEXTS = [
    (1, "A cozy Living Room in Lisbon", "http://x/1.jpg"),
    (2, "Two houses and a car near Nairobi", "http://x/2.jpg"),
    (3, "Wedding dresses on display in Paris", "http://x/3.jpg"),
    (4, "The beaches of Goa at sunset", "http://x/4.jpg"),
    (5, "A greenhouse, housed in a warehouse", "http://x/5.jpg"),
    (6, "Cities of Japan: a city at night", "http://x/6.jpg"),
    (7, "living-room furniture; HOUSE for sale", "http://x/7.jpg"),
    (8, "Una casa en México, houseé", "http://x/8.jpg"),
]
ENTS = ["house", "living room", "wedding dress", "beach", "city", "car"]


def test_plural_forms_and_regex():
    assert plural_forms("house") == ["house", "houses"]
    assert plural_forms("beach") == ["beach", "beaches"]
    assert plural_forms("city") == ["city", "cities"]
    assert plural_forms("dress") == ["dress", "dresses"]
    assert plural_forms("day") == ["day", "days"]
    assert plural_forms("person") == ["person", "people", "persons"]
    pat = entity_regex("Wedding  Dress")
    assert "wedding" in pat and "dresses" in pat
    with pytest.raises(GeosqlError):
        entity_regex("  ")


def test_csv_with_ids_and_entity_tagging(wh: Path, tmp_path: Path):
    f = write_csv(tmp_path / "caps.csv", ["id", "text", "url"], [list(t) for t in TEXTS])
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "toy", id_col="id", url_col="url", language="en", entities=ENTS)
        rows = con.execute(
            "SELECT caption_id, dataset, language, url, source_file FROM captions ORDER BY 1"
        ).fetchall()
    assert s.rows_read == 8 and s.captions_added == 8 and s.already_present == 0
    assert rows[0] == ("toy:1", "toy", "en", "http://x/1.jpg", str(f))
    assert [r[0] for r in rows] == sorted(f"toy:{i}" for i in range(1, 9))
    assert entities_of(wh) == {
        "toy:1": ["living room"],
        "toy:2": ["car", "house"],  # plural "houses"
        "toy:3": ["wedding dress"],  # multi-word plural
        "toy:4": ["beach"],  # "beaches"
        "toy:6": ["city"],  # "cities" and "city"
        "toy:7": ["house", "living room"],  # hyphen, upper case
        # toy:5: greenhouse / housed / warehouse are not the word "house";
        # toy:8: "houseé" continues with a letter (Unicode-aware boundary)
    }
    assert s.entities_added == {
        "house": 2, "living room": 2, "wedding dress": 1, "beach": 1, "city": 1, "car": 1
    }  # fmt: skip


def test_reingest_adds_nothing_and_new_entity_tags_old_rows(wh: Path, tmp_path: Path):
    f = write_csv(tmp_path / "caps.csv", ["id", "text"], [[i, t] for i, t, _ in TEXTS])
    with geosql.connect(wh) as con:
        ingest(con, [f], "toy", id_col="id", entities=["house"])
    before = snapshot(wh)
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "toy", id_col="id", entities=["house"])
    assert (s.captions_added, s.already_present, sum(s.entities_added.values())) == (0, 8, 0)
    assert snapshot(wh) == before
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "toy", id_col="id", entities=["house", "car"])
    assert s.captions_added == 0 and s.entities_added == {"house": 0, "car": 1}
    assert entities_of(wh)["toy:2"] == ["car", "house"]


def test_content_hash_ids_dedupe_within_and_across_runs(wh: Path, tmp_path: Path):
    rows = [{"text": "a beach in Chile", "url": "u1"}, {"text": "a beach in Chile", "url": "u1"},
            {"text": "a beach in Chile", "url": "u2"}, {"text": "a car", "url": None}]  # fmt: skip
    f = write_jsonl(tmp_path / "caps.jsonl", rows)
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "web", url_col="url", entities=["beach"])
        ids = [r[0] for r in con.execute("SELECT caption_id FROM captions").fetchall()]
        s2 = ingest(con, [f], "web", url_col="url", entities=["beach"])
        n = con.execute("SELECT count(*) FROM captions").fetchone()[0]
        # the id is the dataset plus the md5 of (dataset, text, url, image path)
        expected = con.execute(
            "SELECT 'web:' || md5(concat_ws(chr(0), 'web', 'a car', '', ''))"
        ).fetchone()[0]
    assert (s.rows_read, s.duplicates_in_input, s.captions_added) == (4, 1, 3)
    assert s.entities_added == {"beach": 2}
    assert all(re.fullmatch(r"web:[0-9a-f]{32}", i) for i in ids)
    assert expected in ids
    assert (s2.captions_added, s2.already_present, n) == (0, 3, 3)


def test_duplicate_ids_in_input_keep_first_row(wh: Path, tmp_path: Path):
    f = write_csv(tmp_path / "d.csv", ["id", "text"], [[1, "first"], [1, "second"], [2, "x"]])
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "d", id_col="id")
        rows = con.execute("SELECT caption_id, text FROM captions ORDER BY 1").fetchall()
    assert s.duplicates_in_input == 1
    assert rows == [("d:1", "first"), ("d:2", "x")]


def test_formats_globs_union_by_name(wh: Path, tmp_path: Path):
    d = tmp_path / "shards"
    d.mkdir()
    write_csv(d / "a.csv", ["id", "text", "extra"], [[1, "house in Peru", "z"]])
    write_csv(d / "b.tsv", ["text", "id"], [["a car in Chad", 2]], delim="\t")
    write_csv(d / "c.csv.gz", ["id", "text"], [[3, "beach, Fiji"]])
    write_jsonl(d / "d.jsonl", [{"id": 4, "text": "Flag of Peru", "lang": "es"}])
    (d / "e.json").write_text(json.dumps([{"id": 5, "text": "a json house"}]))
    pq.write_table(pa.table({"text": ["parquet house"], "id": [6]}), d / "f.parquet")
    (d / "notes.txt").write_text("ignored in a folder")
    with geosql.connect(wh) as con:
        s = ingest(con, [str(d / "*.csv*"), d / "b.tsv"], "mix", id_col="id")
        assert s.captions_added == 3 and len(s.files) == 3
        s = ingest(con, [d], "mix", id_col="id", entities=["house"])
        rows = con.execute(
            "SELECT caption_id, language, text, source_file FROM captions ORDER BY 1"
        ).fetchall()
    assert (s.rows_read, s.captions_added, s.already_present, len(s.files)) == (6, 3, 3, 6)
    assert [r[0] for r in rows] == [f"mix:{i}" for i in range(1, 7)]
    assert rows[1][2] == "a car in Chad" and rows[1][3] == str(d / "b.tsv")
    assert rows[2][2] == "beach, Fiji"  # quoted delimiter inside a gzipped CSV
    assert set(entities_of(wh)) == {"mix:1", "mix:5", "mix:6"}  # old rows get tags too


def test_language_col_with_default(wh: Path, tmp_path: Path):
    rows = [{"id": "a", "text": "x", "lang": "es"}, {"id": "b", "text": "y", "lang": None}]
    f = write_jsonl(tmp_path / "l.jsonl", rows)
    with geosql.connect(wh) as con:
        ingest(con, [f], "l", id_col="id", language_col="lang", language="en")
        langs = con.execute("SELECT caption_id, language FROM captions ORDER BY 1").fetchall()
    assert langs == [("l:a", "es"), ("l:b", "en")]


def test_entity_col_and_image_col(wh: Path, tmp_path: Path):
    f = write_csv(
        tmp_path / "dev.csv",
        ["id", "Entity", "Text", "img"],
        [[1, "Wedding  Dress", "a gown", "a.jpg"], [2, "House", "a car", "b.jpg"],
         [3, "", "nothing", None]],
    )  # fmt: skip
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "dev", id_col="id", text_col="text", entity_col="entity",
                   image_col="img", entities=["car"])  # fmt: skip
        imgs = con.execute("SELECT image_path FROM captions ORDER BY caption_id").fetchall()
    assert entities_of(wh) == {"dev:1": ["wedding dress"], "dev:2": ["car", "house"]}
    assert s.entities_added == {"car": 1, "wedding dress": 1, "house": 1}
    assert imgs == [("a.jpg",), ("b.jpg",), (None,)]


@pytest.mark.parametrize(
    "make, kwargs, message",
    [
        (lambda d: d / "missing.csv", {}, r"missing\.csv: file not found"),
        (lambda d: str(d / "nothing*.parquet"), {}, r"nothing\*\.parquet: no file matches"),
        (lambda d: (d / "x.xlsx").write_text("x") and d / "x.xlsx", {}, r"x\.xlsx: unknown file"),
        (
            lambda d: write_csv(d / "nocol.csv", ["id", "caption"], [[1, "x"]]),
            {},
            r"nocol\.csv: column 'text' \(--text-col\) not found; columns: id, caption",
        ),
        (
            lambda d: write_csv(d / "noid.csv", ["text"], [["x"]]),
            {"id_col": "id"},
            r"noid\.csv: column 'id' \(--id-col\) not found; columns: text$",
        ),
        (
            lambda d: (
                pq.write_table(pa.table({"text": [1, 2]}), d / "t.parquet") or d / "t.parquet"
            ),
            {},
            r"t\.parquet: column 'text' \(--text-col\) has type BIGINT, expected text",
        ),
        (
            lambda d: write_jsonl(d / "s.jsonl", [{"text": {"a": 1}}]),
            {},
            r"s\.jsonl: column 'text' \(--text-col\) has type STRUCT",
        ),
        (
            lambda d: (
                pq.write_table(pa.table({"id": [1.5], "text": ["x"]}), d / "f.parquet")
                or d / "f.parquet"
            ),
            {"id_col": "id"},
            r"f\.parquet: column 'id' \(--id-col\) has type DOUBLE, expected text or integer",
        ),
        (
            lambda d: write_csv(d / "nullid.csv", ["id", "text"], [[1, "a"], [None, "b"]]),
            {"id_col": "id"},
            r"nullid\.csv: line \d+: column 'id' \(--id-col\) is empty",
        ),
    ],
)
def test_bad_input_one_line_error_and_warehouse_unchanged(wh, tmp_path, make, kwargs, message):
    good = write_csv(tmp_path / "good.csv", ["id", "text"], [[1, "a house"]])
    with geosql.connect(wh) as con:
        ingest(con, [good], "ok", id_col="id", entities=["house"])
    before = snapshot(wh)
    bad = make(tmp_path)
    with geosql.connect(wh) as con, pytest.raises(GeosqlError) as ei:
        ingest(con, [good, bad], "new", entities=["house"], **kwargs)
    assert "\n" not in str(ei.value)
    assert re.search(message, str(ei.value)), str(ei.value)
    assert snapshot(wh) == before


def test_unreadable_row_names_file_and_line(wh: Path, tmp_path: Path):
    good = write_csv(tmp_path / "a.csv", ["id", "text"], [[i, f"house {i}"] for i in range(50)])
    lines = ["id,text"] + [f'{i},"house {i}"' for i in range(30000)]
    lines[25000] = '25000,"a house",extra'
    bad = tmp_path / "b.csv"
    bad.write_text("\n".join(lines) + "\n")
    before = snapshot(wh)
    with geosql.connect(wh) as con, pytest.raises(GeosqlError) as ei:
        ingest(con, [good, bad], "x", id_col="id", entities=["house"])
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith(str(bad)) and "25001" in msg, msg
    assert snapshot(wh) == before


def test_malformed_json_names_file(wh: Path, tmp_path: Path):
    good = write_jsonl(tmp_path / "a.jsonl", [{"text": "ok"}])
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": "broken\n')
    with geosql.connect(wh) as con, pytest.raises(GeosqlError) as ei:
        ingest(con, [good, bad], "x")
    assert str(ei.value).startswith(f"{bad}:") and "\n" not in str(ei.value)
    assert snapshot(wh)["captions"] == []


def test_laion_dev_csv(wh: Path, shared: Path):
    f = shared / "data" / "dev" / "laion_self_dev.csv"
    if not f.exists():
        pytest.skip("laion_self_dev.csv not present")
    with geosql.connect(wh) as con:
        s = ingest(con, [f], "laion", id_col="id", url_col="url", entity_col="Entity")
        counts = dict(con.execute("SELECT entity, count(*) FROM caption_entities GROUP BY 1")
                      .fetchall())  # fmt: skip
    assert s.captions_added == 999
    assert counts["wedding dress"] == 40 and counts["living room"] == 52 and len(counts) == 20
