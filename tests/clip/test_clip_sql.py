"""Vision parts that need no torch: SVM import/predict, reverse geocoding, balanced subsets, views."""

from __future__ import annotations

import hashlib
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import geosql
from geosql.cli import get_cli
from geosql.runner import run_stage

SEED_KEY = "ViT-B-32/openai"


def _cli(wh: Path, *args: str):
    return CliRunner().invoke(get_cli(), ["-w", str(wh), *map(str, args)])


# --------------------------------------------------------------------------- SVM


def test_seed_svm_import_needs_trust_and_predicts(tmp_path, shared):
    joblib = pytest.importorskip("joblib")
    pytest.importorskip("sklearn")
    seed = shared / "models" / "svm_classifier_house_1.joblib"
    if not seed.exists():
        pytest.skip("seed classifiers not present")
    wh = tmp_path / "wh.duckdb"
    res = _cli(wh, "svm", "import", seed, "--entity", "house")
    assert res.exit_code != 0
    assert "pickle: loading it runs code" in res.output
    res = _cli(wh, "svm", "import", seed, "--entity", "house", "--trust")
    assert res.exit_code == 0, res.output
    assert (
        "house:seed: SVC rbf with 331 support vectors on 512-d ViT-B-32/openai features (raw)"
        in res.output
    )

    # 512-d CLIP-like features: unit vectors (what `embeddings` stores) and their raw norms
    rng = np.random.default_rng(1)
    raw = rng.normal(0, 0.45, (20, 512))
    norms = np.linalg.norm(raw, axis=1)
    unit = raw / norms[:, None]
    with geosql.connect(wh) as con:
        row = con.execute(
            "SELECT entity, features, n_features, n_train, embedding_model_key, file FROM svm_models"
        ).fetchone()
        assert row[:5] == ("house", "raw", 512, None, SEED_KEY)
        np.load(row[5], allow_pickle=False)  # a plain parameter file
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, image_path) VALUES (?, 'd', ?)",
            [(f"d:{i}", f"{i}.jpg") for i in range(20)],
        )
        con.executemany(
            "INSERT INTO caption_entities VALUES (?, 'house')", [(f"d:{i}",) for i in range(15)]
        )
        con.executemany(
            "INSERT INTO embeddings (item_id, kind, model_key, dim, embedding, norm)"
            " VALUES (?, 'image', ?, 512, ?, ?)",
            [(f"d:{i}", SEED_KEY, unit[i].tolist(), float(norms[i])) for i in range(20)],
        )
        s = run_stage(con, "entity-svm", config={"model": "house:seed"})
        assert (s.rows_done, s.rows_failed) == (15, 0)  # only captions tagged 'house'
        got = con.execute(
            "SELECT caption_id, entity, model, present, score FROM entity_presence"
            " ORDER BY CAST(split_part(caption_id, ':', 2) AS INT)"
        ).fetchall()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = joblib.load(seed)
    x = unit[:15].astype(np.float32).astype(np.float64) * norms[:15, None].astype(np.float32)
    want = model.decision_function(x)
    assert [r[1:3] for r in got] == [("house", "house:seed")] * 15
    np.testing.assert_allclose([r[4] for r in got], want, atol=1e-6)
    assert [r[3] for r in got] == list(model.predict(x) == 1)


