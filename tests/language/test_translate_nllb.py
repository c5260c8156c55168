"""translate: the real NLLB generate path on a tiny random-weight model (CPU), batch halving
on out-of-memory, per-row errors, English skipped, resumable through the runner."""

from __future__ import annotations

from pathlib import Path

import pytest

import geosql
from udfs.translate.nllb import Translator, is_oom


class FakeOOM(RuntimeError):
    pass


def test_tiny_model_generates_on_cpu(tiny_nllb: Path) -> None:
    tr = Translator(str(tiny_nllb), device="cpu", max_length=12, batch_size=2)
    assert tr.bos == tr.tokenizer.convert_tokens_to_ids("eng_Latn")
    texts = ["Atardecer en la playa", "Ηλιοβασίλεμα", "दिल्ली में", "Vista"]
    res = tr.translate(texts, ["spa_Latn", "ell_Grek", "hin_Deva", "spa_Latn"])
    assert res.errors == {} and res.oom_halvings == 0
    assert all(isinstance(t, str) for t in res.texts)
    assert res.batches == 3  # spa (2 rows, one batch), ell, hin
    # sorted by length inside a language, answers back in input order: same as one by one
    codes = ["spa_Latn", "ell_Grek", "hin_Deva", "spa_Latn"]
    alone = [tr.translate([t], [c]).texts[0] for t, c in zip(texts, codes, strict=True)]
    assert res.texts == alone


def test_oom_halves_the_batch_and_bad_rows_fail_alone(tiny_nllb: Path) -> None:
    tr = Translator(str(tiny_nllb), device="cpu", max_length=8, batch_size=4)
    real = tr._generate
    sizes: list[int] = []

    def flaky(batch: list[str], src: str):
        sizes.append(len(batch))
        if len(batch) > 1:
            raise FakeOOM("CUDA out of memory. Tried to allocate 2.00 GiB")
        if batch[0] == "boom":
            raise ValueError("cannot translate this row")
        return real(batch, src)

    tr._generate = flaky
    res = tr.translate(["uno", "dos", "boom", "cuatro"], ["spa_Latn"] * 4)
    assert res.oom_halvings == 2  # 4 -> 2 -> 1
    assert sizes[:2] == [4, 2] and set(sizes[2:]) == {1}
    assert set(res.errors) == {2} and res.errors[2][0] == "ValueError"
    assert all(res.texts[i] is not None for i in (0, 1, 3))
    assert is_oom(FakeOOM("CUDA out of memory")) and not is_oom(ValueError("x"))


def test_stage_translates_non_english_captions(wh: Path, tiny_nllb: Path) -> None:
    from geosql.runner import run_stage

    rows = [
        ("d:1", "Atardecer en la playa de Barcelona", "es"),
        ("d:2", "Ηλιοβασίλεμα στη Σαντορίνη", "el"),
        ("d:3", "Sunset over the beach", "en"),
        ("d:4", "Texto en klingon", "tlh"),  # no FLORES-200 code: a per-row error
        ("d:5", "パリのエッフェル塔", "ja"),
    ]
    cfg = {"model": str(tiny_nllb), "max_length": 10, "device": "cpu"}
    with geosql.connect(wh) as con:
        for cid, text, lang in rows:
            con.execute(
                "INSERT INTO captions (caption_id, dataset, language, text) VALUES (?, 'd', ?, ?)",
                [cid, lang, text],
            )
        s = run_stage(con, "translate", config=cfg, progress=False)
        assert (s.rows_done, s.rows_failed) == (3, 1)
        assert "oom_halvings" in s.usage
        got = dict(con.sql("SELECT caption_id, src_lang FROM translations").fetchall())
        assert got == {"d:1": "spa_Latn", "d:2": "ell_Grek", "d:5": "jpn_Jpan"}
        err = con.sql(
            "SELECT item_id, error_type FROM stage_errors WHERE stage = 'translate'"
        ).fetchall()
        assert err == [("d:4", "UnknownLanguage")]
        # resumable: nothing left; the geoparser's source view has every caption but d:4
        assert run_stage(con, "translate", config=cfg, progress=False).rows_done == 0
        cur = dict(con.sql("SELECT caption_id, src_lang FROM current_translations").fetchall())
        assert cur == {**got, "d:3": "eng_Latn"}
        # gen_batch_size and device do not change the config key; max_length does
        from geosql.registry import registry
        from geosql.settings import config_key, resolve_config

        st = registry.get_stage("translate")
        k = config_key(st, resolve_config(st, cfg))
        assert k == config_key(st, resolve_config(st, {**cfg, "gen_batch_size": 3}))
        assert k != config_key(st, resolve_config(st, {**cfg, "max_length": 11}))


def test_missing_model_is_one_line_error(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from geosql.errors import GeosqlError

    with pytest.raises(GeosqlError, match="cannot load model"):
        Translator(str(tmp_path / "nope"), device="cpu")
