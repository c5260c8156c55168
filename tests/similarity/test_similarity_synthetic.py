"""Synthetic embeddings with known structure: two visual clusters unrelated to geography.

The views must find the clusters (within-cluster cosines above every cross-cluster one, the
heatmap's clustering order separates them) and a near-zero distance correlation, while a topic
that does follow geography gets a strongly negative one. Also the plots: PNG and SVG files, the
heatmap's cells equal to country_pair_similarity, labelled axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import geosql
from udfs.similarity.synthetic import generate

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

from udfs.similarity import plots  # noqa: E402


@pytest.fixture(scope="module")
def syn_wh(tmp_path_factory) -> tuple[Path, object]:
    p = tmp_path_factory.mktemp("syn") / "syn.duckdb"
    with geosql.connect(p) as con:
        syn = generate(con, n_countries=30, images_per_group=8, dim=16, noise=0.3,
                       datasets=("low", "high"), geo_topics=("geo",), seed=1)  # fmt: skip
    return p, syn


def test_views_find_the_visual_clusters(syn_wh) -> None:
    path, syn = syn_wh
    cluster = dict(zip(syn.countries, syn.cluster, strict=True))
    with geosql.connect(path, read_only=True) as con:
        pairs = con.execute(
            "SELECT country_a, country_b, cosine FROM country_pair_similarity"
            " WHERE topic = 't000' AND dataset_a = 'low' AND dataset_b = 'low'"
        ).fetchall()
        assert len(pairs) == 30 * 29
        same = [c for a, b, c in pairs if cluster[a] == cluster[b]]
        other = [c for a, b, c in pairs if cluster[a] != cluster[b]]
        assert min(same) > max(other)
        rows, cols, sim = plots.similarity_matrix(con, "t000", ["low"])
    order = plots.cluster_order(sim)
    labels = [cluster[rows.country[i]] for i in order]
    switches = sum(1 for x, y in zip(labels, labels[1:], strict=False) if x != y)
    assert switches == 1  # two contiguous blocks


def test_distance_does_not_predict_cluster_similarity(syn_wh) -> None:
    path, _ = syn_wh
    with geosql.connect(path, read_only=True) as con:
        got = dict(
            con.execute(
                "SELECT topic, spearman FROM distance_vs_similarity"
                " WHERE dataset_a = 'low' AND dataset_b = 'low'"
            ).fetchall()
        )
        n = con.execute("SELECT DISTINCT n_pairs FROM distance_vs_similarity WHERE"
                        " dataset_a = 'low' AND dataset_b = 'low'").fetchall()  # fmt: skip
    assert n == [(30 * 29 // 2,)]
    assert abs(got["t000"]) < 0.15  # clusters drawn independently of location
    assert got["geo"] < -0.8  # a topic whose look follows location


def test_needs_annotation_flags_the_cluster_missing_from_high(tmp_path: Path) -> None:
    """High-resource images of every country look like cluster 0: the cluster-1 countries of
    the low-resource dataset, and only they, are poorly represented."""
    p = tmp_path / "w.duckdb"
    with geosql.connect(p) as con:
        syn = generate(con, n_countries=10, images_per_group=5, datasets=("low", "high"), seed=3)
        one = [c for c, k in zip(syn.countries, syn.cluster, strict=True) if k == 1]
        zero = [c for c, k in zip(syn.countries, syn.cluster, strict=True) if k == 0][0]
        con.execute(  # every cluster-1 image of `high` becomes a copy of a cluster-0 image
            "UPDATE embeddings SET embedding = (SELECT e.embedding FROM embeddings e"
            " JOIN geo_predictions g ON g.caption_id = e.item_id WHERE g.country_code = ?"
            " AND e.item_id LIKE 'low:%' ORDER BY e.item_id LIMIT 1)"
            " WHERE item_id LIKE 'high:%' AND item_id IN (SELECT caption_id FROM"
            " geo_predictions WHERE list_contains(?, country_code))",
            [zero, one],
        )
        got = con.execute(
            "SELECT country_code, best_similarity, n_have, est_cost_usd, supplement_countries"
            " FROM needs_annotation(threshold := 0.8, price_per_image := 2.0, n_images := 50)"
            " WHERE low_dataset = 'low' AND high_dataset = 'high'"
        ).fetchall()
    assert sorted(c for c, *_ in got) == sorted(one)
    for country, best, n_have, cost, sup in got:
        assert best < 0.8 and n_have == 5 and cost == 100.0
        assert len(sup) == 3 and country not in sup


def test_heatmap_cells_equal_the_view_and_files_render(syn_wh, tmp_path: Path) -> None:
    path, _ = syn_wh
    with geosql.connect(path, read_only=True) as con:
        rows, cols, sim = plots.similarity_matrix(con, "t000", ["low", "high"])
        view = {
            (a, b): c
            for a, b, c in con.execute(
                "SELECT country_a, country_b, cosine FROM country_pair_similarity"
                " WHERE topic = 't000' AND dataset_a = 'low' AND dataset_b = 'high'"
            ).fetchall()
        }
        chart = plots.similarity_heatmap(con, "t000", ["low", "high"])
        pca = plots.centroid_pca(con, "t000")
    for i, a in enumerate(rows.country):
        for j, b in enumerate(cols.country):
            assert sim[i, j] == pytest.approx(view[(a, b)], abs=1e-5)
    spec = chart.to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert len(x["sort"]) == 30 and x["title"] == "high (country)"
    png = plots.save_chart(chart, tmp_path / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    svg = plots.save_chart(pca, tmp_path / "p.svg").read_text()
    assert "<svg" in svg and "PC1" in svg and "AA" in svg
    with pytest.raises(geosql.GeosqlError, match="png or .svg"):
        plots.save_chart(chart, tmp_path / "h.jpg")


def test_pca_separates_clusters(syn_wh) -> None:
    path, syn = syn_wh
    cluster = dict(zip(syn.countries, syn.cluster, strict=True))
    with geosql.connect(path, read_only=True) as con:
        c = plots.load_centroids(con, "t000")
    scores, ratio = plots.pca_2d(plots._unit(c.vectors))
    assert ratio[0] > 0.5
    pc1 = {k: [] for k in (0, 1)}
    for s, cc in zip(scores[:, 0], c.country, strict=True):
        pc1[cluster[cc]].append(s)
    assert max(pc1[0]) < min(pc1[1]) or max(pc1[1]) < min(pc1[0])


def test_cli_plots(syn_wh, tmp_path: Path) -> None:
    from geosql.cli import get_cli

    path, _ = syn_wh
    cli = get_cli()
    for args in (
        [
            "similarity",
            "--topic",
            "t000",
            "--datasets",
            "low,high",
            "--out",
            str(tmp_path / "s.png"),
        ],
        ["similarity", "--topic", "geo", "--out", str(tmp_path / "s.svg")],
        ["pca", "--topic", "t000", "--high", "high", "--out", str(tmp_path / "p.png")],
    ):
        res = CliRunner().invoke(cli, ["--warehouse", str(path), "plot", *args])
        assert res.exit_code == 0, res.output
        assert Path(args[-1]).stat().st_size > 1000
    res = CliRunner().invoke(
        cli, ["--warehouse", str(path), "plot", "similarity", "--topic", "nope", "--out",
              str(tmp_path / "n.png")],
    )  # fmt: skip
    assert res.exit_code != 0 and "no image embeddings of topic 'nope'" in res.output


def test_cluster_order_is_deterministic() -> None:
    sim = np.array([[1, 0.1, 0.9], [0.1, 1, 0.2], [0.9, 0.2, 1]])
    assert plots.cluster_order(sim) == [0, 2, 1]
