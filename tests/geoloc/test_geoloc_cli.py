"""The geolocation commands through the CLI: one-line errors, exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from geoloc_data import add_places

import geosql
from geosql.cli import get_cli
from udfs.geoloc.exif import write_gps


def test_ingest_geo_and_images_exif(wh, tmp_path):
    pytest.importorskip("PIL.Image")
    with geosql.connect(wh) as con:
        add_places(con)
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text, image_path) VALUES"
            " ('a', 'mine', 't', 'a.jpg')"
        )
    write_gps(tmp_path / "a.jpg", 41.9, 12.5)
    f = tmp_path / "g.csv"
    f.write_text("id,lat,lon\nx,48.85,2.35\ny,100,2\n")
    cli = get_cli()
    r = CliRunner().invoke(cli, ["-w", str(wh), "ingest-geo", str(f), "--dataset", "g"])
    assert r.exit_code == 1 and "g.csv line 3: latitude 100 is outside" in r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    f.write_text("id,lat,lon\nx,48.85,2.35\n")
    r = CliRunner().invoke(cli, ["-w", str(wh), "ingest-geo", str(f), "--dataset", "g"])
    assert r.exit_code == 0, r.output
    assert "g: 1 geotagged images" in r.output
    r = CliRunner().invoke(
        cli, ["-w", str(wh), "images", "exif", "--dataset", "mine", "--image-root", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    assert "1 of 1 images have EXIF GPS" in r.output
    with geosql.connect(wh) as con:
        got = con.execute("SELECT image_id, country_code FROM geo_images ORDER BY 1").fetchall()
    assert got == [("a", "IT"), ("x", "FR")]
