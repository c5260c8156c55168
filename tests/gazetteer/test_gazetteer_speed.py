"""Speed paths of the offline geoparser give the slow paths' answers: repeated texts parsed
once (Engine.parse), mojibake re-decoded without ftfy's search (mojibake.fix_text)."""

from __future__ import annotations

import ftfy
import pyarrow as pa
import pytest

import udfs.gazetteer.engine as eng
from udfs.gazetteer import Engine, mojibake

TEXTS = [
    "Sunset over the Golden Gate Bridge, San Francisco, California",
    None,
    "3 bedroom house for sale in Austin, TX 78701",
    "",
    "Sunset over the Golden Gate Bridge, San Francisco, California",
    "Modern living room with a beautiful wedding dress on sale",
    "4 bed terraced house to rent, N5 1TB",
    None,
    "3 bedroom house for sale in Austin, TX 78701",
    "東京の夜景とタワー",
    "Bou IsmaÃ¯l is a city in Tipaza Province, Algeria",
    "東京の夜景とタワー",
]

MOJIBAKE = [
    "Bou IsmaÃ¯l is a city in Tipaza Province, Algeria",  # once
    "Festival 2018 Ã¢Â\x80Â\x93 CANCELLED",  # twice, with C1 controls
    "Ã\x90Â¤Ã\x90Â°Ã\x90Â¹Ã\x90Â»Ã\x91Â\x8b Ã\x90Â¸Ã\x90Â· OneDrive",  # Cyrillic, twice
    "Itâ€™s a â€œniceâ€\x9d day in CuraÃ§ao",  # curly quotes: ftfy also straightens them
    "Sale apartment 116Ã\x82Â 000Ã¢Â\x82Â¬. 1 Bed",  # a lost no-break space: restore_byte_a0
    "Mali LoÃ Â¡inj in Croatia",  # partial: ftfy whole
    "Mali LoÃ Â¡inj - Ã¯Â¿Â½Ã¯Â¿Â½",  # restored, then still bad ("ï¿½"): ftfy whole
    "MLSÃ\x82Â® # C4138798 – déjà vu",  # mixed with real accents: ftfy whole
    "Ã¯Â¿Â½Ã¯Â¿Â½, Cozy Living Room",  # replacement characters
    # re-decoded, then what ftfy's other fixers do: HTML entities, CRLF, a ligature, full
    # width, an accent to compose (NFC), a terminal escape, a line separator
    "CafÃ© &amp; Bar in MontrÃ©al",
    "CafÃ© in MontrÃ©al\r\nline two",
    "Ã\x89glise Saint-Ã\x89tienne, \ufb01ne view",
    "\uff2e\uff39 CafÃ© in MontrÃ©al",
    "CafÃ© in Montre\u0301al",
    "CafÃ© \x1b[31min red\x1b[0m, MontrÃ©al",
    "CafÃ© in MontrÃ©al\u2028next",
]


@pytest.fixture(scope="module")
def engine(index) -> Engine:
    return Engine(index)


def test_repeated_texts_parsed_once_same_rows(engine, monkeypatch):
    calls = []
    features = engine.features
    monkeypatch.setattr(engine, "features", lambda a: calls.append(len(a)) or features(a))
    fast = engine.parse(TEXTS)
    assert calls == [8]  # the distinct texts (None and "" included) went through the steps
    monkeypatch.setattr(eng, "DEDUP_MAX_SHARE", 0.0)  # never dedup
    slow = engine.parse(TEXTS)
    assert calls[-1] == len(TEXTS)
    assert fast[0].equals(slow[0])
    assert fast[1].equals(slow[1])
    assert fast[1].num_rows > 6
    assert fast[0]["r"].to_pylist() == list(range(len(TEXTS)))


def test_expand_rows_in_row_then_start_order():
    preds = pa.table({"r": [0, 1], "country_code": ["FR", None]})
    ments = pa.table({"r": [0, 0], "start_pos": [0, 7]})
    p, m = eng._expand(preds, ments, pa.array([1, 0, 1, 0]).to_numpy())
    assert p.to_pydict() == {"r": [0, 1, 2, 3], "country_code": [None, "FR", None, "FR"]}
    assert m.to_pydict() == {"r": [1, 1, 3, 3], "start_pos": [0, 7, 0, 7]}


@pytest.mark.parametrize("text", MOJIBAKE)
def test_fix_text_is_ftfy(text):
    assert mojibake.fix_text(text) == ftfy.fix_text(text)
    assert mojibake.fix_text(text) != text


def test_a_lost_no_break_space_is_restored_without_ftfys_search():
    # "Â " whose A0 byte became a space: restore_byte_a0, then C codecs (ftfy's answer)
    x, restored = mojibake._redecode("Sale apartment 116Ã\x82Â 000Ã¢Â\x82Â¬. 1 Bed")
    assert (x, restored) == ("Sale apartment 116\xa0000€. 1 Bed", True)


def test_fix_mojibake_rows():
    texts = pa.array(["plain ascii", None, "déjà vu", *MOJIBAKE])
    out = mojibake.fix_texts(texts).to_pylist()
    assert out[:3] == ["plain ascii", None, "déjà vu"]
    assert out[3:] == [ftfy.fix_text(t) for t in MOJIBAKE]
