"""`image-geolocate` through the stage runner: outputs, resumability, geo_accuracy."""

from __future__ import annotations

import pytest
from geoloc_data import load_synthetic, synthetic

import geosql
from geosql.runner import run_stage

pytest.importorskip("faiss")

CFG = {"method": "retrieval", "dataset": "qry", "reference": "ref", "model_key": "test/synthetic"}


def test_run_stage_retrieval_then_accuracy(geo_wh):
    ref, qry = synthetic(per_city=40, queries=5)
    with geosql.connect(geo_wh) as con:
        load_synthetic(con, ref, qry)
        s = run_stage(con, "image-geolocate", config=CFG, batch_size=17, progress=False)
        assert (s.rows_done, s.rows_failed) == (len(qry), 0)
        again = run_stage(con, "image-geolocate", config=CFG, progress=False)
        assert again.rows_done == 0  # nothing pending for the same config
        n, keys = con.execute(
            "SELECT count(*), count(DISTINCT config_key) FROM image_geo_predictions"
        ).fetchall()[0]
        assert (n, keys) == (len(qry), 1)
        assert con.execute("SELECT count(*) FROM image_geo_candidates").fetchall()[0][0] == 5 * n
        acc = con.sql(
            "SELECT dataset, method, n, pct_25km, country_accuracy FROM geo_accuracy"
        ).fetchall()
        assert acc[0][:3] == ("qry", "retrieval", len(qry)) and acc[0][3] >= 95.0
        assert acc[0][4] >= 0.95
        # another aggregate: a new config; the view shows the current one only
        run_stage(con, "image-geolocate", config={**CFG, "aggregate": "top1"}, progress=False)
        keys = con.sql("SELECT count(DISTINCT config_key) FROM image_geo_predictions").fetchall()
        assert keys == [(2,)]
        assert con.sql("SELECT n FROM geo_accuracy").fetchall() == [(len(qry),)]


def test_unknown_method_is_one_line_error(geo_wh):
    from geosql.errors import GeosqlError

    ref, qry = synthetic(per_city=5, queries=1)
    with geosql.connect(geo_wh) as con, pytest.raises(GeosqlError, match="method must be one of"):
        load_synthetic(con, ref, qry)
        run_stage(con, "image-geolocate", config={**CFG, "method": "magic"}, progress=False)
