"""clip-embed, clip-relabel and SVM training on real embeddings, with a tiny random-weight CLIP.

The model is a 64 px, 2-layer ViT built from a custom open_clip config; its random weights are
saved once as a local checkpoint so every load (stage runs, direct calls) is the same model.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

import geosql  # noqa: E402
from geosql.cli import get_cli  # noqa: E402
from geosql.runner import run_stage  # noqa: E402
from udfs.clip.images import link_images  # noqa: E402
from udfs.clip.model import (  # noqa: E402
    ImageTooLarge,
    decode_image,
    embed_images,
    embed_texts,
    load_clip,
    tiny_random_clip,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    """A tiny open_clip config file and a random-weight checkpoint for it."""
    return tiny_random_clip(tmp_path_factory.mktemp("tinyclip"))


@pytest.fixture(scope="module")
def clip(tiny):
    return load_clip(tiny["model"], tiny["pretrained"], "cpu", 16)


def _photo(seed: int, size=(120, 90)) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    arr[:, :, seed % 3] = np.linspace(0, 255, size[0], dtype=np.uint8)
    return Image.fromarray(arr)


def _huge_png(path: Path, w: int = 50_000, h: int = 50_000) -> None:
    """A valid PNG header declaring w x h pixels with almost no data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    """Good images plus every kind of broken one."""
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(3):
        _photo(i).save(d / f"ok{i}.jpg", quality=90)
    buf = io.BytesIO()
    _photo(7, (400, 300)).save(buf, "JPEG", quality=95)
    (d / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) * 6 // 10])
    _photo(8).convert("CMYK").save(d / "cmyk.jpg", quality=95)
    pal = _photo(9).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.save(d / "palette.png", transparency=0)
    _photo(10).convert("L").save(d / "grey.png")
    (d / "bogus.jpg").write_bytes(b"this is not an image at all" * 20)
    _huge_png(d / "huge.png")
    return d


CASES = ["ok0", "ok1", "ok2", "truncated", "cmyk", "palette", "grey", "bogus", "huge", "missing"]
FILES = {
    "ok0": "ok0.jpg",
    "ok1": "ok1.jpg",
    "ok2": "ok2.jpg",
    "truncated": "truncated.jpg",
    "cmyk": "cmyk.jpg",
    "palette": "palette.png",
    "grey": "grey.png",
    "bogus": "bogus.jpg",
    "huge": "huge.png",
    "missing": "nowhere/missing.jpg",
}


def _captions(con, rows: list[tuple[str, str | None, str | None, str | None]]) -> None:
    con.executemany(
        "INSERT INTO captions (caption_id, dataset, text, image_path, url) VALUES (?, 't', ?, ?, ?)",
        rows,
    )


