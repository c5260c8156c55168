"""GeoCLIP with a tiny random-weight CLIP image tower, and the real photos of ../shared.

The tiny tower is a transformers CLIPModel (projection 768, as GeoCLIP's image MLP expects)
saved with save_pretrained: the same loading path as `openai/clip-vit-large-patch14`.
"""

from __future__ import annotations

import numpy as np
import pytest
from geoloc_data import add_places

import geosql

torch = pytest.importorskip("torch")
pytest.importorskip("geoclip")
pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")


def _photos(folder, n=6):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        arr = rng.integers(0, 255, (40 + i, 50, 3), dtype=np.uint8)
        p = folder / f"p{i}.jpg"
        Image.fromarray(arr).save(p)
        paths.append(p)
    return paths


def test_geoclip_top_k_over_gallery(geo_wh, tmp_path, tiny_clip_dir, gallery):
    from udfs.geoloc.stage import locate

    paths = _photos(tmp_path / "imgs")
    with geosql.connect(geo_wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text, image_path) VALUES (?, 'pics', 't', ?)",
            [(f"c{i}", p.name) for i, p in enumerate(paths)] + [("bad", "missing.jpg")],
        )
        cfg = {"method": "geoclip", "dataset": "pics", "clip_path": str(tiny_clip_dir),
               "gallery": str(gallery), "top_k": 4, "keep_candidates": 4,
               "image_root": str(tmp_path / "imgs"), "device": "cpu"}  # fmt: skip
        res = locate(con, cfg)
    p = res.outputs["image_geo_predictions"].to_pydict()
    c = res.outputs["image_geo_candidates"].to_pydict()
    assert [e[:2] for e in res.errors] == [("bad", "bad_image")]
    assert p["image_id"] == [f"c{i}" for i in range(len(paths))]
    pts = {(round(a, 3), round(b, 3)) for a, b in np.loadtxt(gallery, delimiter=",", skiprows=1)}
    assert all((round(a, 3), round(b, 3)) in pts for a, b in zip(p["lat"], p["lon"], strict=True))
    assert all(0 < s <= 1 for s in p["score"])
    assert len(c["image_id"]) == 4 * len(paths)
    for i in range(len(paths)):  # candidates: ranks 1..4, probabilities descending, top-1 = pred
        s = [sc for im, sc in zip(c["image_id"], c["score"], strict=True) if im == f"c{i}"]
        assert s == sorted(s, reverse=True) and s[0] == pytest.approx(p["score"][i])


def test_geoclip_missing_tower_is_clear(geo_wh, tmp_path, gallery):
    from geosql.errors import GeosqlError
    from udfs.geoloc.stage import locate

    paths = _photos(tmp_path / "imgs", 1)
    with geosql.connect(geo_wh) as con:
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text, image_path) VALUES ('c', 'pics', 't', ?)",
            [str(paths[0])],
        )
        with pytest.raises(GeosqlError, match="cannot load GeoCLIP's CLIP image tower"):
            locate(con, {"method": "geoclip", "dataset": "pics", "gallery": str(gallery),
                         "clip_path": str(tmp_path / "nowhere")})  # fmt: skip


CAPITALS = {"australia": (-35.28, 149.13, "AU"), "brazil": (-15.79, -47.88, "BR"),
            "canada": (45.42, -75.70, "CA"), "kenya": (-1.29, 36.82, "KE"),
            "southafrica": (-25.75, 28.19, "ZA")}  # fmt: skip


@pytest.mark.shared
def test_real_photos_tiny_clip_retrieval_and_geoclip(tmp_path, shared, tiny_clip_dir, gallery):
    """The real photos: clip-embed (tiny open_clip), retrieval against themselves, GeoCLIP."""
    open_clip = pytest.importorskip("open_clip")
    from geosql.runner import run_stage
    from udfs.clip import write_model_config
    from udfs.geoloc.ingest import ingest_geo

    imgs = sorted((shared / "data" / "images").glob("*.jpg"))
    assert len(imgs) >= 50
    cfg_file = write_model_config(tmp_path / "tiny")
    open_clip.add_model_config(cfg_file)
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    torch.save(open_clip.create_model(cfg_file.stem, pretrained=None).state_dict(), ckpt)
    wh = tmp_path / "wh.duckdb"
    truth = tmp_path / "truth.csv"
    lines = ["id,lat,lon"]
    with geosql.connect(wh) as con:
        add_places(con)
        con.execute("INSERT INTO places VALUES (90, 'canberra', 'canberra', -35.28, 149.13, 'P',"
                    " 'PPLC', 'AU', '01', 1, 't'), (91, 'brasilia', 'brasilia', -15.79, -47.88,"
                    " 'P', 'PPLC', 'BR', '07', 1, 't'), (92, 'ottawa', 'ottawa', 45.42, -75.7,"
                    " 'P', 'PPLC', 'CA', '08', 1, 't'), (93, 'pretoria', 'pretoria', -25.75,"
                    " 28.19, 'P', 'PPLC', 'ZA', '06', 1, 't')")  # fmt: skip
        rows = []
        for p in imgs:
            country = p.stem.split("_")[0].lower()
            rows.append((f"photos:{p.stem}", str(p)))
            la, lo, _ = CAPITALS[country]
            lines.append(f"photos:{p.stem},{la},{lo}")
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text, image_path) VALUES (?, 'photos', '', ?)",
            rows,
        )
        truth.write_text("\n".join(lines) + "\n")
        ingest_geo(con, [truth], "photos-truth")
        emb = {"model": str(cfg_file), "pretrained": str(ckpt), "device": "cpu", "workers": 0}
        s = run_stage(con, "clip-embed", config=emb, progress=False)
        assert s.rows_done == len(imgs) and s.rows_failed == 0
        key = f"{cfg_file}/{ckpt}"
        base = {"dataset": "photos", "reference": "photos-truth", "model_key": key}
        run_stage(con, "image-geolocate", progress=False,
                  config={**base, "aggregate": "top1", "exclude_self": False})  # fmt: skip
        # every photo is its own nearest neighbour: exact coordinates and country
        acc = con.sql("SELECT n, pct_1km, country_accuracy FROM geo_accuracy").fetchall()
        assert acc == [(len(imgs), 100.0, 1.0)]
        run_stage(con, "image-geolocate", progress=False,
                  config={"method": "geoclip", "dataset": "photos", "clip_path":
                          str(tiny_clip_dir), "gallery": str(gallery), "device": "cpu"})  # fmt: skip
        got = con.sql(
            "SELECT method, n FROM geo_accuracy WHERE dataset = 'photos-truth' ORDER BY method"
        ).fetchall()
        print(con.sql("SELECT * FROM geo_accuracy").pl())
    assert got == [("geoclip", len(imgs)), ("retrieval", len(imgs))]


def test_builtin_gallery_is_read():
    from udfs.geoloc.geoclip_method import builtin_gallery, read_gallery

    g = read_gallery(builtin_gallery())
    assert g.shape == (100_000, 2)
    assert (np.abs(g[:, 0]) <= 90).all() and (np.abs(g[:, 1]) <= 180).all()