def test_svm_train_cli_on_stored_embeddings(tmp_path):
    pytest.importorskip("sklearn")
    wh = tmp_path / "wh.duckdb"
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(2, 16))
    x = np.vstack([centers[i % 2] + 0.05 * rng.normal(size=16) for i in range(12)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset) VALUES (?, 'd')",
            [(f"d:{i}",) for i in range(12)],
        )
        con.executemany(
            "INSERT INTO embeddings (item_id, kind, model_key, dim, embedding, norm)"
            " VALUES (?, 'image', 'm/none', 16, ?, 1.0)",
            [(f"d:{i}", x[i].tolist()) for i in range(12)],
        )
    labels = tmp_path / "l.csv"
    labels.write_text("caption_id,label\n" + "".join(f"d:{i},{i % 2}\n" for i in range(12)))
    res = _cli(wh, "svm", "train", "--entity", "Living_Room", "--labels", labels, "--folds", "3")
    assert res.exit_code == 0, res.output
    assert (
        "living room:trained: 12 images (6 positive), 3-fold CV accuracy 1.000 precision 1.000 recall 1.000"
        in res.output
    )
    with geosql.connect(wh) as con:
        s = run_stage(
            con,
            "entity-svm",
            config={"model": "living room:trained", "only_entity_captions": False},
        )
        assert s.rows_done == 12
        present = con.execute("SELECT caption_id, present FROM entity_presence").fetchall()
        acc = con.execute("SELECT cv_accuracy, cv_recall FROM svm_models").fetchone()
    assert acc == (1.0, 1.0)
    assert sorted(present) == sorted((f"d:{i}", i % 2 == 1) for i in range(12))
    res = _cli(
        wh, "svm", "train", "--entity", "house", "--labels", labels, "--embedding-model", "x/y"
    )
    assert res.exit_code != 0 and "no image embeddings for 'x/y'" in res.output


def test_country_distribution_present(tmp_path):
    wh = tmp_path / "wh.duckdb"
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO countries (iso2, name, continent_code) VALUES ('FR', 'france', 'EU'),"
            " ('KE', 'kenya', 'AF')"
        )
        con.execute("INSERT INTO continents VALUES ('EU', 'Europe'), ('AF', 'Africa')")
        con.execute(
            "INSERT INTO captions (caption_id, dataset, language) SELECT 'd:' || i, 'd', 'en'"
            " FROM range(1, 6) t(i)"
        )
        con.execute("INSERT INTO caption_entities SELECT 'd:' || i, 'house' FROM range(1, 6) t(i)")
        con.execute(
            "INSERT INTO geo_predictions (caption_id, method, country_code) VALUES"
            " ('d:1', 'offline', 'FR'), ('d:2', 'offline', 'FR'), ('d:3', 'offline', 'KE'),"
            " ('d:4', 'offline', NULL), ('d:5', 'offline', 'KE')"
        )
        con.execute(
            "INSERT INTO svm_models (model_id, entity, embedding_model_key, features, file, created)"
            " VALUES ('house:old', 'house', 'k', 'unit', 'f', TIMESTAMP '2020-01-01'),"
            " ('house:seed', 'house', 'k', 'raw', 'f', TIMESTAMP '2026-01-01')"
        )
        con.execute(
            "INSERT INTO entity_presence (caption_id, entity, model, present, score) VALUES"
            " ('d:1', 'house', 'house:seed', TRUE, 1.0), ('d:2', 'house', 'house:seed', FALSE, -1),"
            " ('d:3', 'house', 'house:seed', TRUE, 0.5), ('d:4', 'house', 'house:seed', TRUE, 1),"
            " ('d:2', 'house', 'house:old', TRUE, 1.0), ('d:5', 'house', 'house:old', TRUE, 1.0)"
        )
        rows = con.execute(
            "SELECT dataset, entity, language, method, country_code, country, continent, n, share"
            " FROM country_distribution_present ORDER BY country_code"
        ).fetchall()
        base_cols = [r[0] for r in con.execute("DESCRIBE country_distribution").fetchall()]
        mine_cols = [r[0] for r in con.execute("DESCRIBE country_distribution_present").fetchall()]
    assert mine_cols == base_cols
    assert rows == [
        ("d", "house", "en", "offline", "FR", "france", "Europe", 1, 0.5),
        ("d", "house", "en", "offline", "KE", "kenya", "Africa", 1, 0.5),
    ]


# --------------------------------------------------------------------------- geocoding


