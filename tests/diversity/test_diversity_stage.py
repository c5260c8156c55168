"""Stages `diversity` and `coverage` through the runner, on synthetic embeddings with known
answers; countries come through `ingest --country-col` (method `label`)."""

from __future__ import annotations

import numpy as np
import pytest

import geosql
from geosql.runner import run_stage

LABEL = {"method": "label", "bootstrap": 200}


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _scores(con):
    return {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT country_code, n, vendi, ci_low, ci_high, status, modality FROM diversity_scores"
            " WHERE modality = 'image' ORDER BY 1"
        ).fetchall()
    }


@pytest.fixture
def four_countries(wh, tmp_path, rng, synth):
    c = _unit(rng.normal(size=(2, 512)))
    groups = {
        ("house", "Germany"): np.repeat(c[:1], 150, axis=0),  # identical -> 1
        ("house", "India"): synth.clusters(rng, 160, c, spread=0.0005),  # two clusters -> 2
        ("house", "Brazil"): _unit(rng.normal(size=(300, 512))),  # random -> about k
        ("house", "Kenya"): _unit(rng.normal(size=(40, 512))),  # n < k
    }
    with geosql.connect(wh) as con:
        synth.add(con, tmp_path, "real", groups)
    return wh


def test_vendi_per_country_golden(four_countries):
    with geosql.connect(four_countries) as con:
        s = run_stage(con, "diversity", config=LABEL)
        assert s.rows_done == 4 and s.rows_failed == 0
        got = _scores(con)
    assert got["DE"][1] == pytest.approx(1.0, abs=1e-3)
    assert got["IN"][1] == pytest.approx(2.0, abs=0.05)
    assert 85 < got["BR"][1] <= 100
    assert got["BR"][2] <= got["BR"][1] <= got["BR"][3]  # bootstrap interval around it
    assert got["KE"][0] == 40 and got["KE"][1] is None and got["KE"][4] == "insufficient"
    assert {v[0] for v in got.values()} == {150, 160, 300, 40}
    assert all(v[4] == "ok" for k, v in got.items() if k != "KE")


def test_rerun_only_changed_groups(four_countries, tmp_path, rng, synth):
    with geosql.connect(four_countries) as con:
        run_stage(con, "diversity", config=LABEL)
        again = run_stage(con, "diversity", config=LABEL)
        assert again.rows_done == 0  # nothing changed
        synth.add(con, tmp_path, "real", {("house", "Kenya"): _unit(rng.normal(size=(70, 512)))})
        third = run_stage(con, "diversity", config=LABEL)
        assert third.rows_done == 1  # only Kenya's membership changed
        ke = _scores(con)["KE"]
        assert ke[0] == 110 and ke[4] == "ok"
        assert con.execute("SELECT count(*) FROM diversity_scores").fetchone()[0] == 4
        # another k is another config: a second set of rows
        run_stage(con, "diversity", config={**LABEL, "k": 20})
        ks = con.execute("SELECT k, count(*) FROM diversity_scores GROUP BY k ORDER BY k")
        assert ks.fetchall() == [(20, 4), (100, 4)]


def test_seeded_results_do_not_depend_on_batching(four_countries):
    with geosql.connect(four_countries) as con:
        run_stage(con, "diversity", config=LABEL, batch_size=1)
        one = _scores(con)
        con.execute("DELETE FROM diversity_scores; DELETE FROM stage_items")
        run_stage(con, "diversity", config=LABEL, batch_size=64)
        assert _scores(con) == one


def test_entity_presence_filters_images(four_countries):
    with geosql.connect(four_countries) as con:
        # a classifier says only the first 120 Brazilian images show a house
        con.execute(
            "INSERT INTO entity_presence SELECT caption_id, 'house', 'house:t',"
            " regexp_extract(caption_id, '-(\\d+)$', 1)::INT < 120, 0.0, NULL"
            " FROM captions WHERE caption_id LIKE 'real:house-Brazil-%'"
        )
        run_stage(con, "diversity", config=LABEL)
        got = _scores(con)
        assert got["BR"][0] == 120
        # 'house' has classifier results, so its unclassified images are left out too
        assert set(got) == {"BR"}
        run_stage(con, "diversity", config={**LABEL, "presence": False})
        n = con.execute(
            "SELECT n FROM diversity_scores WHERE country_code = 'BR' ORDER BY n"
        ).fetchall()
        assert n == [(120,), (300,)]


