"""`geosql eval` plumbing through the CLI with a stand-in stage of known answers (conftest):
its own dataset, the configs the views show left alone, reruns free, toponyms, the probe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import geosql
from geosql.cli import get_cli
from geosql.eval.toponyms import MAX_ERROR_KM, log_error_auc
from geosql.runner import run_stage

PLACES = [  # geonameid, name, country, population, lat, lon
    (2988507, "Paris", "FR", 2_138_551, 48.8534, 2.3488),
    (1850147, "Tokyo", "JP", 8_336_599, 35.6895, 139.6917),
    (4250542, "Springfield", "US", 400_000, 39.8017, -89.6437),
    (2996944, "Lyon", "FR", 472_317, 45.7485, 4.8467),
    (1, "Bigcity", "DE", 500_000, 50.0, 10.0),
]


def _eval(wh: Path, *args: str) -> dict:
    res = CliRunner().invoke(get_cli(), ["-w", str(wh), "eval", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture
def pwh(wh: Path) -> Path:
    """A warehouse with a few places (so eval does not load the bundled reference data)."""
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO places (geonameid, name, asciiname, country_code, population, lat, lon,"
            " feature_class) VALUES (?, ?, ?, ?, ?, ?, ?, 'P')",
            [(g, n, n, cc, pop, lat, lon) for g, n, cc, pop, lat, lon in PLACES],
        )
    return wh


def test_eval_runs_in_its_own_dataset(pwh: Path, tmp_path: Path, fake_method) -> None:
    f = tmp_path / "gold.csv"
    f.write_text(
        "sentence,country\n"
        '"A house in Paris, France",france\n'
        "Sunset over Tokyo,Japan\n"
        "a red chair on a white floor,no\n"
        "Springfield at night,united states\n"
        "A castle in Atlantis,Atlantis\n"
    )
    with geosql.connect(pwh) as con:  # the user's own data, with a config in use
        con.execute(
            "INSERT INTO captions (caption_id, dataset, text) VALUES ('mine:1', 'mine', 'x')"
        )
        run_stage(con, "fake-geoparse")
        before = con.sql("SELECT * FROM stage_current ORDER BY ALL").fetchall()
        assert before
    args = ("--gold", str(f), "--text-col", "sentence", "--gold-col", "country", "--name", "t")
    out = _eval(pwh, *args, "--method", "fake")
    assert out["dataset"] == "eval:t" and out["n"] == 4 and out["unknown_gold_labels"] == 1
    assert out["accuracy"] == 0.75 and out["located_accuracy"] == round(2 / 3, 4)
    assert out["false_positive_rate"] == 0.0 and out["rows_run"] == 4
    # gold shares France, Japan, US a third each; answered France, Japan half each
    assert out["distribution_distance"] == round(1 / 3, 4) and out["n_predicted_located"] == 2
    cal = out["calibration"]  # 0.9, 0.95, 1.0 right; 0.6 (Springfield: no place) wrong
    assert [(b["lo"], b["n"], b["accuracy"]) for b in cal["bins"]] == [(0.6, 1, 0.0), (0.9, 3, 1.0)]
    assert cal["ece"] == pytest.approx(0.25 * 0.6 + 0.75 * 0.05, abs=1e-4)
    lower = _eval(pwh, *args, "--method", "fake", "--set", "threshold=0.3")
    assert lower["accuracy"] == 1.0 and lower["config_key"] != out["config_key"]
    with geosql.connect(pwh, read_only=True) as con:
        ds = dict(con.sql("SELECT dataset, count(*) FROM captions GROUP BY ALL").fetchall())
        assert ds == {"mine": 1, "eval:t": 4}
        # the eval's settings did not become what the user's views show
        assert con.sql("SELECT * FROM stage_current ORDER BY ALL").fetchall() == before
        assert con.sql("SELECT count(*) FROM gold_countries").fetchall()[0][0] == 4
    again = _eval(pwh, *args, "--method", "fake", "--set", "threshold=0.3")
    assert again["rows_run"] == 0 and again["accuracy"] == 1.0  # nothing new to run
    # the file changed: one row edited, one dropped -> only the edited row runs again
    f.write_text(
        "sentence,country\n"
        '"A house in Paris, France",france\n'
        "Sunset over Tokyo at dusk,Japan\n"
        "a red chair on a white floor,no\n"
    )
    edited = _eval(pwh, *args, "--method", "fake", "--set", "threshold=0.3")
    assert edited["n"] == 3 and edited["rows_run"] == 1 and edited["accuracy"] == 1.0
    res = CliRunner().invoke(
        get_cli(), ["-w", str(pwh), "eval", *args, "--method", "fake", "--misses", "2"]
    )
    assert res.exit_code == 0, res.output
    assert "accuracy            1.0000" in res.output and "ECE" in res.output
    assert "distribution distance 0.0000" in res.output


def test_eval_errors(wh: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(get_cli(), ["-w", str(wh), "eval"])
    assert res.exit_code != 0 and "--gold FILE or --probe famous" in res.output
    res = CliRunner().invoke(get_cli(), ["-w", str(wh), "eval", "--gold", "missing.csv"])
    assert res.exit_code != 0 and "missing.csv: no such file" in res.output
    res = CliRunner().invoke(
        get_cli(), ["-w", str(wh), "eval", "--gold", "x.csv", "--method", "nope"]
    )
    assert res.exit_code != 0


def test_eval_toponyms_known_answers(pwh: Path, tmp_path: Path, fake_method) -> None:
    docs, gold = tmp_path / "news.csv", tmp_path / "gold.csv"
    text = "Flights from Paris to Tokyo and Springfield."
    docs.write_text(f'id,text\nd1,"{text}"\nd2,Nothing in Lyon.\n')
    spans = [(w, text.index(w)) for w in ("Paris", "Tokyo", "Springfield")]
    rows = [f"d1,{i},{i + len(w)},{PLACES[k][4]},{PLACES[k][5]}" for k, (w, i) in enumerate(spans)]
    rows.append("d2,11,15,45.7485,4.8467")
    gold.write_text("id,start,end,lat,lon,phrase\n" + "\n".join(f"{r},x" for r in rows) + "\n")
    out = _eval(pwh, "toponyms", "--docs", str(docs), "--gold", str(gold), "--method", "fake")
    assert out["dataset"] == "eval:news" and (out["n_docs"], out["gold_toponyms"]) == (2, 4)
    assert (out["mentions"], out["found"], out["precision"], out["recall"]) == (3, 3, 1.0, 0.75)
    assert out["acc_161km"] == 0.75 and out["acc_161km_found"] == 1.0
    assert out["country_accuracy_found"] == 1.0 and out["median_error_km"] == 0.0
    assert out["auc"] == log_error_auc([0, 0, 0, MAX_ERROR_KM])
    at = {a["threshold"]: (a["mentions"], a["precision"], a["recall"]) for a in out["at_threshold"]}
    assert at[0.0] == (3, 1.0, 0.75) and at[0.5] == (2, 1.0, 0.5) and at[0.9] == (2, 1.0, 0.5)
    res = CliRunner().invoke(
        get_cli(),
        ["-w", str(pwh), "eval", "toponyms", "--docs", str(docs), "--gold", str(gold),
         "--method", "fake"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Acc@161km   0.7500 of all gold, 1.0000 of found" in res.output
    gold.write_text("id,start,end,lat,lon\nd9,0,5,1,1\n")
    res = CliRunner().invoke(
        get_cli(), ["-w", str(pwh), "eval", "toponyms", "--docs", str(docs), "--gold", str(gold)]
    )
    assert res.exit_code != 0 and "line 2, column 'id': 'd9' is not in the docs" in res.output


def test_probe_famous_known_answers(pwh: Path, fake_method) -> None:
    """Paris and Tokyo are known; Springfield scores below the threshold; Bigcity is unknown;
    Lyon (472k) is in too. 5 cities x 5 templates."""
    out = _eval(pwh, "--probe", "famous", "--method", "fake")
    assert (out["cities"], out["n"]) == (5, 25)
    assert out["accuracy"] == 0.4 and out["no_place_share"] == 0.6 and out["wrong"] == 15
    assert {m["text"] for m in out["misses"]} >= {"Bigcity hotel room", "A house in Lyon"}
    lower = _eval(pwh, "--probe", "famous", "--method", "fake", "--set", "threshold=0.3")
    assert lower["accuracy"] == 0.6
    res = CliRunner().invoke(get_cli(), ["-w", str(pwh), "eval", "--probe", "famous",
                                         "--method", "fake"])  # fmt: skip
    assert res.exit_code == 0 and "'Bigcity hotel room': gold DE, got no place" in res.output