def _hav(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_reverse_geocode_nearest_place(tmp_path):
    from udfs.clip.relabel import load_locations, reverse_geocode

    wh = tmp_path / "wh.duckdb"
    places = [
        (1, "Nairobi", -1.2864, 36.8172, "P", "KE"),
        (2, "Admin area", -1.29, 36.82, "A", "XX"),  # not a populated place: ignored
        (3, "Paris", 48.8566, 2.3522, "P", "FR"),
        (4, "Lakeba", -18.2, 178.8, "P", "FJ"),
        (5, "Apia", -13.83, -171.76, "P", "WS"),
        (6, "Bahir Dar", 11.59, 37.39, "P", "ET"),
    ]
    locs = tmp_path / "gps.csv"
    locs.write_text(
        "caption_id,lat,lon,country_code\n"
        "d:nairobi,-1.30,36.80,\n"
        "d:paris,48.99,2.99,\n"
        "d:dateline,-18.0,-179.95,\n"  # nearest place is across the antimeridian
        "d:far,9.5,39.5,\n"  # no place in the 1-degree ring: found with 10-degree cells
        "d:ocean,0.0,-30.0,\n"  # over max_km from any place
        "d:given,48.85,2.35,de\n"
    )
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO places (geonameid, name, lat, lon, feature_class, country_code)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            places,
        )
        assert load_locations(con, locs) == 6
        assert reverse_geocode(con) == 4
        got = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT caption_id, country_code, country_source, geonameid, distance_km"
                " FROM image_locations"
            ).fetchall()
        }
    assert got["d:given"] == ("DE", "given", None, None)
    assert got["d:ocean"] == (None, None, None, None)
    for cid, (cc, gid, lat, lon, plat, plon) in {
        "d:nairobi": ("KE", 1, -1.30, 36.80, -1.2864, 36.8172),
        "d:paris": ("FR", 3, 48.99, 2.99, 48.8566, 2.3522),
        "d:dateline": ("FJ", 4, -18.0, -179.95, -18.2, 178.8),
        "d:far": ("ET", 6, 9.5, 39.5, 11.59, 37.39),
    }.items():
        assert got[cid][:3] == (cc, "nearest_place", gid)
        assert got[cid][3] == pytest.approx(_hav(lat, lon, plat, plon), rel=1e-9)


# --------------------------------------------------------------------------- balanced subsets

IMAGES = [  # caption_id, rank-1 label, similarity, country (None: no location)
    ("a1", "dog", 0.99, "FR"),
    ("a2", "dog", 0.98, "DE"),
    ("a3", "cat", 0.97, "FR"),
    ("a4", "dog", 0.96, "KE"),
    ("a5", "cat", 0.95, "KE"),
    ("a6", "dog", 0.94, "FR"),
    ("a7", "cat", 0.93, "DE"),
    ("a8", "bird", 0.92, "KE"),
    ("a9", "dog", 0.91, "JP"),
    ("a10", "cat", 0.90, "FR"),
    ("a11", "dog", 0.50, "KE"),
    ("a12", "bird", 0.40, "FR"),
    ("b1", "dog", 0.995, None),
]


@pytest.fixture
def relabelled(tmp_path) -> Path:
    wh = tmp_path / "wh.duckdb"
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO countries (iso2, name, continent_code) VALUES ('FR', 'france', 'EU'),"
            " ('DE', 'germany', 'EU'), ('KE', 'kenya', 'AF'), ('JP', 'japan', 'AS')"
        )
        con.execute(
            "INSERT INTO labels VALUES ('dog', 'dog', 'a photo of a dog.'),"
            " ('cat', 'cat', 'a photo of a cat.'), ('bird', 'bird', 'a photo of a bird.')"
        )
        for cid, label, sim, cc in IMAGES:
            con.execute(
                "INSERT INTO captions (caption_id, dataset, image_path) VALUES (?, 'y', ?)",
                [cid, f"{cid}.jpg"],
            )
            con.execute(
                "INSERT INTO clip_labels VALUES (?, 'm/k', 1, ?, ?, 'v', 'c'),"
                " (?, 'm/k', 2, 'bird', 0.1, 'v', 'c')",
                [cid, label, sim, cid],
            )
            if cc:
                con.execute(
                    "INSERT INTO image_locations (caption_id, country_code, country_source)"
                    " VALUES (?, ?, 'given')",
                    [cid, cc],
                )
    return wh