def test_text_modality_is_its_own_group(wh, tmp_path, rng, synth):
    with geosql.connect(wh) as con:
        synth.add(con, tmp_path, "real", {("car", "Japan"): _unit(rng.normal(size=(120, 64)))})
        con.execute(
            "INSERT INTO embeddings SELECT item_id, 'text', model_key, dim, embedding, norm,"
            " NULL FROM embeddings"
        )
        run_stage(con, "diversity", config=LABEL)
        rows = con.execute(
            "SELECT modality, n, round(vendi, 6) FROM diversity_scores ORDER BY 1"
        ).fetchall()
        assert [r[:2] for r in rows] == [("image", 120), ("text", 120)]
        assert rows[0][2] == pytest.approx(rows[1][2], rel=0.05)  # same vectors, other draws
        run_stage(con, "diversity", config={**LABEL, "kinds": "text"})
        assert con.execute("SELECT count(*) FROM diversity_scores").fetchone()[0] == 3


def test_bad_settings_are_one_line_errors(four_countries):
    with geosql.connect(four_countries) as con:
        with pytest.raises(geosql.GeosqlError, match="k must be at least 2"):
            run_stage(con, "diversity", config={**LABEL, "k": 1})
        with pytest.raises(geosql.GeosqlError, match="generated=NAME"):
            run_stage(con, "coverage", config={"method": "label"})


def _blob(rng, center, n, basis, spread=0.05):
    return center + spread * rng.normal(size=(n, basis.shape[0])) @ basis


def test_coverage_generated_is_one_of_two_real_clusters(wh, tmp_path, rng, synth):
    c = _unit(rng.normal(size=(2, 512)))
    b = [np.linalg.qr(rng.normal(size=(512, 3)))[0].T for _ in range(2)]
    real = np.concatenate([_blob(rng, c[0], 300, b[0]), _blob(rng, c[1], 300, b[1])])
    with geosql.connect(wh) as con:
        synth.add(con, tmp_path, "laion", {("house", "India"): real})
        synth.add(con, tmp_path, "sd", {("house", "India"): _blob(rng, c[0], 300, b[0])})
        synth.add(con, tmp_path, "sd", {("car", "India"): _blob(rng, c[0], 3, b[0])})
        s = run_stage(con, "coverage", config={"generated": "sd", "method": "label", "cap": 1000})
        assert s.rows_done == 2
        rows = con.execute(
            'SELECT entity, n_real, n_generated, "precision", recall, density, coverage,'
            " vendi_real, vendi_generated, status FROM generation_coverage ORDER BY entity"
        ).fetchall()
    car, house = rows
    assert car[:3] == ("car", 0, 3) and car[-1] == "insufficient" and car[3] is None
    assert house[1:3] == (600, 300) and house[-1] == "ok"
    assert house[3] == pytest.approx(1.0, abs=0.05)  # precision: generations look real
    assert house[6] == pytest.approx(0.5, abs=0.05)  # coverage: half of reality
    assert house[4] == pytest.approx(0.5, abs=0.05)  # recall
    assert house[8] < house[7]  # generated narrower than real


def test_coverage_cap_samples_each_side(wh, tmp_path, rng, synth):
    with geosql.connect(wh) as con:
        synth.add(con, tmp_path, "laion", {("house", "Peru"): _unit(rng.normal(size=(400, 16)))})
        synth.add(con, tmp_path, "sd", {("house", "Peru"): _unit(rng.normal(size=(300, 16)))})
        run_stage(
            con,
            "coverage",
            config={"generated": "sd", "method": "label", "cap": 100, "k": 50},
        )
        n_real, n_gen, status, vr = con.execute(
            "SELECT n_real, n_generated, status, vendi_real FROM generation_coverage"
        ).fetchone()
    assert (n_real, n_gen, status) == (400, 300, "ok")  # n counts all, PRDC ran on 100 each
    assert vr > 1


def test_cli_run_and_views(four_countries):
    from click.testing import CliRunner

    from geosql.cli import get_cli

    w = ["-w", str(four_countries)]
    r = CliRunner().invoke(get_cli(), [*w, "run", "diversity", "--set", "method=label"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        get_cli(),
        [*w, "sql", "SELECT n_countries, n_insufficient FROM representation_vs_diversity"],
    )
    assert r.exit_code == 0 and "3" in r.output, r.output
