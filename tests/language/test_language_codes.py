"""Language codes: ISO 639 tags normalized, FLORES-200 mapping for every NLLB language."""

from __future__ import annotations

from udfs.language.codes import flores_code, flores_rows, language_countries, normalize_language


def test_normalize_language() -> None:
    assert normalize_language("es-MX") == "es"
    assert normalize_language("spa") == "es"
    assert normalize_language("ell_Grek") == "el"
    assert normalize_language("zh-Hant") == "zh"
    assert normalize_language("JA") == "ja"
    assert normalize_language("arb") == "ar"  # an individual language of a macrolanguage
    assert normalize_language("ace") == "ace"  # no ISO 639-1 code: ISO 639-3 kept
    assert normalize_language("") is None
    assert normalize_language(None) is None


def test_flores_table_covers_every_nllb_language() -> None:
    rows = flores_rows()
    assert len(rows) == 202
    assert len({r["flores_code"] for r in rows}) == 202
    for r in rows:  # every code is reachable from its own ISO 639-3 code or itself
        assert flores_code(r["flores_code"]) == r["flores_code"]
        assert flores_code(r["iso639_3"]) is not None
    defaults1 = [r["iso639_1"] for r in rows if r["default_iso639_1"] == "True"]
    assert len(defaults1) == len(set(defaults1))  # one default per ISO 639-1 code


def test_flores_code() -> None:
    assert flores_code("es") == "spa_Latn"
    assert flores_code("ja") == "jpn_Jpan"
    assert flores_code("hi") == "hin_Deva"
    assert flores_code("el") == "ell_Grek"
    assert flores_code("ar") == "arb_Arab"
    assert flores_code("zh") == "zho_Hans"
    assert flores_code("zh-TW") == "zho_Hant"
    assert flores_code("fa") == "pes_Arab"
    assert flores_code("ms") == "zsm_Latn"
    assert flores_code("pt-BR") == "por_Latn"
    assert flores_code("ell") == "ell_Grek"
    assert flores_code("xx") is None
    assert flores_code("und") is None


def test_language_countries_table() -> None:
    t = language_countries().to_pylist()
    wide = {(r["country_code"], r["language"]) for r in t if r["widely_spoken"]}
    assert {("ES", "es"), ("MX", "es"), ("JP", "ja"), ("GR", "el"), ("CY", "el")} <= wide
    assert {("IN", "hi"), ("US", "es"), ("CH", "fr")} <= wide
    assert ("BR", "es") not in wide and ("JP", "es") not in wide
    firsts = {r["country_code"] for r in t if r["rank"] == 1}
    assert all(r["widely_spoken"] for r in t if r["rank"] == 1)
    assert len(firsts) > 200
