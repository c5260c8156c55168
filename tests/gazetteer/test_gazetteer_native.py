"""The native per-token pass (udfs/gazetteer/native) gives the SQL path's answers row for row:
predictions and mentions, over texts that exercise each rule it reproduces."""

from __future__ import annotations

import pyarrow as pa
import pytest

from udfs.gazetteer import Engine, native

pytestmark = pytest.mark.skipif(
    not native.available(), reason="native pass not built (make native; needs a C compiler)"
)

TEXTS = [
    None,
    "",
    "...",
    "Paris",
    "A house in Liverpool",
    "3 bedroom house for sale in Austin, TX 78701",  # code after a comma, a ZIP after
    "Baltimore MD harbour at night",  # code right after a place
    "Living in NC since 2010",  # code after "in"
    "Flat to rent, Dundee DD4",  # UK outward code after a GB town
    "Canon EOS M5 review",  # no UK town before it
    "Sydney, NSW skyline",
    "cases in Africa and South Africa",  # a continent mention; inside a longer match
    "Tell us about the US and Us",  # the pronoun rule
    "ALL CAPS LONDON HOTEL",
    "2 BHK apartment for sale in Pune",  # a country term
    "New York City skyline from the Empire State Building",  # multi-word names
    "Lake Louise, Banff National Park, Alberta",
    "Paris " * 300,  # a long text past the mention cap
    "x " * 100 + "Rome, Italy",  # a long text (token offsets) with few mentions
    "Zürich old town",  # not ASCII: the SQL path, side by side with native rows
    "4 bed terraced house to rent, N5 1TB",  # a postcode: the SQL path
    "東京の夜景とタワー",
    "Bou IsmaÃ¯l is a city in Tipaza Province, Algeria",  # mojibake repaired first
    "Semi-detached house for sale in Richmond",
    "Beautiful beach near Doha.",
    "Sunset over the Golden Gate Bridge, San Francisco, California!",
    # Texts 10_tokens.sql tokenizes (any script) and gp_match matches: keys are geo_norm's,
    # offsets characters, context keys (pk, nk) normalized, combining marks, no-break spaces
    "Reykjavík, Ísland",
    "Zu\u0308rich old town",
    "Москва, Россия",
    "القاهرة، مصر",
    "मुंबई में घर",
    "İstanbul'da ev",
    "ISTANBUL’DA EV",
    "MÜNCHEN HBF",
    "Lon\u00addon bridge",
    "New\u00a0York City",
    "Hotel in Köln, NRW 50667",
    "Café in Montréal, QC",
    "Austin, TX – “best” tacos",
    "Zürich ZH, Schweiz",
    "Tell üs about the US and Us",
    "3 bed house 🏠 in Liverpool",
    "Hà Nội, Việt Nam",
    "ÉCOLE à PARIS",
    "Zürich " * 100 + "Bern",
    "x " * 80 + "Genève, Suisse — Lac Léman",
    "4 bed house to rent, N5 1TB – Islington",
    "東京 and Tokyo",
    "— — —",
]


def test_native_same_answers_as_sql(index, monkeypatch):
    fast, sql = Engine(index), Engine(index, native=False)
    texts = pa.array(TEXTS * 2, pa.string())
    calls, tokens = [], native.insert_tokens
    monkeypatch.setattr(native, "insert_tokens", lambda *a: calls.append(1) or tokens(*a))
    p1, m1 = fast.parse(texts)
    assert calls == [1]  # the SQL-tokenized texts were matched natively (no 20_mentions.sql)
    p2, m2 = sql.parse(texts)
    assert calls == [1]
    assert fast._fast and sql._fast is None  # each engine took the path it was asked for
    assert p1.equals(p2) and m1.equals(m2)
    assert m1.num_rows > 256 and p1["country_code"].null_count < len(texts) // 2
    codes = {m["mention"] for m in m1.to_pylist() if m["mention"] in ("TX", "MD", "NC", "DD4")}
    assert codes == {"TX", "MD", "NC", "DD4"}
    found = {m["mention"] for m in m1.to_pylist()}
    assert {"Москва", "Reykjavík", "Köln", "QC"} <= found, found


def test_native_off_by_environment(index, monkeypatch):
    monkeypatch.setenv("GEOSQL_NATIVE", "0")
    e = Engine(index)
    e.parse(["Paris"])
    assert e._fast is None
