"""Direct non-English geoparsing through the real gazetteer index of a reference warehouse:
the index includes the multilingual names (udfs/gazetteer/multilingual.py), geo_norm keeps kana
voicing marks, katakana names match on katakana word boundaries only."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import geosql
from udfs.gazetteer import Engine, load_gazetteer
from udfs.gazetteer.index import _private_db
from udfs.gazetteer.multilingual import keep_latin

CAPTIONS = {
    "Vacaciones en Σαντορίνη": "GR",
    "Ηλιοβασίλεμα στη Σαντορίνη": "GR",  # accusative after στη
    "Βόλτα στους δρόμους της Αθήνας": "GR",  # genitive
    "パリの夜景": "FR",  # kana voicing kept: パリ, not ハリ
    "ドバイの高層ビル": "AE",
    "チョコレートケーキのレシピ": None,  # コレ inside チョコレート is no mention of France
    "Una mesa de madera en la cocina": None,  # Spanish "mesa" (table) is no place here
    "Una puesta de sol en la playa": None,  # "sol" is not Seoul
    "हवाई के समुद्र तट": "US",  # Hawaii's beaches: a frequent word, kept as the phrases' first
    "हवाई जहाज की खिड़की से दृश्य": None,  # the view from an aeroplane window
    "Sunset over Mesa, Arizona": "US",  # the English place of that name is kept
}


@pytest.fixture(scope="module")
def index(ref_wh_master: Path) -> Path:
    with geosql.connect(ref_wh_master, read_only=True) as con:
        return load_gazetteer(con)


def test_geoparse_udf_reads_the_multilingual_names(ref_wh: Path) -> None:
    texts = list(CAPTIONS)
    with geosql.connect(ref_wh, read_only=True) as con:
        con.register("t", pa.table({"i": list(range(len(texts))), "text": texts}))
        got = dict(con.sql("SELECT i, geoparse(text).country_code FROM t").fetchall())
    assert {t: got[i] for i, t in enumerate(texts)} == CAPTIONS


def test_katakana_match_only_on_word_boundaries(index: Path) -> None:
    e = Engine(index)
    assert e.parse_one("チョコレート")["mentions"] == []
    m = e.parse_one("ロンドンのチョコレート")["mentions"]
    assert [(x["mention"], x["country_code"]) for x in m] == [("ロンドン", "GB")]


def test_index_keys_keep_kana_voicing(index: Path) -> None:
    db = _private_db()
    assert db.sql("SELECT geo_key('パリ'), geo_key('ドバイ'), geo_key('Ávila')").fetchall() == [
        ("パリ", "ドバイ", "avila")
    ]
    db.execute(f"ATTACH '{index}' AS gz (READ_ONLY)")
    q = "SELECT key, list(cc) FROM gz.g_gaz WHERE key IN ('パリ', 'ドバイ') GROUP BY 1"
    cc = dict(db.sql(q).fetchall())
    assert "FR" in cc["パリ"] and "AE" in cc["ドバイ"]
    names = db.sql(
        "SELECT key, vague FROM gz.g_names WHERE key IN ('हवाई जहाज', 'हवाई')"
    ).fetchall()
    assert dict(names) == {"हवाई जहाज": True, "हवाई": False}  # a phrase names nothing
    # non-place words: the Greek one leaves, the Spanish one keeps only the big place of its name
    assert not db.sql("SELECT 1 FROM gz.g_gaz WHERE key = 'χωρα'").fetchall()
    assert {r[0] for r in db.sql("SELECT cc FROM gz.g_gaz WHERE key = 'mesa'").fetchall()} == {"US"}
    db.close()


def test_keep_latin_non_place_words() -> None:
    assert keep_latin("PCLI", 0, False) and keep_latin("ADM1", 0, True)  # Montana
    assert keep_latin("PPLA2", 500_000, True)  # Mesa, Arizona
    assert not keep_latin("PPLC", 10_000_000, False)  # Seoul's alternate name "Sol"
    assert not keep_latin("PPL", 5_000, True)  # a small town called Casa
    assert not keep_latin("ADM2", 50_000, True)
