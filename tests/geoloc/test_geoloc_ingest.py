"""`ingest-geo` formats, rejected rows, all-or-nothing loading; EXIF GPS; reverse geocoding."""

from __future__ import annotations

import numpy as np
import pytest
from geoloc_data import CITIES

import geosql
from geosql.errors import GeosqlError
from udfs.geoloc.ingest import ingest_geo, sniff
from udfs.geoloc.revgeo import PlaceIndex


def _rows(con, dataset):
    return con.execute(
        "SELECT image_id, lat, lon, country_code, country_source, admin1_code, image_path,"
        " source_line FROM geo_images WHERE dataset = ? ORDER BY image_id",
        [dataset],
    ).fetchall()


def test_mp16_country_names_and_geocoding(geo_wh, tmp_path):
    f = tmp_path / "mp16.csv"
    f.write_text(
        "IMG_ID,LAT,LON,neighbourhood,city,county,state,region,country,continent\n"
        "10/ab/1.jpg,48.85,2.35,,Paris,,,,France,Europe\n"
        "10/ab/2.jpg,52.5,13.4,,Berlin,,,,Atlantis,Europe\n"  # unknown name: geocoded
        "10/ab/3.jpg,-30.0,-140.0,,,,,,,\n"  # mid-Pacific: no place within 200 km
    )
    with geosql.connect(geo_wh) as con:
        res = ingest_geo(con, [f], "mp16", image_root="/data/mp16")
        rows = _rows(con, "mp16")
    assert sniff(f).fmt == "mp16"
    assert (res.rows, res.country_given, res.country_geocoded, res.no_country) == (3, 1, 1, 1)
    assert rows[0][3:5] == ("FR", "given") and rows[0][6] == "/data/mp16/10/ab/1.jpg"
    assert rows[1][3:6] == ("DE", "nearest_place", "16")
    assert rows[2][3] is None and rows[2][7] == 4


def test_im2gps_and_plain_formats(geo_wh, tmp_path):
    im = tmp_path / "im2gps3k.csv"
    im.write_text(
        "IMG_ID,AUTHOR,LAT,LON,S3_Label\nx.jpg,me,35.68,139.65,1\ny.jpg,you,-33.87,151.2,2\n"
    )
    plain = tmp_path / "plain.csv"
    plain.write_text("id,lat,lon,path\np1,40.71,-74.0,a/p1.jpg\np2,41.9,12.5,\n")
    bare = tmp_path / "bare.csv"
    bare.write_text("b1,19.07,72.87\nb2,-1.29,36.82\n")
    with geosql.connect(geo_wh) as con:
        ingest_geo(con, [im], "im2gps3k")
        ingest_geo(con, [plain, bare], "mine")
        a, b = _rows(con, "im2gps3k"), _rows(con, "mine")
    assert [(r[0], r[3], r[6]) for r in a] == [("x.jpg", "JP", "x.jpg"), ("y.jpg", "AU", "y.jpg")]
    assert [(r[0], r[3], r[6], r[7]) for r in b] == [
        ("b1", "IN", None, 1),
        ("b2", "KE", None, 2),
        ("p1", "US", "a/p1.jpg", 2),
        ("p2", "IT", None, 3),
    ]


def _yfcc_line(n_cols, pid, lon, lat):
    cols = [""] * n_cols
    i, lo, la, url = {23: (0, 10, 11, 14), 25: (1, 12, 13, 16)}[n_cols]
    cols[i], cols[lo], cols[la] = pid, lon, lat
    cols[url] = f"http://farm.example/{pid}.jpg"
    cols[6 if n_cols == 23 else 8] = "a+title+with,commas"
    return "\t".join(cols)


@pytest.mark.parametrize("n_cols", [23, 25])
def test_yfcc100m_skips_rows_without_gps(geo_wh, tmp_path, n_cols):
    f = tmp_path / "yfcc100m_dataset"
    f.write_text(
        "\n".join(
            [
                _yfcc_line(n_cols, "100", "-118.24", "34.05"),
                _yfcc_line(n_cols, "101", "", ""),
                _yfcc_line(n_cols, "102", "139.65", "35.67"),
            ]
        )
        + "\n"
    )
    with geosql.connect(geo_wh) as con:
        res = ingest_geo(con, [f], "yfcc")
        rows = _rows(con, "yfcc")
    assert res.skipped_no_gps == 1
    assert [(r[0], r[3], r[6], r[7]) for r in rows] == [
        ("100", "US", "http://farm.example/100.jpg", 1),
        ("102", "JP", "http://farm.example/102.jpg", 3),
    ]


