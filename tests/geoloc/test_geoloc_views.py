"""Golden tests of the geolocation views on tiny hand-made tables."""

from __future__ import annotations

import pytest

import geosql


def _pred(con, rows, config_key=None):
    con.executemany(
        "INSERT INTO image_geo_predictions (image_id, method, lat, lon, country_code, score,"
        " config_key) VALUES (?, ?, ?, ?, ?, 1.0, ?)",
        [(*r, config_key) for r in rows],
    )


def test_geo_accuracy_thresholds_and_published(wh):
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO geo_images (image_id, dataset, lat, lon, country_code) VALUES"
            " (?, 'IM2GPS3K', ?, 0.0, ?)",
            [("a", 0.0, "XA"), ("b", 0.0, "XA"), ("c", 0.0, "XA"), ("d", 0.0, None)],
        )
        # one degree of latitude = 111.195 km; errors 0.5 km, 20 km, 150 km, 5000 km
        _pred(
            con,
            [
                ("a", "g3", 0.5 / 111.195, 0.0, "XA"),
                ("b", "g3", 20 / 111.195, 0.0, "XA"),
                ("c", "g3", 150 / 111.195, 0.0, None),
                ("d", "g3", 5000 / 111.195, 0.0, "XB"),
                ("a", "retrieval", None, None, None),  # no location: left out
                ("b", "retrieval", 0.0, 0.0, "XA"),
            ],
        )
        rows = con.sql("SELECT * FROM geo_accuracy ORDER BY method").fetchall()
        ret = con.sql("SELECT n, coverage FROM geo_accuracy WHERE method = 'retrieval'").fetchall()
        cols = con.sql("SELECT * FROM geo_accuracy").columns
    assert len(rows) == 2 and ret == [(1, 0.25)]
    r = dict(zip(cols, rows[0], strict=True))
    assert (r["dataset"], r["method"], r["n"], r["coverage"]) == ("IM2GPS3K", "g3", 4, 1.0)
    assert [r[f"pct_{k}km"] for k in (1, 25, 200, 750, 2500)] == [25.0, 50.0, 75.0, 75.0, 75.0]
    assert r["median_km"] == pytest.approx((20 + 150) / 2, rel=1e-3)
    assert r["n_country"] == 3 and r["country_accuracy"] == pytest.approx(2 / 3)
    assert r["published_25km"] == 40.94 and r["published_2500km"] == 84.68


def test_current_image_geo_predictions_follows_stage_current(wh):
    with geosql.connect(wh) as con:
        _pred(con, [("a", "retrieval", 1.0, 1.0, None)], "k-old")
        _pred(con, [("a", "retrieval", 2.0, 2.0, None)], "k-new")
        _pred(con, [("a", "geoclip", 3.0, 3.0, None)], None)
        con.execute(
            "INSERT INTO stage_current (stage, scope, config_key) VALUES"
            " ('image-geolocate', 'retrieval', 'k-new'), ('other', 'geoclip', 'k-old')"
        )
        got = con.sql(
            "SELECT method, lat FROM current_image_geo_predictions ORDER BY method"
        ).fetchall()
    assert got == [("geoclip", 3.0), ("retrieval", 2.0)]


def test_caption_image_country_and_agreement(wh):
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 'd', 't')",
            [(c,) for c in "abcdef"],
        )
        con.executemany(
            "INSERT INTO geo_predictions (caption_id, method, country_code) VALUES (?, 'offline', ?)",
            [("a", "FR"), ("b", "FR"), ("c", "DE"), ("d", None), ("e", "US"), ("f", "JP")],
        )
        # image_locations (the vision family's GPS table) counts too; geo_images wins for "a"
        con.executemany(
            "INSERT INTO image_locations (caption_id, country_code) VALUES (?, ?)",
            [("a", "XX"), ("f", "JP")],
        )
        con.executemany(
            "INSERT INTO geo_images (image_id, dataset, lat, lon, country_code, source)"
            " VALUES (?, 'd', 0, 0, ?, 'exif')",
            [("a", "FR"), ("b", "BE"), ("c", "DE"), ("d", None)],
        )  # e has no GPS
        _pred(con, [("a", "geoclip", 0, 0, "FR"), ("e", "geoclip", 0, 0, "CA")])
        conf = con.sql(
            "SELECT image_source, caption_country, image_country, agree, n, share"
            " FROM caption_image_country ORDER BY ALL"
        ).fetchall()
        agg = con.sql(
            "SELECT image_source, n, agreement, n_both_located, located_agreement, n_disagree"
            " FROM caption_image_agreement ORDER BY image_source"
        ).fetchall()
    assert conf == [
        ("gps", "DE", "DE", True, 1, 0.2),
        ("gps", "FR", "BE", False, 1, 0.2),
        ("gps", "FR", "FR", True, 1, 0.2),
        ("gps", "JP", "JP", True, 1, 0.2),
        ("gps", None, None, True, 1, 0.2),
        ("image:geoclip", "FR", "FR", True, 1, 0.5),
        ("image:geoclip", "US", "CA", False, 1, 0.5),
    ]
    assert agg == [("gps", 5, 0.8, 4, 0.75, 1), ("image:geoclip", 2, 0.5, 2, 0.5, 1)]
