"""The real-caption bench inputs, benchmark discovery and the no-click rule (no timings)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from click.testing import CliRunner

from geosql.bench_geoparse import MAX_CHARS, fragments, real_captions, recombine

ROOT = Path(__file__).resolve().parents[2]


def test_fragments_and_recombine(tmp_path: Path) -> None:
    assert fragments(["Red car, parked near the beach. Rio de Janeiro - Brazil"]) == [
        "Red car",
        "parked near the beach.",
        "Rio de Janeiro",
        "Brazil",
    ]
    pools = [["alpha", "beta gamma"], ["x " * 300]]
    a = recombine(pools, 200, seed=1)
    assert a == recombine(pools, 200, seed=1) and a != recombine(pools, 200, seed=2)
    assert all(len(t) <= MAX_CHARS for t in a)
    assert any("x x" in t for t in a) and any("alpha" in t or "beta" in t for t in a)
    only_first = recombine(pools, 50, weights=[1, 0])
    assert not any("x" in t for t in only_first)


def test_real_captions_source_line(tmp_path: Path) -> None:
    assert real_captions(10, tmp_path / "missing") is None
    assert real_captions(10, tmp_path) is None  # no CSV
    (tmp_path / "a.csv").write_text('id,text\n1,"A house in Paris, France"\n2,Beach - Rio\n')
    (tmp_path / "b.csv").write_text("Text,x\nBerlin at night,1\n")
    (tmp_path / "c.csv").write_text("id,other\n1,2\n")  # no text column: skipped
    t, line = real_captions(100, tmp_path)
    assert t.num_rows == 100 and t.column_names == ["caption_id", "dataset", "text"]
    assert "a.csv (2 captions, 4 fragments)" in line and "b.csv (1 captions" in line
    assert "c.csv" not in line and "recombined fragments of real captions" in line


def test_bench_discovers_family_modules(tmp_path: Path, monkeypatch) -> None:
    """`geosql bench` imports udfs.<family>.bench of every family package that has one."""
    import udfs
    from geosql import bench

    fam = tmp_path / "zzfakefam"
    fam.mkdir()
    (fam / "__init__.py").write_text("")
    (fam / "bench.py").write_text(
        "from geosql.bench import benchmark\n"
        "@benchmark('zzfake')\n"
        "def b(workdir, scale):\n"
        "    return [f'fake ran at scale {scale} in {workdir.is_dir()}']\n"
    )
    monkeypatch.setattr(udfs, "__path__", [*udfs.__path__, str(tmp_path)])
    monkeypatch.setattr(bench, "BENCHMARKS", dict(bench.BENCHMARKS))
    try:
        known = bench.load_benchmarks()
        assert {"geoparse", "ingest", "ray", "zzfake"} <= set(known)
        from geosql.cli import get_cli

        res = CliRunner().invoke(get_cli(), ["bench", "zzfake", "--scale", "0.5"])
        assert res.exit_code == 0, res.output
        assert res.output.splitlines() == ["== zzfake", "  fake ran at scale 0.5 in True"]
        res = CliRunner().invoke(get_cli(), ["bench", "nope"])
        assert res.exit_code != 0 and "unknown benchmark 'nope'" in res.output
    finally:
        sys.modules.pop("udfs.zzfakefam.bench", None)
        sys.modules.pop("udfs.zzfakefam", None)


def test_library_modules_do_not_import_click() -> None:
    files = [ROOT / "geosql" / f for f in ("bench.py", "bench_geoparse.py", "bench_suite.py")]
    files += sorted((ROOT / "geosql" / "eval").glob("*.py")) + [ROOT / "geosql" / "evaluate.py"]
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "click" or n.startswith(("click.", "geosql.cli")) for n in names), f


def test_bench_falls_back_to_templates(wh: Path, tmp_path: Path, monkeypatch) -> None:
    import geosql
    from geosql.bench_geoparse import bench_captions

    monkeypatch.setenv("GEOSQL_SHARED", str(tmp_path / "absent"))
    with geosql.connect(wh) as con:
        con.execute("INSERT INTO countries (iso2, name) VALUES ('FR', 'france')")
        con.execute(
            "INSERT INTO places (geonameid, name, feature_code, country_code, population)"
            " VALUES (1, 'Lyon', 'PPL', 'FR', 500000)"
        )
        t, line = bench_captions(con, 50)
    assert t.num_rows == 50 and "template captions" in line and "not found" in line
    dev = tmp_path / "shared" / "data" / "dev"
    dev.mkdir(parents=True)
    (dev / "x.csv").write_text("text\nA house in Lyon\n")
    monkeypatch.setenv("GEOSQL_SHARED", str(tmp_path / "shared"))
    with geosql.connect(wh) as con:
        tbl, line = bench_captions(con, 5)
    assert "real captions" in line and "x.csv (1 captions, 1 fragments)" in line
    assert all(x.startswith("A house in Lyon") for x in tbl["text"].to_pylist())
