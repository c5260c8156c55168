"""Offline geoparser: stage, UDF, languages, eval command; dev-set accuracy when ../shared exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import geosql
from geosql.cli import get_cli
from geosql.runner import run_stage
from udfs.gazetteer import Engine

CAPTIONS = {
    "en1": ("Sunset over the Golden Gate Bridge, San Francisco, California", "US"),
    "en2": ("3 bedroom house for sale in Austin, TX 78701", "US"),
    "en3": ("Modern living room with a beautiful wedding dress on sale", None),
    "en4": ("View of the harbour in Sydney, Australia", "AU"),
    "en5": ("Boho Beach Wedding Invitation Printable", None),
    "en6": ("Traditional house in Kyoto, Japan", "JP"),
    "en7": ("Flag of Kenya waving in the wind", "KE"),
    "en8": ("Cottage near Edinburgh, Scotland", "GB"),
    "es1": ("Casa en venta en Valparaíso, Chile", "CL"),
    "es2": ("Playa de arena blanca en Cancún, México", "MX"),
    "ja1": ("東京の夜景とタワー", "JP"),
    "hi1": ("मुंबई में समुद्र तट का दृश्य", "IN"),
    "el1": ("Σπίτι στην Αθήνα", "GR"),
    "moj": ("Bou IsmaÃ¯l is a city in Tipaza Province, Algeria", "DZ"),
    "pc1": ("4 bed terraced house to rent, N5 1TB", "GB"),
    "pc2": ("Condo apartment for sale V6K 2G4", "CA"),
    "pc3": ("34/180 Cox Road, Lovely Banks, Vic 3213", "AU"),
    "st1": ("Fused glass jewelry handmade in NC", "US"),
    "hash": ("#newyork skyline at dusk #travel", "US"),
    "vag": ("Latin America's leading trade blocs meet every year", None),
    "usa": ("Vintage enamel sign, made in USA", "US"),
    "us": ("Solid oak dining set, shipped from the US", "US"),
    "ap": ("Police photo taken in Mountain View, Calif., on Monday", "US"),
    # Accents stripped from a foreign exonym must not turn an English word into a country:
    # "Suède" (Sweden), "Ísland" (Iceland), "Åland" read as "a land".
    "fold": ("Garden Flag Easter Basket Textured Suede", None),
    "fold2": ("A small island in a land of lakes", None),
    "county": ("Judge Lasher from the Emmet County prosecutor's office", "US"),
    # Demonyms shared with a country's territories name the country ("French": not Réunion).
    "dem": ("Hand-painted French porcelain vase", "FR"),
    # A division's demonym names its country; part of a country's name names the country.
    "dem2": ("Surfer off the Hawaiian coast at sunset", "US"),
    "part": ("Sunset over the harbour in Antigua", "AG"),
    # A country's own terms ("semi-detached", "BHK", "£") pick among same-name places.
    "cue0": ("House for sale in Richmond", "US"),
    "cue1": ("Semi-detached house for sale in Richmond", "GB"),  # see CUE_MISSES
    # A town's name inside a person's name is no place ("Craig", "Houston"); the town is.
    "person1": ("James Franco, Jonah Hill, Craig Robinson and Seth Rogen at the premiere", None),
    "person2": ("Portrait of Marie Houston", None),
    "person3": ("Downtown Houston at night", "US"),
}


@pytest.fixture(scope="module")
def engine(index) -> Engine:
    return Engine(index)


# Known misses, kept visible: the country term weighs about as much as Richmond, Virginia's
# size over Richmond, London's (v30: US 0.300, GB 0.284; v29 had GB 0.294, US 0.287).
CUE_MISSES = {"cue1"}


@pytest.mark.parametrize(
    "cid",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="country term too weak"))
        if c in CUE_MISSES
        else c
        for c in sorted(CAPTIONS)
    ],
)
def test_parse_examples(engine: Engine, cid: str) -> None:
    text, expected = CAPTIONS[cid]
    r = engine.parse_one(text)
    assert r["country_code"] == expected, (text, r)
    assert 0.0 <= r["confidence"] <= 1.0


def test_person_context(engine: Engine) -> None:
    """After a given name, or a given name before a surname; not before a street or park."""
    texts = [
        "Portrait of Marie Houston",
        "Craig Robinson at the premiere",
        "Flat to rent in Charlotte Street, London",
        "Downtown Houston at night",
        "Craig, Alaska",
    ]
    engine.features(texts)
    got = dict(
        engine.db.sql(
            "SELECT r, max(f_person_context) FROM g_feat WHERE f_city > 0 GROUP BY r"
        ).fetchall()
    )
    assert got == {0: 1.0, 1: 1.0, 2: 0.0, 3: 0.0, 4: 0.0}


def test_mentions_have_offsets(engine: Engine) -> None:
    text = "Hiking near Banff, Alberta"
    ments = engine.parse_one(text)["mentions"]
    assert any(text[m["start_pos"] : m["end_pos"]] == m["mention"] == "Banff" for m in ments)
    assert any(m["mention"] == "Alberta" and m["country_code"] == "CA" for m in ments)


@pytest.mark.parametrize("sep", ["-", "–", "/", "|", "  ", "..."])
def test_plain_and_other_text_tokenize_alike(engine: Engine, sep: str) -> None:
    """Plain ASCII text takes a faster split than the rest: the same mentions and offsets."""
    text = f"Old house{sep}Banff, Alberta{sep}Canada"
    ments = engine.parse_one(text)["mentions"]
    found = {m["mention"]: (m["start_pos"], m["end_pos"]) for m in ments}
    assert set(found) == {"Banff", "Alberta", "Canada"}
    assert all(text[s:e] == name for name, (s, e) in found.items())


def test_batch_keeps_row_order_and_nulls(engine: Engine) -> None:
    texts = ["Paris, France", None, "", "a red car", "Tokyo, Japan", "Nairobi, Kenya"]
    preds, _ = engine.parse(texts)
    assert preds["r"].to_pylist() == list(range(len(texts)))
    assert preds["country_code"].to_pylist() == ["FR", None, None, None, "JP", "KE"]


def test_fuzzy_retrieval_is_opt_in(index) -> None:
    """A misspelt city is found by trigram similarity only with fuzzy=True; everyday words never."""
    gaz = index
    text = "Sunset over Barcelonna harbour"
    assert Engine(gaz).parse_one(text)["country_code"] is None
    fuzzy = Engine(gaz, fuzzy=True)
    r = fuzzy.parse_one(text)
    assert r["country_code"] == "ES" and r["mention"] == "Barcelonna"
    assert fuzzy.parse_one("Vintage Chanel Handbag")["country_code"] is None
    # Each distinct word is compared once and its best name goes to every place it occurs.
    texts = ["Barcelonna at night", "Old port of Barcelonna, Barcelonna beach", "No place"]
    preds, ments = fuzzy.parse(texts)
    assert preds["country_code"].to_pylist() == ["ES", "ES", None]
    got = [(m["r"], m["start_pos"]) for m in ments.to_pylist() if m["mention"] == "Barcelonna"]
    assert got == [(0, 0), (1, 12), (1, 24)]


def test_vague_region_consumes_its_words(engine: Engine) -> None:
    ments = engine.parse_one("Latin America's leading trade blocs")["mentions"]
    assert not any(m["mention"] == "America" for m in ments)


def test_confidence_reads_caption_facts_without_a_candidate(engine: Engine) -> None:
    """A caption with no candidate place still has caption facts (a place cue word here), and
    the confidence model reads them: "no place" is less sure where the caption reads as one."""
    plain, cued = engine.parse_one("zxqv blorp"), engine.parse_one("zxqv blorp county")
    assert plain["mentions"] == [] and cued["mentions"] == []
    assert plain["country_code"] is None and cued["country_code"] is None
    assert cued["confidence"] < plain["confidence"]


def test_stage_writes_predictions_and_resumes(ref_wh: Path) -> None:
    with geosql.connect(ref_wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 'demo', ?)",
            [(k, v[0]) for k, v in CAPTIONS.items()] + [("null", None)],
        )
        s = run_stage(con, "geoparse", batch_size=4)
        assert s.rows_done == len(CAPTIONS) + 1 and s.rows_failed == 0
        got = dict(
            con.sql(
                "SELECT caption_id, country_code FROM geo_predictions WHERE method='offline'"
            ).fetchall()
        )
        assert got["en1"] == "US" and got["en3"] is None and got["null"] is None
        m = con.sql(
            "SELECT mention, start_pos, end_pos, country_code FROM geo_mentions WHERE caption_id = 'en4'"
        ).fetchall()
        start = CAPTIONS["en4"][0].index("Sydney")
        assert ("Sydney", start, start + 6, "AU") in m
        again = run_stage(con, "geoparse")
        assert again.rows_done == 0  # nothing pending for the same config
        n = con.sql("SELECT count(*) FROM geo_predictions").fetchall()[0][0]
        assert n == len(CAPTIONS) + 1
        runs = con.sql(
            "SELECT status, rows_done FROM stage_runs WHERE stage='geoparse' ORDER BY run_id"
        ).fetchall()
        assert runs == [("done", len(CAPTIONS) + 1), ("done", 0)]
        # Another threshold is another config (contract v2): every row is redone and kept
        # beside the first config's, one row per caption and config, never duplicated.
        redo = run_stage(con, "geoparse", config={"threshold": 0.99}, batch_size=8)
        assert redo.rows_done == len(CAPTIONS) + 1 and redo.config_key != s.config_key
        assert con.sql(
            "SELECT count(*), count(DISTINCT caption_id), count(DISTINCT config_key)"
            " FROM geo_predictions WHERE method = 'offline'"
        ).fetchall() == [(2 * (len(CAPTIONS) + 1), len(CAPTIONS) + 1, 2)]
        n_ment = con.sql(
            "SELECT count(*) FROM"
            " (SELECT DISTINCT caption_id, start_pos, config_key FROM geo_mentions)"
        ).fetchall()[0][0]
        assert con.sql("SELECT count(*) FROM geo_mentions").fetchall()[0][0] == n_ment
        run_stage(con, "geoparse")  # back to the default threshold for the checks below
        # The SQL UDF gives the same answer as the stage.
        udf = con.sql(
            "SELECT geoparse('Rooftop bar in Bangkok, Thailand').country_code"
        ).fetchall()[0][0]
        assert udf == "TH"
        # Over a whole table (vectorized, NULL text included) it agrees with the stage row by row.
        got = con.sql("SELECT caption_id, geoparse(text).country_code FROM captions").fetchall()
        stage = con.sql(
            "SELECT caption_id, country_code FROM geo_predictions"
            " WHERE method = 'offline' AND config_key = ?",
            params=[s.config_key],
        ).fetchall()
        assert dict(got) == dict(stage)


def test_eval_command_json(ref_wh: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "sentence,country\n"
        '"Sunset over Lake Tahoe, California",USA\n'
        '"A red car parked on the street",no\n'
        '"Street food in Hanoi, Vietnam",viet nam\n'
        '"Somewhere nice",Narnia\n'
    )
    res = CliRunner().invoke(
        get_cli(),
        [
            "--warehouse",
            str(ref_wh),
            "eval",
            "--gold",
            str(gold),
            "--text-col",
            "sentence",
            "--gold-col",
            "country",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["n"] == 3 and out["unknown_gold_labels"] == 1
    assert out["accuracy"] == 1.0 and out["located_accuracy"] == 1.0
    assert out["false_positive_rate"] == 0.0
    with geosql.connect(ref_wh, read_only=True) as con:  # eval keeps to a dataset of its own
        assert con.sql("SELECT DISTINCT dataset FROM captions").fetchall() == [("eval:gold",)]
        assert con.sql("SELECT count(*) FROM stage_current").fetchall()[0][0] == 0


@pytest.mark.shared
@pytest.mark.parametrize(
    ("fname", "text_col", "gold_col", "floor"),
    [
        ("laion_self_dev.csv", "text", "gt", 0.74),
        ("marginalized_dev.csv", "Text", "Country name EN", 0.80),
    ],
)
def test_dev_accuracy(shared: Path, ref_wh: Path, fname, text_col, gold_col, floor) -> None:
    """Regression floor on the real dev sets (the figures are reported by `geosql eval`).

    The shipped model is fitted on these rows, so this guards against regressions; the held-out
    estimate comes from `scripts/train_geoparser.py`."""
    from geosql.evaluate import evaluate

    res = evaluate(ref_wh, shared / "data" / "dev" / fname, text_col, gold_col, "offline")
    assert res["accuracy"] >= floor, res["accuracy"]


def test_batching_does_not_change_answers(ref_wh: Path) -> None:
    """Set-based parsing of a batch gives each caption the answer it gets alone or in any batch."""
    rows = [(f"w{i}", CAPTIONS[k][0]) for i, k in enumerate(sorted(CAPTIONS) * 30)]
    with geosql.connect(ref_wh) as con:
        con.executemany("INSERT INTO captions (caption_id, dataset, text) VALUES (?, 'w', ?)", rows)
        mine = "caption_id LIKE 'w%'"  # (other tests may have left captions in the fixture)
        run_stage(con, "geoparse", config={"method": "whole"}, where=mine)
        s = run_stage(con, "geoparse", config={"method": "small"}, batch_size=7, where=mine)
        assert s.rows_done == len(rows)
        diff = con.sql(
            "SELECT count(*) FROM geo_predictions a JOIN geo_predictions b USING (caption_id)"
            " WHERE a.method = 'whole' AND b.method = 'small'"
            " AND (a.country_code IS DISTINCT FROM b.country_code OR a.confidence <> b.confidence)"
        ).fetchall()[0][0]
        assert diff == 0
        n_whole, n_small = (
            con.sql(
                f"SELECT count(*) FROM geo_mentions WHERE method = '{m}' AND {mine}"
            ).fetchall()[0][0]
            for m in ("whole", "small")
        )
        assert n_whole == n_small > len(rows)


def test_fast_zipf_matches_wordfreq() -> None:
    from wordfreq import zipf_frequency

    from udfs.gazetteer import zipf

    for w in [
        "wedding",
        "london",
        "buston",
        "the",
        "sale",
        "xyzzyq",
        "new york",
        "são paulo",
        "東京",
    ]:
        assert zipf(w) == zipf_frequency(w, "en"), w


def test_dictionary_words_exclude_proper_nouns() -> None:
    """The everyday-word list keeps common nouns and drops names that wordfreq also counts."""
    from udfs.gazetteer import dict_word

    assert dict_word("sale") and dict_word("reading") and dict_word("spring valley")
    assert not dict_word("london") and not dict_word("honolulu") and not dict_word("hyde park")
