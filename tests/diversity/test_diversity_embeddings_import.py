"""`geosql embeddings import`: Parquet and clip-retrieval layouts, normalisation, one
transaction, errors for wrong dimensions and unknown ids."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import geosql
from geosql.errors import GeosqlError
from geosql.ingest import ingest
from udfs.embeddings.importer import import_embeddings


@pytest.fixture
def captions(wh, tmp_path):
    f = tmp_path / "caps.csv"
    with f.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "text", "url"])
        for i in range(10):
            w.writerow([f"{i:05d}", f"caption {i}", f"http://x/{i}.jpg"])
    with geosql.connect(wh) as con:
        ingest(con, [f], "laion", id_col="key", url_col="url")
    return wh


def _parquet(path, ids, vecs, fixed=False, name="embedding"):
    v = np.asarray(vecs, dtype=np.float32)
    col = (
        pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), v.shape[1])
        if fixed
        else pa.array([list(map(float, r)) for r in v], pa.list_(pa.float64()))
    )
    pq.write_table(pa.table({"caption_id": ids, name: col}), path)
    return path


def _count(con):
    return con.execute("SELECT count(*) FROM embeddings").fetchone()[0]


def test_parquet_list_column_normalised(captions, tmp_path, rng):
    v = rng.normal(size=(10, 8)) * 3
    ids = [f"laion:{i:05d}" for i in range(10)]
    f = _parquet(tmp_path / "e.parquet", ids, v)
    with geosql.connect(captions) as con:
        s = import_embeddings(con, [f], "image", "ext/model")
        assert (s.rows, s.dim, s.replaced) == (10, 8, 0)
        rows = con.execute(
            "SELECT item_id, dim, embedding, norm FROM embeddings ORDER BY item_id"
        ).fetchall()
        assert [r[0] for r in rows] == ids
        got = np.array([r[2] for r in rows])
        assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
        assert np.allclose(got * np.array([r[3] for r in rows])[:, None], v, atol=1e-4)
        again = import_embeddings(con, [f], "image", "ext/model")
        assert again.replaced == 10 and _count(con) == 10


def test_fixed_size_array_column_and_vector_col(captions, tmp_path, rng):
    ids = [f"laion:{i:05d}" for i in range(4)]
    f = _parquet(tmp_path / "e.parquet", ids, rng.normal(size=(4, 6)), fixed=True, name="v")
    with geosql.connect(captions) as con:
        with pytest.raises(GeosqlError, match="--vector-col"):
            import_embeddings(con, [f], "text", "m")
        assert import_embeddings(con, [f], "text", "m", vector_col="v").rows == 4
        assert con.execute("SELECT DISTINCT kind FROM embeddings").fetchall() == [("text",)]


def _clip_retrieval(root, rng, parts, dim=16, emb="img_emb"):
    (root / emb).mkdir(parents=True)
    (root / "metadata").mkdir()
    for n, keys in enumerate(parts):
        np.save(root / emb / f"{emb}_{n}.npy", rng.normal(size=(len(keys), dim)).astype("float16"))
        pq.write_table(
            pa.table({"image_path": [f"{k}.jpg" for k in keys], "key": keys}),
            root / "metadata" / f"metadata_{n}.parquet",
        )
    return root


def test_clip_retrieval_layout_with_dataset_prefix(captions, tmp_path, rng):
    root = _clip_retrieval(
        tmp_path / "out", rng, [[f"{i:05d}" for i in range(6)], ["00006", "00007"]]
    )
    with geosql.connect(captions) as con:
        s = import_embeddings(
            con, [root], "image", "ViT-L-14/openai", id_col="key", dataset="laion"
        )
        assert (s.rows, s.dim, len(s.files)) == (8, 16, 2)
        assert con.execute("SELECT min(item_id) FROM embeddings").fetchone()[0] == "laion:00000"


def test_match_by_url(captions, tmp_path, rng):
    f = tmp_path / "u.parquet"
    pq.write_table(pa.table({"url": ["http://x/3.jpg"], "embedding": [[1.0, 2.0, 2.0]]}), f)
    with geosql.connect(captions) as con:
        import_embeddings(con, [f], "image", "m", id_col="url", match="url")
        assert con.execute("SELECT item_id, norm FROM embeddings").fetchall() == [
            ("laion:00003", 3.0)
        ]


@pytest.mark.parametrize(
    "case, message",
    [
        ("unknown", r"row 3: id 'laion:99999' matches no caption"),
        ("ragged", r"row 2: vector of dimension 3, earlier rows have 4"),
        ("zero", r"row 2: zero or non-finite vector"),
        ("dup", r"row 3: id 'laion:00000' given twice"),
        ("existing_dim", r"dimension 4, but embeddings of 'm' have dimension 5"),
    ],
)
def test_errors_name_file_and_row_and_write_nothing(captions, tmp_path, case, message):
    ids = ["laion:00000", "laion:00001", "laion:00002"]
    vecs = [[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]]
    if case == "unknown":
        ids[2] = "laion:99999"
    if case == "zero":
        vecs[1] = [0.0] * 4
    if case == "dup":
        ids[2] = "laion:00000"
    f = tmp_path / "bad.parquet"
    col = [list(v) for v in vecs]
    if case == "ragged":
        col[1] = [1.0, 2.0, 3.0]
    good = _parquet(tmp_path / "good.parquet", ["laion:00009"], [[1.0, 1, 1, 1]])
    pq.write_table(pa.table({"caption_id": ids, "embedding": col}), f)
    with geosql.connect(captions) as con:
        if case == "existing_dim":
            g5 = _parquet(tmp_path / "g5.parquet", ["laion:00008"], [[1.0] * 5])
            import_embeddings(con, [g5], "image", "m")
        before = _count(con)
        with pytest.raises(GeosqlError, match=message) as e:
            import_embeddings(con, [good, f], "image", "m")
        named = "good.parquet" if case == "existing_dim" else "bad.parquet"
        assert named in str(e.value) and "\n" not in str(e.value)
        assert _count(con) == before  # the good file's rows were rolled back too


def test_id_repeated_in_a_later_file(captions, tmp_path):
    a = _parquet(tmp_path / "a.parquet", ["laion:00001", "laion:00002"], [[1.0, 0], [0, 1.0]])
    b = _parquet(tmp_path / "b.parquet", ["laion:00003", "laion:00001"], [[1.0, 1], [1.0, 2]])
    with geosql.connect(captions) as con:
        with pytest.raises(GeosqlError, match=r"b.parquet: row 2: id 'laion:00001' given twice"):
            import_embeddings(con, [a, b], "image", "m")
        assert _count(con) == 0


def test_metadata_row_count_mismatch(captions, tmp_path, rng):
    root = _clip_retrieval(tmp_path / "out", rng, [["00000", "00001"]])
    np.save(root / "img_emb" / "img_emb_0.npy", np.ones((3, 16), "float32"))
    with geosql.connect(captions) as con, pytest.raises(GeosqlError, match="3 vectors but"):
        import_embeddings(con, [root], "image", "m", id_col="key", dataset="laion")


def test_cli(captions, tmp_path, rng):
    from geosql.cli import get_cli

    f = _parquet(tmp_path / "e.parquet", ["laion:00001"], rng.normal(size=(1, 4)))
    r = CliRunner().invoke(
        get_cli(),
        ["-w", str(captions), "embeddings", "import", str(f), "--kind", "image",
         "--model-key", "ext/m"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "1 vectors of dimension 4" in r.output
    r = CliRunner().invoke(
        get_cli(),
        ["-w", str(captions), "embeddings", "import", str(f), "--kind", "image",
         "--model-key", "ext/m", "--dataset", "nope"],
    )  # fmt: skip
    assert r.exit_code != 0 and "matches no caption" in r.output