def test_clip_embed_broken_images_are_row_errors(tmp_path, tiny, clip, image_dir):
    wh = tmp_path / "wh.duckdb"
    cfg = {**tiny, "image_root": str(image_dir), "kinds": "image,text", "workers": 2}
    with geosql.connect(wh) as con:
        _captions(con, [(f"t:{c}", f"a photo number {c}", FILES[c], None) for c in CASES])
        s = run_stage(con, "clip-embed", config=cfg)
        assert (s.rows_done, s.rows_failed) == (6, 4)
        errors = dict(
            con.execute(
                "SELECT item_id, error_type FROM stage_errors WHERE stage = 'clip-embed'"
            ).fetchall()
        )
        assert errors["t:truncated"] == "OSError"
        assert errors["t:bogus"] == "UnidentifiedImageError"
        assert errors["t:huge"] == "ImageTooLarge"
        assert errors["t:missing"] == "FileNotFoundError"
        assert set(errors) == {"t:truncated", "t:bogus", "t:huge", "t:missing"}
        rows = con.execute(
            "SELECT item_id, kind, model_key, dim, len(embedding), norm,"
            " list_cosine_similarity(embedding, embedding) FROM embeddings ORDER BY 1, 2"
        ).fetchall()
        images = {r[0] for r in rows if r[1] == "image"}
        assert images == {f"t:{c}" for c in ("ok0", "ok1", "ok2", "cmyk", "palette", "grey")}
        assert len([r for r in rows if r[1] == "text"]) == 10  # text of failed images too
        assert {r[2] for r in rows} == {f"{tiny['model']}/{tiny['pretrained']}"}
        assert all(r[3] == r[4] == 64 and r[5] > 0 for r in rows)
        assert all(abs(r[6] - 1.0) < 1e-5 for r in rows)  # unit length
        # the stored vectors are what the model gives (workers=2 vs in-process, same checkpoint)
        stored = np.array(
            con.execute(
                "SELECT embedding FROM embeddings WHERE kind = 'image' AND item_id LIKE 't:ok%'"
                " ORDER BY item_id"
            ).fetchall()
        )[:, 0].tolist()
        direct, norms, errs = embed_images(
            clip, [str(image_dir / f"ok{i}.jpg") for i in range(3)], workers=0
        )
        assert not errs
        np.testing.assert_allclose(np.array(stored), direct, atol=1e-5)
        # ARRAY functions work after a cast to the model's dimension
        sim = con.execute(
            "SELECT array_cosine_similarity(a.embedding::FLOAT[64], b.embedding::FLOAT[64])"
            " FROM embeddings a, embeddings b WHERE a.item_id = 't:ok0' AND b.item_id = 't:ok1'"
            " AND a.kind = 'image' AND b.kind = 'image'"
        ).fetchone()[0]
        assert sim == pytest.approx(float(direct[0] @ direct[1]), abs=1e-5)
        # nothing left to do; failed rows are not retried unless asked
        again = run_stage(con, "clip-embed", config=cfg)
        assert (again.rows_done, again.rows_failed) == (0, 0)


def test_cmyk_and_palette_are_converted(clip, image_dir, tmp_path):
    cmyk = Image.open(image_dir / "cmyk.jpg")
    assert cmyk.mode == "CMYK"
    cmyk.convert("RGB").save(tmp_path / "as_rgb.png")
    vecs, _, errs = embed_images(
        clip, [str(image_dir / "cmyk.jpg"), str(tmp_path / "as_rgb.png")], workers=0, draft=False
    )
    assert not errs
    assert float(vecs[0] @ vecs[1]) > 0.999
    with open(image_dir / "palette.png", "rb") as fp:
        img = decode_image(fp, 10**8)
    assert img.mode == "RGB" and img.size == (120, 90)
    with open(image_dir / "ok0.jpg", "rb") as fp, pytest.raises(ImageTooLarge):
        decode_image(fp, max_pixels=1000)


