"""Golden tests of the similarity views and needs_annotation() on tiny hand-made tables."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import geosql

Q = 2 * math.pi * 6371.0088 / 4  # a quarter of a great circle, km
R = 1 / math.sqrt(2)


def _insert(con, table: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _image(con, cid: str, dataset: str, topic: str, vec: list[float], country=None,
           method: str = "label", key="synthetic/none") -> None:  # fmt: skip
    con.execute("INSERT INTO captions (caption_id, dataset, text) VALUES (?, ?, ?)",
                [cid, dataset, topic])  # fmt: skip
    con.execute("INSERT INTO caption_entities VALUES (?, ?)", [cid, topic])
    con.execute(
        "INSERT INTO embeddings (item_id, kind, model_key, dim, embedding) VALUES (?, 'image', ?,"
        " ?, ?)",
        [cid, key, len(vec), vec],
    )
    if country is not None:
        con.execute(
            "INSERT INTO geo_predictions (caption_id, method, country_code, confidence)"
            " VALUES (?, ?, ?, 1.0)",
            [cid, method, country],
        )


@pytest.fixture
def golden(wh: Path) -> Path:
    """Countries AA (0, 0), BB (0, 90), CC (0, 180); topic stove in datasets low and high."""
    with geosql.connect(wh) as con:
        _insert(con, "countries (iso2, name, geonameid)",
                [("AA", "aa land", 1), ("BB", "bb land", 2), ("CC", "cc land", 3)])  # fmt: skip
        _insert(con, "places (geonameid, name, lat, lon, feature_class, feature_code, country_code)",
                [(1, "AA", 0.0, 0.0, "A", "PCLI", "AA"), (2, "BB", 0.0, 90.0, "A", "PCLI", "BB"),
                 (3, "CC", 0.0, 180.0, "A", "PCLI", "CC")])  # fmt: skip
        _image(con, "low:1", "low", "stove", [1.0, 0.0], "AA")
        _image(con, "low:2", "low", "stove", [0.0, 1.0], "AA")
        _image(con, "low:3", "low", "stove", [1.0, 0.0], "BB")
        _image(con, "low:4", "low", "stove", [-1.0, 0.0], "CC")
        _image(con, "low:5", "low", "bed", [0.0, 1.0], "BB")
        _image(con, "high:1", "high", "stove", [1.0, 0.0], "AA")
        _image(con, "high:2", "high", "stove", [0.0, 1.0])  # no country
        # a geoparser's guess for low:3 loses to its label (similarity_methods: label first)
        _image(con, "x:1", "x", "other", [1.0, 0.0], "CC")
        con.execute("INSERT INTO geo_predictions (caption_id, method, country_code) VALUES"
                    " ('low:3', 'offline', 'CC')")  # fmt: skip
    return wh


def rows(path: Path, sql: str) -> list[tuple]:
    with geosql.connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()


def approx(rs: list[tuple]) -> list[tuple]:
    return [tuple(round(v, 4) if isinstance(v, float) else v for v in r) for r in rs]


def test_similarity_images_country_by_method_priority(golden: Path) -> None:
    got = rows(golden, "SELECT caption_id, topic, dataset, country_code, method FROM"
                       " similarity_images WHERE dataset <> 'x' ORDER BY caption_id")  # fmt: skip
    assert got == [
        ("high:1", "stove", "high", "AA", "label"),
        ("high:2", "stove", "high", None, None),
        ("low:1", "stove", "low", "AA", "label"),
        ("low:2", "stove", "low", "AA", "label"),
        ("low:3", "stove", "low", "BB", "label"),
        ("low:4", "stove", "low", "CC", "label"),
        ("low:5", "bed", "low", "BB", "label"),
    ]
    with geosql.connect(golden, read_only=True) as con:
        con.execute("SET VARIABLE similarity_methods = ['offline']")
        got = con.execute("SELECT caption_id, country_code FROM similarity_images WHERE"
                          " country_code IS NOT NULL ORDER BY 1").fetchall()  # fmt: skip
    assert got == [("low:3", "CC")]


def test_topic_country_centroids(golden: Path) -> None:
    got = rows(golden, "SELECT dataset, topic, country_code, n, centroid FROM"
                       " topic_country_centroids WHERE dataset <> 'x' ORDER BY ALL")  # fmt: skip
    assert got == [
        ("high", "stove", "AA", 1, [1.0, 0.0]),
        ("high", "stove", None, 1, [0.0, 1.0]),
        ("low", "bed", "BB", 1, [0.0, 1.0]),
        ("low", "stove", "AA", 2, [0.5, 0.5]),
        ("low", "stove", "BB", 1, [1.0, 0.0]),
        ("low", "stove", "CC", 1, [-1.0, 0.0]),
    ]


def test_topic_country_similarity(golden: Path) -> None:
    got = rows(golden, "SELECT low_dataset, high_dataset, topic, country_code, pooled,"
                       " high_country_code, n_low, n_high, cosine FROM topic_country_similarity"
                       " ORDER BY ALL")  # fmt: skip
    assert approx(got) == [
        # high's AA against low pooled ([.25, .25]: 4 images) and low's countries
        ("high", "low", "stove", "AA", False, "AA", 1, 2, round(R, 4)),
        ("high", "low", "stove", "AA", False, "BB", 1, 1, 1.0),
        ("high", "low", "stove", "AA", False, "CC", 1, 1, -1.0),
        ("high", "low", "stove", "AA", True, None, 1, 4, round(R, 4)),
        # low's countries against high pooled ([.5, .5]: located and unlocated) and high's AA
        ("low", "high", "stove", "AA", False, "AA", 2, 1, round(R, 4)),
        ("low", "high", "stove", "AA", True, None, 2, 2, 1.0),
        ("low", "high", "stove", "BB", False, "AA", 1, 1, 1.0),
        ("low", "high", "stove", "BB", True, None, 1, 2, round(R, 4)),
        ("low", "high", "stove", "CC", False, "AA", 1, 1, -1.0),
        ("low", "high", "stove", "CC", True, None, 1, 2, round(-R, 4)),
    ]


def test_country_pair_similarity(golden: Path) -> None:
    got = rows(golden, "SELECT dataset_a, country_a, dataset_b, country_b, n_a, n_b, cosine,"
                       " distance_km FROM country_pair_similarity WHERE topic = 'stove'"
                       " ORDER BY ALL")  # fmt: skip
    q, h = round(Q, 4), round(2 * Q, 4)
    assert approx(got) == [
        ("high", "AA", "low", "AA", 1, 2, round(R, 4), 0.0),
        ("high", "AA", "low", "BB", 1, 1, 1.0, q),
        ("high", "AA", "low", "CC", 1, 1, -1.0, h),
        ("low", "AA", "high", "AA", 2, 1, round(R, 4), 0.0),
        ("low", "AA", "low", "BB", 2, 1, round(R, 4), q),
        ("low", "AA", "low", "CC", 2, 1, round(-R, 4), h),
        ("low", "BB", "high", "AA", 1, 1, 1.0, q),
        ("low", "BB", "low", "AA", 1, 2, round(R, 4), q),
        ("low", "BB", "low", "CC", 1, 1, -1.0, q),
        ("low", "CC", "high", "AA", 1, 1, -1.0, h),
        ("low", "CC", "low", "AA", 1, 2, round(-R, 4), h),
        ("low", "CC", "low", "BB", 1, 1, -1.0, q),
    ]


def test_distance_vs_similarity_is_spearman(golden: Path) -> None:
    stats = pytest.importorskip("scipy.stats")
    got = rows(golden, "SELECT dataset_a, dataset_b, n_pairs, spearman FROM"
                       " distance_vs_similarity WHERE topic = 'stove' ORDER BY ALL")  # fmt: skip
    # low x low: (AA,BB) q, R; (AA,CC) 2q, -R; (BB,CC) q, -1 -> tied distances share a rank
    expected = stats.spearmanr([Q, 2 * Q, Q], [R, -R, -1.0]).statistic
    assert got[-1][:3] == ("low", "low", 3)
    assert got[-1][3] == pytest.approx(expected)
    # high x low: (AA,BB) q, 1; (AA,CC) 2q, -1 (same country AA left out): 2 pairs -> NULL
    assert got[0] == ("high", "low", 2, None)


def test_needs_annotation(golden: Path) -> None:
    got = rows(golden, "SELECT topic, country_code, low_dataset, high_dataset, best_similarity,"
                       " n_have, n_images, est_cost_usd, supplement_countries,"
                       " supplement_similarities FROM needs_annotation(threshold := 0.8,"
                       " price_per_image := 1.5, n_images := 40)"
                       " WHERE low_dataset <> 'x' AND high_dataset <> 'x'")  # fmt: skip
    assert approx(got) == [
        ("bed", "BB", "low", "high", None, 1, 40, 60.0, [], []),  # high has no bed at all
        ("stove", "CC", "low", "high", round(-R, 4), 1, 40, 60.0, ["AA"], [-1.0]),
    ]
    one = rows(golden, "SELECT topic, country_code, low_dataset, high_dataset FROM"
                       " needs_annotation(only_topic := 'bed')")  # fmt: skip
    assert one == [("bed", "BB", "low", "high"), ("bed", "BB", "low", "x")]
    assert isinstance(got[0][7], float)
    lax = rows(golden, "SELECT count(*) FROM needs_annotation(threshold := -2)")
    # only pairs whose topic the other dataset lacks: low bed (vs high, x), x other (vs low,
    # high), low stove AA/BB/CC and high stove AA (vs x)
    assert lax == [(8,)]
    strict = rows(golden, "SELECT topic, country_code, low_dataset, high_dataset FROM"
                          " needs_annotation(threshold := 1.01) WHERE high_dataset = 'high'"
                          " AND low_dataset = 'low'")  # fmt: skip
    assert strict == [("bed", "BB", "low", "high"), ("stove", "CC", "low", "high"),
                      ("stove", "AA", "low", "high"), ("stove", "BB", "low", "high")]  # fmt: skip


def test_country_points_sources(wh: Path) -> None:
    with geosql.connect(wh) as con:
        _insert(con, "countries (iso2, name, geonameid)",
                [("DD", "dd", 11), ("EE", "ee", 12), ("FF", "ff", 13), ("GG", "gg", 14)])  # fmt: skip
        _insert(con, "places (geonameid, name, lat, lon, feature_class, country_code, population)",
                [(11, "DD", None, None, "A", "DD", None),  # country row without coordinates
                 (21, "d1", 0.0, 179.0, "P", "DD", 100), (22, "d2", 0.0, -179.0, "P", "DD", 100),
                 (31, "f1", 0.0, 0.0, "P", "FF", 300), (32, "f2", 0.0, 10.0, "P", "FF", 100),
                 (14, "GG", 45.0, 7.0, "A", "GG", None), (41, "g1", 0.0, 0.0, "P", "GG", 10)])  # fmt: skip
        _insert(con, "admin1 (country_code, admin1_code, name, lat, lon)",
                [("EE", "1", "e1", 10.0, 20.0), ("EE", "2", "e2", 20.0, 20.0)])  # fmt: skip
        got = con.execute("SELECT * FROM similarity_country_points ORDER BY 1").fetchall()
    d, e, f, g = got
    assert d[0] == "DD" and d[1] == pytest.approx(0, abs=1e-9) and abs(d[2]) == pytest.approx(180)
    assert d[3] == "populated_places"  # across the antimeridian, not lon 0
    assert e[0] == "EE" and e[1] == pytest.approx(15.0, abs=0.1) and e[2] == pytest.approx(20.0)
    assert e[3] == "admin1"
    lon = math.degrees(math.atan2(100 * math.sin(math.radians(10)),
                                  300 + 100 * math.cos(math.radians(10))))  # fmt: skip
    assert f[0] == "FF" and f[2] == pytest.approx(lon) and f[3] == "populated_places"
    assert g == ("GG", 45.0, 7.0, "geonames_country")
