"""The 60 real photos of ../shared/data/images (5 countries) through a tiny random-weight CLIP:
ingest with --country-col, embed, the similarity views over real reference data, the plots."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import geosql

torch = pytest.importorskip("torch")
pytest.importorskip("open_clip")
pytest.importorskip("altair")

from udfs.clip import embed_images, load_clip, write_model_config  # noqa: E402
from udfs.similarity import plots  # noqa: E402

COUNTRIES = {"AU", "BR", "CA", "KE", "ZA"}


@pytest.fixture(scope="module")
def photos_wh(shared: Path, tmp_path_factory) -> Path:
    """Warehouse with countries + GeoNames places, the photos split into datasets 'wiki_a' (first
    6 of each country) and 'wiki_b' (last 6), topic 'scene', embedded by a tiny random CLIP."""
    from geosql import refdata
    from geosql.ingest import ingest

    d = tmp_path_factory.mktemp("photos")
    images = shared / "data" / "images"
    with open(images / "index.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    seen: dict[str, int] = {}
    for r in rows:
        seen[r["country"]] = seen.get(r["country"], 0) + 1
        r["half"] = "wiki_a" if seen[r["country"]] <= 6 else "wiki_b"
    for half in ("wiki_a", "wiki_b"):
        with open(d / f"{half}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file", "text", "topic", "country"])
            for r in rows:
                if r["half"] == half:
                    w.writerow([r["file"], f"photo {r['file']}", "scene", r["country"]])
    torch.manual_seed(0)
    clip = load_clip(str(write_model_config(d / "model")), "none", "cpu", 16)
    p = d / "photos.duckdb"
    with geosql.connect(p) as con:
        refdata.load_countries(con)
        refdata.load_packaged_geonames(con)
        for half in ("wiki_a", "wiki_b"):
            s = ingest(con, [d / f"{half}.csv"], half, id_col="file", image_col="file",
                       entity_col="topic", country_col="country")  # fmt: skip
            assert s.labels_added == 30
        ids, paths = zip(*con.execute("SELECT caption_id, image_path FROM captions ORDER BY 1")
                         .fetchall(), strict=True)  # fmt: skip
        vecs, norms, errors = embed_images(clip, list(paths), root=str(images))
        assert not errors
        con.executemany(
            "INSERT INTO embeddings (item_id, kind, model_key, dim, embedding, norm)"
            " VALUES (?, 'image', ?, ?, ?, ?)",
            [(i, clip.key, clip.dim, v.tolist(), float(n))
             for i, v, n in zip(ids, vecs, norms, strict=True)],
        )  # fmt: skip
    return p


def test_views_on_real_photos(photos_wh: Path) -> None:
    with geosql.connect(photos_wh, read_only=True) as con:
        cents = con.execute("SELECT dataset, country_code, n, len(centroid) FROM"
                            " topic_country_centroids ORDER BY 1, 2").fetchall()  # fmt: skip
        pairs = con.execute(
            "SELECT country_a, country_b, cosine, distance_km FROM country_pair_similarity"
            " WHERE dataset_a = 'wiki_a' AND dataset_b = 'wiki_a'"
        ).fetchall()
        dvs = con.execute("SELECT n_pairs, spearman FROM distance_vs_similarity WHERE"
                          " dataset_a = 'wiki_a' AND dataset_b = 'wiki_a'").fetchall()  # fmt: skip
        tcs = con.execute("SELECT count(*), count(cosine) FROM topic_country_similarity"
                          " WHERE low_dataset = 'wiki_a' AND high_dataset = 'wiki_b'").fetchone()  # fmt: skip
        na = con.execute("SELECT count(*) FROM needs_annotation(threshold := 2.0)"
                         " WHERE low_dataset = 'wiki_a'").fetchone()[0]  # fmt: skip
    assert {(c[1], c[2]) for c in cents} == {(c, 6) for c in COUNTRIES}
    assert len(cents) == 10 and {c[3] for c in cents} == {64}  # the tiny CLIP's embed_dim
    assert len(pairs) == 20
    dist = {(a, b): km for a, b, _, km in pairs}
    assert 1500 < dist[("KE", "ZA")] < 4500  # Nairobi area to the Johannesburg area
    assert 12000 < dist[("AU", "BR")] < 16500
    assert all(-1.0 <= c <= 1.0 + 1e-6 for _, _, c, _ in pairs)
    assert dvs[0][0] == 10 and -1.0 <= dvs[0][1] <= 1.0
    assert tcs == (5 * 5 + 5, 30)  # per country (5 x 5) + pooled (5)
    assert na == 5  # every wiki_a country is below a threshold above 1


def test_plots_on_real_photos(photos_wh: Path, tmp_path: Path) -> None:
    with geosql.connect(photos_wh, read_only=True) as con:
        heat = plots.similarity_heatmap(con, "scene", ["wiki_a", "wiki_b"])
        pca = plots.centroid_pca(con, "scene", high=["wiki_b"])
    spec = heat.to_dict()
    assert sorted(spec["layer"][0]["encoding"]["y"]["sort"]) == [
        "Australia (AU)", "Brazil (BR)", "Canada (CA)", "Kenya (KE)", "South Africa (ZA)",
    ]  # fmt: skip
    for chart, name in ((heat, "heat"), (pca, "pca")):
        for ext in ("png", "svg"):
            out = plots.save_chart(chart, tmp_path / f"{name}.{ext}")
            assert out.stat().st_size > 2000
    assert "Kenya" in (tmp_path / "heat.svg").read_text()
