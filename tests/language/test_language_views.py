"""Golden tests of the multilingual views on tiny hand-made tables."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import geosql


def _setup(con) -> None:
    caps = [
        ("c1", "es", "Playa en Cancún"),
        ("c2", "es", "Madrid de noche"),
        ("c3", "es", "Torre Eiffel en París"),
        ("c4", "es", "Mesa de madera"),
        ("e1", "en", "Beach in Cancun"),
        ("e2", "en", "Paris at night"),
        ("e3", "en", "New York"),
        ("e4", "en", "Chicago"),
        ("u1", None, "IMG"),
    ]
    for cid, lang, text in caps:
        con.execute(
            "INSERT INTO captions (caption_id, dataset, language, text) VALUES (?, 'd', ?, ?)",
            [cid, lang, text],
        )
    con.execute(
        "INSERT INTO stage_current (stage, scope, config_key) VALUES"
        " ('detect-language', 'detect-language', 'k1'), ('translate', 'translate', 't1')"
    )
    # detected: the current config (k1) says c4 is Catalan; an old config (k0) is ignored
    con.execute(
        "INSERT INTO caption_languages VALUES ('c4', 'ca', 0.7, 'model', 'k1'),"
        " ('u1', 'und', 0.0, 'script', 'k1'), ('c1', 'fr', 0.9, 'model', 'k0')"
    )
    con.execute(
        "INSERT INTO translations VALUES"
        " ('c1', 'm', 'spa_Latn', 'Beach in Cancun', 't1'),"
        " ('c2', 'm', 'spa_Latn', 'Madrid at night', 't1'),"
        " ('c3', 'm', 'spa_Latn', 'Eiffel tower in Paris', 't1'),"
        " ('c4', 'm', 'cat_Latn', NULL, 't1'),"
        " ('c2', 'm', 'spa_Latn', 'OLD', 't0')"
    )
    preds = [
        # direct: c1 wrong (CN), c4 no place; translated: all right, c4 no place
        ("c1", "offline", "CN"), ("c2", "offline", "ES"), ("c3", "offline", "FR"),
        ("c4", "offline", None),
        ("c1", "offline+nllb", "MX"), ("c2", "offline+nllb", "ES"),
        ("c3", "offline+nllb", "FR"), ("c4", "offline+nllb", None),
        ("e1", "offline", "MX"), ("e2", "offline", "FR"), ("e3", "offline", "US"),
        ("e4", "offline", "US"),
        ("e1", "offline+nllb", "MX"), ("e2", "offline+nllb", "FR"),
        ("e3", "offline+nllb", "US"), ("e4", "offline+nllb", "US"),
    ]  # fmt: skip
    for cid, m, cc in preds:
        con.execute(
            "INSERT INTO geo_predictions (caption_id, method, country_code) VALUES (?, ?, ?)",
            [cid, m, cc],
        )
    con.execute(
        "INSERT INTO language_countries VALUES ('ES', 'es', 1, true, 'es-ES'),"
        " ('MX', 'es', 1, true, 'es-MX'), ('US', 'es', 2, true, 'es-US'),"
        " ('BR', 'es', 2, false, 'es'), ('US', 'en', 1, true, 'en-US'),"
        " ('FR', 'fr', 1, true, 'fr-FR')"
    )


def test_caption_language_view(wh: Path) -> None:
    with geosql.connect(wh) as con:
        _setup(con)
        got = {
            r[0]: r[1:]
            for r in con.sql("SELECT caption_id, language, how FROM caption_language").fetchall()
        }
    assert got["c1"] == ("es", "given")  # k0 is not the current config
    assert got["c4"] == ("ca", "model")
    assert got["u1"] == ("und", "script")
    assert got["e1"] == ("en", "given")
    assert len(got) == 9


def test_current_translations_view(wh: Path) -> None:
    with geosql.connect(wh) as con:
        _setup(con)
        got = dict(con.sql("SELECT caption_id, text_en FROM current_translations").fetchall())
    assert got == {
        "c1": "Beach in Cancun",
        "c2": "Madrid at night",  # the current config's row, not t0's
        "c3": "Eiffel tower in Paris",
        # c4 failed (NULL) and is left out; English captions pass through
        "e1": "Beach in Cancun",
        "e2": "Paris at night",
        "e3": "New York",
        "e4": "Chicago",
    }


def test_translation_agreement_view(wh: Path) -> None:
    with geosql.connect(wh) as con:
        _setup(con)
        rows = con.sql("SELECT * FROM translation_agreement ORDER BY language").pl().to_dicts()
    by = {r["language"]: r for r in rows}
    assert set(by) == {"es", "ca", "en"}
    es = by["es"]
    assert (es["direct_method"], es["translated_method"], es["n"]) == ("offline", "offline+nllb", 3)
    assert es["agreement"] == pytest.approx(2 / 3)
    assert es["direct_located"] == 1 and es["translated_located"] == 1
    # direct {CN, ES, FR} vs translated {MX, ES, FR}, 1/3 each: TV = 1/3
    assert es["total_variation"] == pytest.approx(1 / 3)
    jsd = 2 * 0.5 * (1 / 3) * math.log2((1 / 3) / (1 / 6))  # CN and MX halves, ES/FR zero
    assert es["js_divergence"] == pytest.approx(jsd)
    ca = by["ca"]  # both say no place: they agree, no distribution to compare
    assert ca["agreement"] == 1 and ca["direct_located"] == 0 and ca["total_variation"] is None
    en = by["en"]
    assert en["agreement"] == 1 and en["total_variation"] == pytest.approx(0)


def test_language_country_skew_view(wh: Path) -> None:
    with geosql.connect(wh) as con:
        _setup(con)
        rows = (
            con.sql(
                "SELECT * FROM language_country_skew WHERE method = 'offline+nllb' ORDER BY language"
            )
            .pl()
            .to_dicts()
        )
    by = {r["language"]: r for r in rows}
    es = by["es"]  # MX, ES, FR: 2 of 3 in Spanish-speaking countries
    assert (es["n_located"], es["n_in_language_countries"]) == (3, 2)
    assert es["share_in"] == pytest.approx(2 / 3)
    assert es["share_elsewhere"] == pytest.approx(1 / 3)
    # English captions: MX, FR, US, US -> MX and US are Spanish-speaking: 3 of 4
    assert es["n_english_located"] == 4
    assert es["english_share_in"] == pytest.approx(3 / 4)
    assert es["skew"] == pytest.approx((2 / 3) / (3 / 4))
    assert by["en"]["share_in"] == pytest.approx(2 / 4)  # US twice of MX, FR, US, US
    assert "ca" not in by  # c4 located nowhere