def test_real_photos(tmp_path, tiny, clip, shared):
    folder = shared / "data" / "images"
    index = folder / "index.csv"
    if not index.exists():
        pytest.skip("no shared images")
    wh = tmp_path / "wh.duckdb"
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text, image_path)"
            " SELECT 'wiki:' || file, 'wiki', 'a photo from ' || country, file FROM read_csv(?)",
            [str(index)],
        )
        s = run_stage(con, "clip-embed", config={**tiny, "image_root": str(folder), "workers": 0})
        assert (s.rows_done, s.rows_failed) == (60, 0)
        x = np.array(
            [
                r[0]
                for r in con.execute("SELECT embedding FROM embeddings ORDER BY item_id").fetchall()
            ]
        )
    assert x.shape == (60, 64)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    sims = x @ x.T
    assert sims[~np.eye(60, dtype=bool)].max() < 0.99999  # 60 different photos, 60 vectors
    with geosql.connect(wh) as con:  # another config of the same model: no duplicate vectors
        cfg = {**tiny, "image_root": str(folder), "workers": 0, "kinds": "image,text"}
        assert run_stage(con, "clip-embed", config=cfg).rows_done == 60
        n = con.execute(
            "SELECT kind, count(*), count(DISTINCT item_id) FROM embeddings GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert n == [("image", 60, 60), ("text", 60, 60)]


def _webdataset(root: Path) -> dict[str, bytes]:
    """img2dataset-style output: one webdataset shard and one 'files' shard, with JSON sidecars."""
    blobs = {}
    with tarfile.open(root / "00000.tar", "w") as tf:
        for i in range(2):
            key = f"00000000{i}"
            buf = io.BytesIO()
            _photo(20 + i).save(buf, "JPEG")
            blobs[key] = buf.getvalue()
            for name, data in (
                (f"{key}.jpg", buf.getvalue()),
                (f"{key}.json", json.dumps({"url": f"http://x/{i}.jpg", "key": key}).encode()),
                (f"{key}.txt", b"caption"),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    (root / "00001").mkdir()
    buf = io.BytesIO()
    _photo(30).save(buf, "JPEG")
    blobs["000010000"] = buf.getvalue()
    (root / "00001" / "000010000.jpg").write_bytes(buf.getvalue())
    (root / "00001" / "000010000.json").write_text(json.dumps({"url": "http://x/2.jpg"}))
    return blobs


def test_shards_and_img2dataset_layout(tmp_path, tiny, clip):
    root = tmp_path / "download"
    root.mkdir()
    blobs = _webdataset(root)
    wh = tmp_path / "wh.duckdb"
    with geosql.connect(wh) as con:
        _captions(
            con,
            [
                ("t:a", "x", None, "http://x/0.jpg"),
                ("t:b", "x", None, "http://x/1.jpg"),
                ("t:c", "x", None, "http://x/2.jpg"),
                ("t:d", "x", None, "http://elsewhere/3.jpg"),
            ],
        )
        assert link_images(con, root, "url") == 3
        paths = dict(con.execute("SELECT caption_id, image_path FROM captions").fetchall())
        assert paths == {
            "t:a": "00000.tar/000000000.jpg",
            "t:b": "00000.tar/000000001.jpg",
            "t:c": "00001/000010000.jpg",
            "t:d": None,
        }
        s = run_stage(con, "clip-embed", config={**tiny, "image_root": str(root), "workers": 0})
        assert (s.rows_done, s.rows_failed) == (3, 0)
        got = dict(con.execute("SELECT item_id, embedding FROM embeddings").fetchall())
    for cid, key in (("t:a", "000000000"), ("t:b", "000000001"), ("t:c", "000010000")):
        f = tmp_path / f"{key}.jpg"
        f.write_bytes(blobs[key])
        want, _, _ = embed_images(clip, [str(f)], workers=0)
        np.testing.assert_allclose(np.array(got[cid]), want[0], atol=1e-5)


def test_out_of_memory_halves_the_batch(tiny, image_dir):
    clip = load_clip(tiny["model"], tiny["pretrained"], "cpu", 8)
    paths = [str(image_dir / f"ok{i % 3}.jpg") for i in range(7)]
    want, _, _ = embed_images(clip, paths, workers=0)
    real = clip.model.encode_image
    sizes: list[int] = []

    def small_gpu(x):
        sizes.append(len(x))
        if len(x) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(x)

    clip.model.encode_image = small_gpu
    got, _, errs = embed_images(clip, paths, workers=0)
    assert not errs
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert clip.batch == 2 and clip.stats["oom_halvings"] == 2
    assert sizes[:3] == [7, 4, 2]  # 7 images in a batch of 8 -> 4 -> 2, then 2s


def test_relabel_against_prompt_embeddings(tmp_path, tiny, clip, image_dir):
    wh = tmp_path / "wh.duckdb"
    vocab = tmp_path / "labels.csv"
    vocab.write_text("name\nbridge\ndog\nmountain\nboat\n")
    with geosql.connect(wh) as con:
        _captions(con, [(f"t:ok{i}", None, f"ok{i}.jpg", None) for i in range(3)])
        run_stage(con, "clip-embed", config={**tiny, "image_root": str(image_dir), "workers": 0})
        from udfs.clip.relabel import load_labels

        assert load_labels(con, vocab) == 4
        cfg = {"model": tiny["model"], "pretrained": tiny["pretrained"], "top_k": 3}
        s = run_stage(con, "clip-relabel", config=cfg)
        assert s.rows_done == 3
        rows = con.execute(
            "SELECT caption_id, rank, label_id, similarity FROM clip_labels ORDER BY 1, 2"
        ).fetchall()
        imgs = dict(
            con.execute("SELECT item_id, embedding FROM embeddings WHERE kind = 'image'").fetchall()
        )
        prompts = [
            r[0] for r in con.execute("SELECT prompt FROM labels ORDER BY label_id").fetchall()
        ]
        assert prompts[0] == "a photo of a boat."
        assert run_stage(con, "clip-relabel", config=cfg).rows_done == 0
        con.execute("UPDATE labels SET prompt = 'a photo of a big dog.' WHERE label_id = 'dog'")
        assert run_stage(con, "clip-relabel", config=cfg).rows_done == 3  # vocabulary changed
    text, _ = embed_texts(clip, prompts)
    names = ["boat", "bridge", "dog", "mountain"]
    assert len(rows) == 9
    for cid in ("t:ok0", "t:ok1", "t:ok2"):
        sims = text @ np.array(imgs[cid], dtype=np.float32)
        best = np.argsort(-sims)[:3]
        mine = [r for r in rows if r[0] == cid]
        assert [r[2] for r in mine] == [names[i] for i in best]
        np.testing.assert_allclose([r[3] for r in mine], sims[best], atol=1e-5)


def test_svm_train_on_stored_embeddings(tmp_path, tiny, image_dir):
    from click.testing import CliRunner
    from sklearn.svm import SVC

    from udfs.clip.svm import load_params

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(16):  # two visibly different kinds of images
        img = _photo(i) if i % 2 else Image.new("RGB", (120, 90), (20 * (i % 8), 200, 40))
        img.save(folder / f"{i}.jpg")
    wh = tmp_path / "wh.duckdb"
    with geosql.connect(wh) as con:
        _captions(con, [(f"t:{i}", None, f"{i}.jpg", None) for i in range(16)])
        con.execute("INSERT INTO caption_entities SELECT caption_id, 'house' FROM captions")
        run_stage(con, "clip-embed", config={**tiny, "image_root": str(folder), "workers": 0})
    labels = tmp_path / "labels.csv"
    labels.write_text("image_path,label\n" + "".join(f"{i}.jpg,{i % 2}\n" for i in range(16)))
    runner = CliRunner()
    res = runner.invoke(
        get_cli(),
        [
            "-w",
            str(wh),
            "svm",
            "train",
            "--entity",
            "house",
            "--labels",
            str(labels),
            "--folds",
            "4",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "house:trained: 16 images (8 positive), 4-fold CV accuracy" in res.output
    res = runner.invoke(
        get_cli(), ["-w", str(wh), "run", "entity-svm", "--set", "model=house:trained"]
    )
    assert res.exit_code == 0, res.output
    with geosql.connect(wh) as con:
        m = con.execute(
            "SELECT embedding_model_key, features, n_train, n_positive, cv_folds, cv_accuracy,"
            " cv_precision, cv_recall, file FROM svm_models WHERE model_id = 'house:trained'"
        ).fetchone()
        x = np.array(
            [
                r[0]
                for r in con.execute("SELECT embedding FROM embeddings ORDER BY item_id").fetchall()
            ]
        )
        ids = [
            r[0] for r in con.execute("SELECT item_id FROM embeddings ORDER BY item_id").fetchall()
        ]
        pres = dict(
            con.execute("SELECT caption_id, score FROM entity_presence ORDER BY 1").fetchall()
        )
    assert m[0] == f"{tiny['model']}/{tiny['pretrained']}" and m[1] == "unit"
    assert m[2:5] == (16, 8, 4)
    assert all(0.0 <= v <= 1.0 for v in m[5:8])
    assert m[5] == 1.0  # flat colour vs noise: separable even with random CLIP weights
    meta = json.loads(Path(m[8]).with_suffix(".json").read_text())
    assert meta["cv_accuracy"] == m[5] and meta["embedding_model_key"] == m[0]
    load_params(m[8])  # no pickle inside
    y = np.array([int(i.split(":")[1]) % 2 for i in ids])
    ref = SVC(kernel="rbf", C=1.0, gamma="scale").fit(x.astype(np.float64), y)
    np.testing.assert_allclose(
        [pres[i] for i in ids], ref.decision_function(x.astype(np.float64)), atol=1e-6
    )
    # new settings rerun (they were ignored before): every caption present at 0, none at 1e9
    with geosql.connect(wh) as con:
        for threshold, want in ((1e9, 0), (0.0, 8)):
            s = run_stage(
                con, "entity-svm", config={"model": "house:trained", "threshold": threshold}
            )
            assert s.rows_done == 16
            got = con.execute(
                "SELECT count(*) FILTER (WHERE present), count(*) FROM entity_presence"
            ).fetchone()
            assert got == (want, 16)


def test_a_fifo_is_a_row_error_not_a_hang(tmp_path: Path, tiny: dict[str, str]):
    import os

    from udfs.clip.model import ImageError, ImageSource

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file"):
        ImageSource().open(str(fifo))


def test_clip_embed_on_ray_gives_the_local_vectors(tmp_path: Path, tiny: dict[str, str]):
    """The same shards through the local runner and through --engine ray + attach."""
    pytest.importorskip("ray")
    from geosql.attach import attach
    from geosql.ingest import ingest
    from geosql.ray_engine import run_ray

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(6):
        _photo(40 + i).save(folder / f"{i}.jpg")
    shards = tmp_path / "shards"
    shards.mkdir()
    for s in range(2):
        rows = "".join(f"{s}{i},photo {i},{folder / f'{i}.jpg'}\n" for i in range(s * 3, s * 3 + 3))
        (shards / f"s{s}.csv").write_text(
            "id,text,path\n" + rows + f"{s}9,missing,{folder / 'no.jpg'}\n"
        )
    cfg = {**tiny, "workers": 0, "kinds": "image,text"}
    got = []
    for engine in ("local", "ray"):
        wh = tmp_path / f"{engine}.duckdb"
        with geosql.connect(wh) as con:
            if engine == "local":
                ingest(con, [str(shards / "*.csv")], "web", id_col="id", image_col="path")
                run_stage(con, "clip-embed", config=cfg)
        if engine == "ray":
            res = run_ray(wh, "clip-embed", str(shards / "*.csv"), tmp_path / "out", dataset="web",
                          config=cfg, mapping={"id_col": "id", "image_col": "path"}, num_cpus=2)  # fmt: skip
            assert len(res.done) == 2 and not res.failed
            with geosql.connect(wh) as con:
                attach(con, tmp_path / "out")
        with geosql.connect(wh, read_only=True) as con:
            got.append(
                (
                    con.execute(
                        "SELECT item_id, kind, model_key, embedding, config_key FROM embeddings"
                        " ORDER BY 1, 2"
                    ).fetchall(),
                    con.execute(
                        "SELECT item_id, error_type FROM stage_errors ORDER BY 1"
                    ).fetchall(),
                )
            )
    images = {r[0] for r in got[0][0] if r[1] == "image"}
    assert images == {"web:00", "web:01", "web:02", "web:13", "web:14", "web:15"}
    assert {e[0] for e in got[0][1]} == {"web:09", "web:19"}  # the missing images
    # The same rows and keys; the same vectors up to float32 rounding (a Ray actor runs torch
    # on its own thread count, which changes the order of the sums: ~1e-8 apart, seen in CI).
    strip = [[(i, k, m, c) for i, k, m, _, c in g[0]] for g in got]
    assert strip[0] == strip[1]
    np.testing.assert_allclose(
        np.array([r[3] for r in got[0][0]]), np.array([r[3] for r in got[1][0]]), atol=1e-6
    )
    assert got[0][1] == got[1][1]
