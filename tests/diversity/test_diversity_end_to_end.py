"""ingest (country labels) + ingest-generated -> clip-embed (tiny random-weight CLIP) ->
coverage and diversity -> views: the whole path on real image files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

import geosql  # noqa: E402
from geosql.ingest import ingest  # noqa: E402
from geosql.runner import run_stage  # noqa: E402
from udfs.clip.model import tiny_random_clip  # noqa: E402
from udfs.diversity.generated import ingest_generated  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    return tiny_random_clip(tmp_path_factory.mktemp("tinyclip"))


def _photo(path, seed: int, channel: int) -> None:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 60, (64, 64, 3), dtype=np.uint8)
    arr[:, :, channel] = 200
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_generated_vs_real_through_clip_embed(wh, tmp_path, tiny):
    real_dir, gen_dir = tmp_path / "real", tmp_path / "gen"
    rows = []
    for i in range(16):  # real houses in India: red and green images
        p = real_dir / f"{i}.png"
        _photo(p, i, i % 2)
        rows.append([str(i), "a house", str(p), "house", "India"])
    for i in range(8):  # generated: red only
        _photo(gen_dir / "house_india" / f"{i}.png", 100 + i, 0)
    f = tmp_path / "real.csv"
    with f.open("w", newline="") as fh:
        csv.writer(fh).writerows([["id", "text", "image", "entity", "country"], *rows])
    with geosql.connect(wh) as con:
        ingest(con, [f], "photos", id_col="id", image_col="image", entity_col="entity",
               country_col="country")  # fmt: skip
        ingest_generated(con, gen_dir, "sd")
        s = run_stage(con, "clip-embed", config={**tiny, "workers": 0})
        assert s.rows_done == 24 and s.rows_failed == 0
        cfg = {"generated": "sd", "method": "label", "nearest_k": 3, "k": 5, "draws": 3}
        assert run_stage(con, "coverage", config=cfg).rows_done == 1
        r = con.execute(
            'SELECT n_real, n_generated, status, "precision", coverage, vendi_real,'
            " vendi_generated FROM generation_coverage"
        ).fetchone()
        assert r[:3] == (16, 8, "ok")
        assert all(0 <= x <= 1 for x in r[3:5]) and r[5] >= 1 and r[6] >= 1
        view = con.execute(
            "SELECT country_code, narrowness_rank FROM generation_narrowness"
        ).fetchall()
        assert view == [("IN", 1)]
        run_stage(con, "diversity", config={"method": "label", "k": 5, "draws": 3})
        div = con.execute(
            "SELECT dataset, n, status FROM diversity_scores ORDER BY dataset"
        ).fetchall()
        assert div == [("photos", 16, "ok"), ("sd", 8, "ok")]
