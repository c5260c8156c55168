"""`geosql ingest-generated`: folder and CSV layouts -> captions with entity, image path and a
`label` country."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import geosql
from geosql.errors import GeosqlError
from udfs.diversity.generated import ingest_generated, split_folder_name


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")  # content is not read at ingest


def test_split_folder_name():
    assert split_folder_name("house_india") == ("house", "IN")
    assert split_folder_name("living_room_south_korea") == ("living room", "KR")
    assert split_folder_name("car_united_states") == ("car", "US")
    with pytest.raises(GeosqlError, match="house_atlantis"):
        split_folder_name("house_atlantis")


def _rows(con):
    return con.execute(
        "SELECT c.caption_id, c.dataset, e.entity, g.country_code, g.method, g.config_key,"
        " c.image_path LIKE '%.png' FROM captions c JOIN caption_entities e USING (caption_id)"
        " JOIN current_geo_predictions g USING (caption_id) ORDER BY 1"
    ).fetchall()


def test_folder_layout(wh, tmp_path):
    root = tmp_path / "gen"
    _png(root / "house_india" / "0.png")
    _png(root / "house_india" / "sub" / "1.png")
    _png(root / "living_room_south_korea" / "a.png")
    (root / "house_india" / "notes.txt").write_text("not an image")
    with geosql.connect(wh) as con:
        s = ingest_generated(con, root, "sd")
        assert s.captions_added == 3
        assert _rows(con) == [
            ("sd:house_india/0.png", "sd", "house", "IN", "label", "label", True),
            ("sd:house_india/sub/1.png", "sd", "house", "IN", "label", "label", True),
            ("sd:living_room_south_korea/a.png", "sd", "living room", "KR", "label", "label",
             True),
        ]  # fmt: skip
        again = ingest_generated(con, root, "sd")
        assert again.captions_added == 0 and len(_rows(con)) == 3


def test_csv_layout_and_cli(wh, tmp_path):
    from geosql.cli import get_cli

    _png(tmp_path / "imgs" / "x.png")
    f = tmp_path / "gen.csv"
    f.write_text("path,entity,country,prompt\nimgs/x.png,Car,Türkiye,a car in Turkey\n")
    r = CliRunner().invoke(get_cli(), ["-w", str(wh), "ingest-generated", str(f), "--dataset", "g"])
    assert r.exit_code == 0, r.output
    with geosql.connect(wh) as con:
        assert _rows(con) == [("g:imgs/x.png", "g", "car", "TR", "label", "label", True)]
        path, text = con.execute("SELECT image_path, text FROM captions").fetchone()
    assert path == str(tmp_path / "imgs" / "x.png") and text == "a car in Turkey"


def test_csv_errors(wh, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("path,entity,country\na.png,car,France\nb.png,car,Narnia\n")
    with geosql.connect(wh) as con:
        with pytest.raises(GeosqlError, match=r"bad.csv: line 3: .*unknown country 'Narnia'"):
            ingest_generated(con, bad, "g")
        assert con.execute("SELECT count(*) FROM captions").fetchone()[0] == 0
        cols = tmp_path / "cols.csv"
        cols.write_text("file,entity\na.png,car\n")
        with pytest.raises(GeosqlError, match="missing column"):
            ingest_generated(con, cols, "g")
        with pytest.raises(GeosqlError, match="no images"):
            (tmp_path / "empty" / "house_france").mkdir(parents=True)
            ingest_generated(con, tmp_path / "empty", "g")
