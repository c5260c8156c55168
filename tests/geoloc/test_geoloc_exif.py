"""EXIF GPS written by the test into JPEGs, read back into geo_images."""

from __future__ import annotations

import pytest

import geosql
from udfs.geoloc.exif import dms_to_degrees, load_exif, read_gps, write_gps

pytest.importorskip("PIL")


def test_dms_refs():
    assert dms_to_degrees(((33, 1), (30, 1), (36, 1)), "S") == pytest.approx(-33.51)
    assert dms_to_degrees((151.0, 12.0, 0.0), b"E") == pytest.approx(151.2)
    assert dms_to_degrees(12.5, "W") == -12.5


@pytest.mark.parametrize("lat, lon", [(48.8566, 2.3522), (-33.8688, 151.2093), (40.7, -74.0)])
def test_exif_round_trip(tmp_path, lat, lon):
    p = tmp_path / "x.jpg"
    write_gps(p, lat, lon)
    got = read_gps(p)
    assert got == pytest.approx((lat, lon), abs=1e-6)


def test_no_gps_and_broken_files(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "plain.jpg")
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    assert read_gps(tmp_path / "plain.jpg") is None
    assert read_gps(tmp_path / "junk.jpg") is None
    assert read_gps(tmp_path / "missing.jpg") is None


def test_images_exif_into_geo_images(geo_wh, tmp_path):
    from PIL import Image

    d = tmp_path / "imgs"
    d.mkdir()
    write_gps(d / "a.jpg", 35.68, 139.65)
    write_gps(d / "b.jpg", -22.9, -43.17)
    Image.new("RGB", (8, 8)).save(d / "c.jpg")
    with geosql.connect(geo_wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text, image_path) VALUES (?, 'mine', 't', ?)",
            [("m:a", "a.jpg"), ("m:b", "b.jpg"), ("m:c", "c.jpg"), ("m:d", None)],
        )
        assert load_exif(con, "mine", str(d)) == (2, 3)
        assert load_exif(con, "mine", str(d)) == (2, 3)  # rerun replaces, no duplicates
        rows = con.execute(
            "SELECT image_id, round(lat, 2), round(lon, 2), country_code, source, image_path"
            " FROM geo_images ORDER BY image_id"
        ).fetchall()
    assert rows == [
        ("m:a", 35.68, 139.65, "JP", "exif", "a.jpg"),
        ("m:b", -22.9, -43.17, "BR", "exif", "b.jpg"),
    ]
