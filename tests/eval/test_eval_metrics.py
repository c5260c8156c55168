"""Pure evaluation figures on hand-made inputs with known answers (no stage runs)."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pytest

import geosql
from geosql.errors import GeosqlError
from geosql.eval.calibration import reliability
from geosql.eval.countries import distribution_distance, metrics_from_pairs
from geosql.eval.probe import famous_cities
from geosql.eval.toponyms import MAX_ERROR_KM, load_gold_spans, log_error_auc, toponym_metrics


def test_reliability_known_bins() -> None:
    # bin [0.9,1): 4 rows at 0.95, 3 right -> |0.75-0.95| = 0.2; bin [0.5,0.6): 2 at 0.5, 1 right
    conf = [0.95, 0.95, 0.95, 0.95, 0.5, 0.5, None]
    ok = [True, True, True, False, True, False, True]
    r = reliability(conf, ok, bins=10)
    assert r["n"] == 6 and r["n_without_confidence"] == 1
    assert [(b["lo"], b["n"], b["accuracy"]) for b in r["bins"]] == [(0.5, 2, 0.5), (0.9, 4, 0.75)]
    assert r["ece"] == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.0, abs=1e-4)
    assert reliability([1.0], [True])["bins"][0]["lo"] == 0.9  # 1.0 falls in the top bin
    assert reliability([], [])["ece"] is None


def test_country_metrics_known_counts() -> None:
    pairs = [("FR", "FR"), ("FR", "DE"), ("DE", "DE"), (None, None), (None, "US"), ("JP", None)]
    m = metrics_from_pairs(pairs)
    assert m["n"] == 6 and m["accuracy"] == round(3 / 6, 4)
    assert m["located_accuracy"] == 0.5 and m["false_positive_rate"] == 0.5
    de = next(r for r in m["per_country"] if r["code"] == "DE")
    assert (de["precision"], de["recall"]) == (0.5, 1.0)
    assert {(c["gold"], c["predicted"]) for c in m["confusions"]} >= {("japan", "no place")}
    # gold shares FR .5 DE .25 JP .25; predicted FR .25 DE .5 US .25: half of 1.0
    assert m["distribution_distance"] == 0.5 and m["n_predicted_located"] == 4
    assert distribution_distance([("FR", "FR"), ("DE", None), ("DE", "DE")]) == round(1 / 6, 4)
    assert distribution_distance([("FR", None)]) is None
    with pytest.raises(GeosqlError):
        metrics_from_pairs([])


def test_log_error_auc() -> None:
    assert log_error_auc([0, 0, 0]) == 0.0
    assert log_error_auc([MAX_ERROR_KM] * 3) == 1.0
    assert log_error_auc([0, MAX_ERROR_KM]) == 0.5
    # three errors: trapezoids over sorted log(1+e), divided by 2 * log(1+max)
    e = [10.0, 100.0, 1000.0]
    y = [math.log1p(x) for x in e]
    want = ((y[0] + y[1]) / 2 + (y[1] + y[2]) / 2) / (2 * math.log1p(MAX_ERROR_KM))
    assert log_error_auc(e) == pytest.approx(want, abs=1e-4)
    assert log_error_auc([]) is None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _mention(cid, s, e, lat, lon, cc, score, method="offline", key="k1"):
    return (cid, method, "x", s, e, None, cc, lat, lon, score, key)


def test_toponym_metrics_hand_made(wh: Path) -> None:
    """Two docs, four gold toponyms; mentions: one exact, one 300 km off, one without
    coordinates, one spurious; one gold span not found. Other configs/methods are ignored."""
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text) VALUES"
            " ('eval:t:a', 'eval:t', 'Paris and Lyon and France'),"
            " ('eval:t:b', 'eval:t', 'Berlin then Rome'), ('other:1', 'other', 'Paris')"
        )
        con.execute(
            "INSERT INTO places (geonameid, name, lat, lon, feature_class, country_code) VALUES"
            " (1, 'Paris', 48.85, 2.35, 'P', 'FR'), (2, 'Lyon', 45.76, 4.84, 'P', 'FR'),"
            " (3, 'Berlin', 52.52, 13.40, 'P', 'DE')"
        )
        rows = [
            _mention("eval:t:a", 0, 5, 48.85, 2.35, "FR", 0.95),  # Paris: exact
            _mention("eval:t:a", 10, 14, 48.0, 8.6, "DE", 0.6),  # Lyon: ~379 km off, wrong cc
            _mention("eval:t:a", 19, 25, None, None, "FR", 0.9),  # France: no coordinates
            _mention("eval:t:b", 7, 11, 10.0, 10.0, "NG", 0.2),  # "then": not a toponym
            _mention("eval:t:b", 0, 6, 0.0, 0.0, "XX", 0.99, key="other-config"),
            _mention("eval:t:b", 0, 6, 0.0, 0.0, "XX", 0.99, method="gemini"),
            _mention("other:1", 0, 5, 48.85, 2.35, "FR", 0.95),
        ]
        con.executemany(
            "INSERT INTO geo_mentions (caption_id, method, mention, start_pos, end_pos,"
            " geonameid, country_code, lat, lon, score, config_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        gold = pa.table(
            {
                "caption_id": ["eval:t:a", "eval:t:a", "eval:t:a", "eval:t:b"],
                "start_": [0, 10, 19, 0],
                "end_": [5, 14, 25, 6],
                "lat": [48.85, 45.76, 46.0, 52.52],
                "lon": [2.35, 4.84, 2.0, 13.40],
            }
        )
        m = toponym_metrics(con, gold, "eval:t", "offline", "k1", thresholds=(0.0, 0.7))
    assert m["gold_toponyms"] == 4 and m["mentions"] == 4 and m["found"] == 3
    assert m["found_without_coordinates"] == 1
    assert (m["precision"], m["recall"]) == (0.75, 0.75) and m["f1"] == 0.75
    assert m["acc_161km"] == 0.25 and m["acc_161km_found"] == round(1 / 3, 4)
    assert m["country_accuracy_found"] == 0.5  # Paris right, Lyon wrong, France: no gold place
    lyon = _km(45.76, 4.84, 48.0, 8.6)  # ~379 km
    assert m["median_error_km"] == pytest.approx(lyon / 2, abs=0.1)  # of 0 and Lyon's error
    assert m["mean_error_km"] == pytest.approx(lyon / 2, abs=0.1)
    errs = [0.0, lyon, MAX_ERROR_KM, MAX_ERROR_KM]
    assert m["auc"] == pytest.approx(log_error_auc(errs), abs=0.01)
    t0, t7 = m["at_threshold"]
    assert (t0["mentions"], t0["precision"], t0["recall"]) == (4, 0.75, 0.75)
    assert (t7["mentions"], t7["precision"], t7["recall"]) == (2, 1.0, 0.5)
    assert m["mention_calibration"]["n"] == 4


def test_gold_spans_checked(tmp_path: Path) -> None:
    f = tmp_path / "gold.csv"
    f.write_text("id,start,end,lat,lon\nd1,0,5,48.8,2.3\nd1,x,5,1,1\n")
    with pytest.raises(GeosqlError, match="line 3, column 'start'"):
        load_gold_spans(f, {"d1"})
    f.write_text("id,start,end,lat,lon\nd2,0,5,48.8,2.3\n")
    with pytest.raises(GeosqlError, match="'d2' is not in the docs"):
        load_gold_spans(f, {"d1"})
    f.write_text("id,start,end,lat,lon\nd1,5,5,48.8,2.3\n")
    with pytest.raises(GeosqlError, match="start < end"):
        load_gold_spans(f, {"d1"})
    f.write_text("id,begin,end,lat,lon\n")
    with pytest.raises(GeosqlError, match="no column 'start'"):
        load_gold_spans(f, {"d1"})


def test_famous_cities_rule(wh: Path) -> None:
    """>= 300k people, and no other place named alike with >= 10% of the population."""
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO places (geonameid, name, asciiname, feature_class, country_code,"
            " population) VALUES"
            " (1, 'Bigtown', 'Bigtown', 'P', 'AA', 500000),"  # unique: in
            " (2, 'Twin', 'Twin', 'P', 'AA', 400000),"  # namesake with 25%: out
            " (3, 'Twin', 'Twin', 'P', 'BB', 100000),"
            " (4, 'Solo', 'Solo', 'P', 'CC', 350000),"  # namesake with 3%: in
            " (5, 'Solo', 'Solo', 'P', 'DD', 10000),"
            " (6, 'Alias', 'Alias', 'P', 'EE', 300000),"  # alternate name of a big place: out
            " (7, 'Other', 'Other', 'P', 'FF', 200000),"
            " (8, 'Smallville', 'Smallville', 'P', 'GG', 299999)"  # too small
        )
        con.execute("INSERT INTO place_names VALUES (7, 'alias', 'en'), (1, 'Bigtown', 'de')")
        got = famous_cities(con)
    assert [(n, cc) for n, cc, _, _ in got] == [("Bigtown", "AA"), ("Solo", "CC")]
