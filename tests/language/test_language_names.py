"""Multilingual name forms for the gazetteer: Greek cases, Hindi spellings, Spanish
demonyms, exonyms, non-place words, katakana word boundaries, resolution to places."""

from __future__ import annotations

from pathlib import Path

import geosql
from udfs.language import names


def test_greek_case_forms() -> None:
    assert "αθηνας" in names.greek_forms("Αθήνα")  # της Αθήνας
    assert {"μυκονου", "μυκονο"} <= set(names.greek_forms("Μύκονος"))  # στη Μύκονο
    assert "χανιων" in names.greek_forms("Χανιά")
    assert "λονδινου" in names.greek_forms("Λονδίνο")
    assert "παρισιου" in names.greek_forms("Παρίσι")
    assert "πειραια" in names.greek_forms("Πειραιάς")
    assert "νεας υορκης" in names.greek_forms("Νέα Υόρκη")
    assert "αθηνασ" in names.greek_forms("Αθήνα")  # all-caps ΑΘΗΝΑΣ lower-cases to σ
    assert names.greek_forms("Paris") == []


def test_hindi_spelling_variants() -> None:
    assert names.hindi_variants("लंदन") == ["लन्दन"]
    assert names.hindi_variants("लन्दन") == ["लंदन"]
    assert "ब्राजील" in names.hindi_variants("ब्राज़ील")
    assert "मुम्बई" in names.hindi_variants("मुंबई")
    assert names.hindi_variants("London") == []


def test_spanish_demonym_forms() -> None:
    assert names.spanish_demonym_forms("suizo") == ["suizo", "suiza", "suizos", "suizas"]
    assert names.spanish_demonym_forms("francés")[1:] == ["francesa", "franceses", "francesas"]
    assert names.spanish_demonym_forms("alemán")[2] == "alemanes"
    assert names.spanish_demonym_forms("andaluz")[2] == "andaluces"
    assert names.spanish_demonym_forms("belga") == ["belga", "belgas"]


def test_extra_names_table() -> None:
    t = names.extra_names()
    assert t.schema == names.SCHEMA
    rows = t.to_pylist()
    by = {(r["name"], r["lang"]): r for r in rows}
    assert by[("パリ", "ja")]["country_code"] == "FR"
    assert by[("ハワイ", "ja")]["country_code"] == "US"
    assert by[("हवाई द्वीप", "hi")]["place"] == "Hawaii"
    assert by[("Σαντορίνη", "el")]["place_kind"] == "admin1"
    assert by[("σαντορινης", "el")]["kind"] == "inflected"
    assert by[("suizos", "es")]["kind"] == "demonym"
    # forms derived from GeoNames names carry their geonameid
    derived = [r for r in rows if r["geonameid"] is not None]
    assert len(derived) > 1000 and all(r["kind"] in ("inflected", "variant") for r in derived)
    assert {r["lang"] for r in rows} == {"es", "ja", "hi", "el"}
    # generated forms are never everyday words of their language
    for r in rows:
        if r["kind"] != "exonym":
            assert names._fold(r["name"]) not in names._blocked(r["lang"]), r


def test_non_place_words() -> None:
    es = names.non_place_words("es")
    assert {"mesa", "flores", "sala", "casa", "el jardín", "el desierto"} <= es
    # famous places, countries and divisions stay places even when they are frequent words
    assert not {"salamanca", "madrid", "china", "perú", "florida", "lima"} & es
    hi = names.non_place_words("hi")
    assert {"लाल", "पर", "में"} <= hi and not {"भारत", "गोवा", "दिल्ली"} & hi
    assert "हवाई" not in hi  # frequent ("air"), but an exonym of Hawaii; its phrases consume it
    el = names.non_place_words("el")
    assert {"πύργος", "χώρα", "παραλία", "κανάλια"} <= el  # κανάλια: frequent word, a village
    assert not {"χανιά", "ελλάδα", "κύπρος", "αθήνα"} & el
    assert all(not w.isascii() for w in el)  # Latin words in Greek text are not Greek words
    assert "コレ" in names.non_place_words("ja") and "東京" not in names.non_place_words("ja")
    assert names.non_place_words("xx") == set()
    assert {"हवाई जहाज", "हवाई अड्डा"} <= names.non_place_phrases("hi")
    assert names.non_place_phrases("es") == set()


def test_katakana_boundaries() -> None:
    text = "手作りのチョコレートケーキ"
    s = text.index("コレ")
    assert not names.cjk_boundary_ok(text, s, s + 2)  # inside チョコレート
    t2 = "パリのエッフェル塔"
    assert names.cjk_boundary_ok(t2, 0, 2)  # パリ, then の (hiragana)
    t3 = "ベトナムのハロン湾"
    assert not names.cjk_boundary_ok(t3, 1, 3)  # トナ inside ベトナム
    assert names.cjk_boundary_ok(t3, 0, 4)
    assert names.cjk_boundary_ok("東京タワー", 0, 2)  # kanji next to katakana is a boundary


def test_resolve_extra_names_against_places(wh: Path) -> None:
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO places (geonameid, name, asciiname, feature_class, feature_code,"
            " country_code, population) VALUES"
            " (1, 'Greece', 'Greece', 'A', 'PCLI', 'GR', 10000000),"
            " (2, 'South Aegean', 'South Aegean', 'A', 'ADM1', 'GR', NULL),"
            " (3, 'Athens', 'Athens', 'P', 'PPLC', 'GR', 660000),"
            " (4, 'Athens', 'Athens', 'P', 'PPL', 'US', 120000),"
            " (5, 'United States', 'United States', 'A', 'PCLI', 'US', 330000000),"
            " (264371, 'Athína', 'Athina', 'P', 'PPLC', 'GR', 660000)"
        )
        t = names.resolve_extra_names(con).to_pylist()
    got = {(r["name"], r["lang"]): r["geonameid"] for r in t}
    assert got[("Σαντορίνη", "el")] == 2  # admin1 by name
    assert got[("アテネ", "ja")] == 3  # the Greek Athens, by country
    assert got[("Nueva York", "es")] == 5  # New York City not loaded: the country
    demonyms = [r for r in t if r["kind"] == "demonym" and r["name"] == "griegos"]
    assert demonyms and demonyms[0]["geonameid"] == 1 and demonyms[0]["lang"] == "demonym"
    # derived forms keep their GeoNames id only when that place is loaded
    assert got.get(("αθηνας", "el")) in (3, 264371)
    assert all(r["geonameid"] in (1, 2, 3, 4, 5, 264371) for r in t)
