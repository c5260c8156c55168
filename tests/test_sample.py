"""The generated sample caption set and the demo's ingest path (geoparse skipped here)."""

from __future__ import annotations

import json
from pathlib import Path

import geosql
from geosql.demo import run_demo
from geosql.sample import ENTITIES, generate, write_sample


def test_sample_is_deterministic_and_varied(tmp_path: Path):
    rows = generate(300, seed=7)
    assert rows == generate(300, seed=7) and rows != generate(300, seed=8)
    assert len({r["id"] for r in rows}) == 300
    assert {r["lang"] for r in rows} == {"en", "es", "ja", "hi", "el"}
    assert {r["entity"] for r in rows} == set(ENTITIES)
    no_place = [r for r in rows if r["text"].startswith(("Kids playing", "A vintage red car"))]
    assert no_place  # some captions name no place
    p = write_sample(tmp_path / "s" / "captions.jsonl", 20, seed=1)
    lines = p.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == generate(20, seed=1)


def test_demo_ingests_once(tmp_path: Path, capsys):
    wh = tmp_path / "demo" / "geosql.duckdb"
    run_demo(wh, n=60, geoparse=False)
    run_demo(wh, n=60, geoparse=False)  # rerun adds nothing
    out = capsys.readouterr().out
    assert "60 captions added" in out and "0 captions added, 60 already present" in out
    assert (tmp_path / "demo" / "sample" / "captions.jsonl").exists()
    with geosql.connect(wh, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM captions").fetchone()[0] == 60
        assert con.execute("SELECT count(DISTINCT language) FROM captions").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM caption_entities").fetchone()[0] == 60
