"""Method g3 against the local Gemini REST server: image parts, verification, cache, outage."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest
from geoloc_data import CITIES, load_synthetic, synthetic

import geosql
from geosql.runner import run_stage
from udfs.geoloc.g3 import parse_candidates

pytest.importorskip("faiss")
pytest.importorskip("google.genai")
Image = pytest.importorskip("PIL.Image")
from gemini.gemini_server import GeminiServer, dead_url  # noqa: E402


def _point_at(monkeypatch, url):
    for var in ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)


def test_parse_candidates():
    assert parse_candidates('```json\n{"candidates": [{"lat": 1.5, "lon": -2}]}\n```', 5) == [
        (1.5, -2.0)
    ]
    assert parse_candidates("Probably 48.85, 2.35 or maybe 95.0, 10.0", 5) == [(48.85, 2.35)]
    assert parse_candidates("no idea", 5) == [] and parse_candidates(None, 5) == []


@pytest.fixture
def g3_wh(geo_wh, tmp_path):
    """Synthetic reference + 2 queries per city, each query with a JPEG of its own."""
    ref, qry = synthetic(per_city=30, queries=2)
    qry = [q for q in qry if int(q[0][1:].split("_")[0]) < 6]  # 12 queries, 6 cities
    truth = {}
    d = tmp_path / "q"
    d.mkdir()
    rng = np.random.default_rng(5)
    with geosql.connect(geo_wh) as con:
        load_synthetic(con, ref, qry)
        for image_id, *_ in qry:
            p = d / f"{image_id}.png"
            Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(p)
            con.execute(
                "UPDATE geo_images SET image_path = ? WHERE image_id = ?", [str(p), image_id]
            )
            city = CITIES[int(image_id[1:].split("_")[0])]
            truth[hashlib.sha256(p.read_bytes()).hexdigest()] = (city[2], city[3])
    return geo_wh, truth, len(qry)


CFG = {"method": "g3", "dataset": "qry", "reference": "ref", "model_key": "test/synthetic",
       "llm_model": "gemini-test", "n_candidates": 2, "max_retries": 1, "retry_base_s": 0.01}  # fmt: skip


def test_g3_verifies_llm_candidates(g3_wh, monkeypatch):
    wh, truth, n = g3_wh
    prompts = []

    def reply(prompt, n_seen, batch, images):
        prompts.append(prompt)
        ((mime, data),) = images
        lat, lon = truth[hashlib.sha256(data).hexdigest()]
        # first a wrong guess in the ocean, then the right city
        return json.dumps({"candidates": [{"lat": -40.0, "lon": -120.0, "place": "sea"},
                                          {"lat": lat, "lon": lon, "place": "city"}]})  # fmt: skip

    with GeminiServer(reply) as srv, geosql.connect(wh) as con:
        _point_at(monkeypatch, srv.base_url)
        s = run_stage(con, "image-geolocate", config=CFG, progress=False)
        assert (s.rows_done, s.rows_failed, s.rows_pending) == (n, 0, 0)
        assert srv.generate_images == [1] * n and srv.images["image/png"] == n
        rows = con.sql(
            "SELECT p.detail, haversine_km(p.lat, p.lon, g.lat, g.lon) AS km"
            " FROM image_geo_predictions p JOIN geo_images g USING (image_id)"
        ).fetchall()
        assert all(km < 25 for _, km in rows)
        # the LLM's right candidate wins the tie with the retrieval one near it (LLM first)
        assert sum(d.startswith("llm candidate 2") for d, _ in rows) == n
        cands = con.sql(
            "SELECT kind, count(*) FROM image_geo_candidates GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert cands == [("llm", 2 * n), ("neighbour", n), ("retrieval", n)]
        sea = con.sql("SELECT max(score) FROM image_geo_candidates WHERE lat = -40").fetchall()
        assert sea == [(0.0,)]  # no reference image near the wrong guess
        assert con.sql("SELECT count(*) FROM llm_calls").fetchall()[0][0] == n
        # positives/negatives are in the prompt as coordinates
        assert all(len(re.findall(r"\(-?\d+\.\d{4}, -?\d+\.\d{4}\)", p)) == 10 for p in prompts)
        # a new config that changes only verification: answers come from the cache
        before = srv.counts["generate"]
        s2 = run_stage(con, "image-geolocate", config={**CFG, "verify_km": 50.0}, progress=False)
        assert s2.rows_done == n and srv.counts["generate"] == before


def test_g3_server_down_leaves_rows_pending(g3_wh, monkeypatch):
    wh, _, n = g3_wh
    _point_at(monkeypatch, dead_url())
    with geosql.connect(wh) as con:
        s = run_stage(con, "image-geolocate", config=CFG, progress=False)
        assert (s.rows_done, s.rows_failed, s.rows_pending) == (0, 0, n)
        assert con.sql("SELECT count(*) FROM image_geo_predictions").fetchall() == [(0,)]


def test_g3_geoclip_verification(g3_wh, monkeypatch, tiny_clip_dir, gallery):
    """verify=geoclip: candidates scored by GeoCLIP location embeddings (tiny image tower)."""
    pytest.importorskip("geoclip")
    wh, truth, n = g3_wh

    def reply(prompt, n_seen, batch, images):
        return '{"candidates": [{"lat": 10, "lon": 20}, {"lat": -5, "lon": 100}]}'

    cfg = {**CFG, "verify": "geoclip", "clip_path": str(tiny_clip_dir), "gallery": str(gallery),
           "device": "cpu"}  # fmt: skip
    with GeminiServer(reply) as srv, geosql.connect(wh) as con:
        _point_at(monkeypatch, srv.base_url)
        s = run_stage(con, "image-geolocate", config=cfg, progress=False)
        assert (s.rows_done, s.rows_failed) == (n, 0)
        bad = con.sql(
            "SELECT count(*) FROM image_geo_predictions p WHERE NOT EXISTS (SELECT 1 FROM"
            " image_geo_candidates c WHERE c.image_id = p.image_id AND c.lat = p.lat"
            " AND c.lon = p.lon AND c.score = p.score)"
        ).fetchall()
        assert bad == [(0,)]  # the prediction is the best-scored candidate
        lo, hi = con.sql("SELECT min(score), max(score) FROM image_geo_candidates").fetchall()[0]
        assert -1.0 <= lo <= hi <= 1.0 and lo < hi


def test_g3_batch_mode_pending_then_collected(g3_wh, monkeypatch):
    """mode=batch: images travel inside the batch job; a running job leaves rows pending."""
    wh, truth, n = g3_wh

    def reply(prompt, n_seen, batch, images):
        assert batch
        ((_, data),) = images
        lat, lon = truth[hashlib.sha256(data).hexdigest()]
        return json.dumps({"candidates": [{"lat": lat, "lon": lon}]})

    cfg = {**CFG, "mode": "batch", "batch_wait_s": 0.2, "poll_s": 0.05}
    with GeminiServer(reply) as srv:
        _point_at(monkeypatch, srv.base_url)
        srv.auto_complete = False
        with geosql.connect(wh) as con:
            s = run_stage(con, "image-geolocate", config=cfg, progress=False)
            assert (s.rows_done, s.rows_failed, s.rows_pending) == (0, 0, n)
        srv.auto_complete = True
        with geosql.connect(wh) as con:
            s = run_stage(con, "image-geolocate", config=cfg, progress=False)
            assert (s.rows_done, s.rows_failed, s.rows_pending) == (n, 0, 0)
            km = con.sql(
                "SELECT max(haversine_km(p.lat, p.lon, g.lat, g.lon)) FROM image_geo_predictions p"
                " JOIN geo_images g USING (image_id)"
            ).fetchall()[0][0]
        assert km < 25
        assert srv.counts["batch_create"] == 1 and srv.counts["generate"] == 0
        assert srv.images["image/png"] == n