@pytest.mark.parametrize(
    "line, why",
    [
        ("c,91.5,10", "line 4: latitude 91.5 is outside"),
        ("c,45,-181", "line 4: longitude -181 is outside"),
        ("c,north,10", "line 4: latitude 'north' is not a number"),
        ("c,,10", "line 4: latitude missing is not a number"),
        ("c,nan,10", "line 4: latitude nan is outside"),
        (",1,1", "line 4: the id is empty"),
        ("a,1,1", "good.csv line 4: id 'a' already appears at .*good.csv line 2"),
    ],
)
def test_bad_rows_rejected_nothing_loaded(geo_wh, tmp_path, line, why):
    good = tmp_path / "good.csv"
    good.write_text(f"id,lat,lon\na,48.85,2.35\nb,52.5,13.4\n{line}\nd,1,1\n")
    with geosql.connect(geo_wh) as con:
        ingest_geo(con, [_write(tmp_path / "old.csv")], "ds")
        before = _rows(con, "ds")
        with pytest.raises(GeosqlError, match=why):
            ingest_geo(con, [good], "ds")
        assert _rows(con, "ds") == before  # the earlier load is untouched
        assert len(before) == 1


def _write(p):
    p.write_text("id,lat,lon\nold,10,10\n")
    return p


def test_bad_row_deep_in_a_big_file_names_its_line(geo_wh, tmp_path):
    f = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-80, 80, 50_000), rng.uniform(-179, 179, 50_000)
    lines = [f"i{i},{a:.5f},{b:.5f}" for i, (a, b) in enumerate(zip(lat, lon, strict=True))]
    lines[41_234] = "bad,12.0,200.0"
    f.write_text("id,lat,lon\n" + "\n".join(lines) + "\n")
    with geosql.connect(geo_wh) as con:
        with pytest.raises(GeosqlError, match=r"big.csv line 41236: longitude 200.0"):
            ingest_geo(con, [f], "big")
        assert con.execute("SELECT count(*) FROM geo_images").fetchall()[0][0] == 0


def test_unknown_format_is_clear(geo_wh, tmp_path):
    f = tmp_path / "what.csv"
    f.write_text("foo,bar\n1,2\n")
    with geosql.connect(geo_wh) as con, pytest.raises(GeosqlError, match="cannot tell the format"):
        ingest_geo(con, [f], "x")


def test_place_index_nearest_and_max_km(geo_wh):
    with geosql.connect(geo_wh) as con:
        idx = PlaceIndex.from_con(con)
    got = idx.lookup(
        np.array([48.9, -18.1, -18.0, 0.0, np.nan]),
        np.array([2.4, -179.9, 178.0, -30.0, 1.0]),
        max_km=200,
    )
    # Suva across the antimeridian; mid-Atlantic and NaN get nothing
    assert got["country_code"].to_pylist() == ["FR", "FJ", "FJ", None, None]
    assert got["geonameid"].to_pylist()[:3] == [1, 16, 16]
    assert got["admin1_code"].to_pylist()[:3] == ["11", "01", "01"]
    assert got["place_km"][0].as_py() == pytest.approx(6.1, abs=1.5)
    assert len(idx) == len(CITIES)


def test_gzipped_file(geo_wh, tmp_path):
    import gzip

    f = tmp_path / "pts.csv.gz"
    with gzip.open(f, "wt") as out:
        out.write("image_id,latitude,longitude\ng1,-33.87,151.21\ng2,91,0\n")
    with geosql.connect(geo_wh) as con:
        with pytest.raises(GeosqlError, match=r"pts.csv.gz line 3: latitude 91 is outside"):
            ingest_geo(con, [f], "gz")
        with gzip.open(f, "wt") as out:
            out.write("image_id,latitude,longitude\ng1,-33.87,151.21\n")
        ingest_geo(con, [f], "gz")
        assert [r[3] for r in _rows(con, "gz")] == ["AU"]