def _draw(ids: list[str], seed: int, cap: int) -> set[str]:
    return set(sorted(ids, key=lambda c: hashlib.md5(f"{seed}:{c}".encode()).hexdigest())[:cap])


def test_balanced_subset_golden(relabelled):
    from udfs.clip.relabel import build_subset

    # top 10 = a1..a10 (b1 has no location); AS holds 1/10 < 0.15 -> dropped; bird is only in
    # AF -> dropped by the each-domain rule; dog {a1,a2,a4,a6} and cat {a3,a5,a7,a10} capped at 3.
    with geosql.connect(relabelled) as con:
        s = build_subset(con, top=10, min_domain_share=0.15, min_class=1, cap=3, seed=0)
        rows = con.execute("SELECT * FROM relabel_subset ORDER BY caption_id").fetchall()
        assert s["rows"] == 6 and s["classes"] == 2 and set(s["domains"]) <= {"EU", "AF"}
        want = _draw(["a1", "a2", "a4", "a6"], 0, 3) | _draw(["a3", "a5", "a7", "a10"], 0, 3)
        assert {r[0] for r in rows} == want
        by_id = {c: (lab, sim, cc) for c, lab, sim, cc in IMAGES}
        cont = {"FR": "EU", "DE": "EU", "KE": "AF"}
        for cid, label_id, label, sim, cc, domain, path in rows:
            assert (label_id, sim, cc) == by_id[cid]
            assert (label, domain, path) == (label_id, cont[cc], f"{cid}.jpg")
        # another seed draws another sample of the same size; the same seed the same one
        other = build_subset(con, top=10, min_domain_share=0.15, min_class=1, cap=3, seed=7)
        assert other["rows"] == 6
        again = {r[0] for r in con.execute("SELECT caption_id FROM relabel_subset").fetchall()}
        assert again == _draw(["a1", "a2", "a4", "a6"], 7, 3) | _draw(
            ["a3", "a5", "a7", "a10"], 7, 3
        )
        # min_class per domain: dog and cat have 1 image in AF -> nothing is kept with 2
        assert build_subset(con, top=10, min_domain_share=0.15, min_class=2, cap=3)["rows"] == 0
        # in total instead: dog 4, cat 4, bird 1 -> bird still dropped, dog and cat whole
        s = build_subset(
            con, top=10, min_domain_share=0.15, min_class=2, cap=10, per_domain_min=False
        )
        assert s["rows"] == 8 and s["domains"] == {"AF": 2, "EU": 6}
        # no domain threshold and all images: JP stays, bird (a8, a12) is kept in total
        s = build_subset(
            con, top=100, min_domain_share=0.0, min_class=2, cap=100, per_domain_min=False
        )
        assert s["rows"] == 12


def test_subset_cli_writes_parquet(relabelled, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "out" / "subset.parquet"
    res = _cli(
        relabelled,
        "relabel",
        "subset",
        "--top",
        10,
        "--min-domain-share",
        0.15,
        "--min-class",
        1,
        "--cap",
        3,
        "--seed",
        0,
        "--out",
        out,
    )
    assert res.exit_code == 0, res.output
    drawn = _draw(["a1", "a2", "a4", "a6"], 0, 3) | _draw(["a3", "a5", "a7", "a10"], 0, 3)
    n_af = len(drawn & {"a4", "a5"})
    assert f"relabel_subset: 6 images, 2 classes, domains: AF {n_af}, EU {6 - n_af}" in res.output
    t = pq.read_table(out)
    assert t.num_rows == 6
    assert t.column_names == [
        "caption_id",
        "label_id",
        "label",
        "similarity",
        "country_code",
        "domain",
        "image_path",
    ]
