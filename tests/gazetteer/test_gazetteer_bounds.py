"""The geoparse stage's v2 contract and bounded work: long texts, huge texts, many postcodes."""

from __future__ import annotations

import pickle
from pathlib import Path

import pyarrow as pa
import pytest

import geosql
from udfs.gazetteer import Engine
from udfs.gazetteer.lexicon import COUNTRY_TERMS, PREPOSITIONS, VAGUE
from udfs.gazetteer.stage import INPUTS, STAGE, _slices, open_engine, prepare, process

CAPTION = "Hiking near Banff, Alberta with friends from Paris, France."
FILLER = "The weather was fine and we walked for hours along the quiet trail. "


@pytest.fixture(scope="module")
def engine(index) -> Engine:
    return Engine(index)


def _config(**kw) -> dict:
    return {**STAGE.defaults, **kw}


def test_lexicons_are_data_files() -> None:
    assert "latin america" in VAGUE and "in" in PREPOSITIONS
    assert "£" in COUNTRY_TERMS["GB"] and "bhk" in COUNTRY_TERMS["IN"]


def test_long_article_is_one_row(engine: Engine) -> None:
    """A 5,000-character article (the long-text path: token offsets precomputed) finds the
    same mentions at the same offsets as the caption alone, and those far into the text."""
    alone = [(m["mention"], m["start_pos"]) for m in engine.parse_one(CAPTION)["mentions"]]
    text = CAPTION + " " + FILLER * 75 + "Later we drove to Calgary."
    assert len(text) > 5000
    r = engine.parse_one(text)
    got = [(m["mention"], m["start_pos"]) for m in r["mentions"]]
    assert got[: len(alone)] == alone
    assert ("Calgary", text.index("Calgary")) in got
    assert all(text[m["start_pos"] : m["end_pos"]] == m["mention"] for m in r["mentions"])
    assert {m["mention"]: m["country_code"] for m in r["mentions"]}["Calgary"] == "CA"
    # The long-text path decides as the short one does: the filler changes nothing.
    short = engine.parse_one(CAPTION + " Later we drove to Calgary.")
    assert (r["country_code"], r["mention"]) == (short["country_code"], short["mention"])


def test_mentions_per_text_are_capped(index) -> None:
    e = Engine(index, max_mentions=10)
    text = "Paris, France. " * 40
    r = e.parse_one(text)
    assert len(r["mentions"]) == 10 and r["country_code"] == "FR"
    assert max(m["start_pos"] for m in r["mentions"]) < text.index("Paris", 100)


def test_many_postcodes_stay_bounded(engine: Engine) -> None:
    text = " ".join(f"Flat {i}, N{i % 9 + 1} {i % 9}TB" for i in range(2000))
    r = engine.parse_one(text)
    assert r["country_code"] == "GB"
    assert 0 < len(r["mentions"]) <= engine.max_mentions
    assert all(text[m["start_pos"] : m["end_pos"]] == m["mention"] for m in r["mentions"])


def test_huge_text_is_a_row_error(engine: Engine) -> None:
    batch = pa.table(
        {
            "caption_id": ["big", "ok", "none"],
            "text": ["Paris " * 200_000, "Street food in Hanoi, Vietnam", None],
        }
    )
    res = process(engine, batch, _config())
    assert [e[0] for e in res.errors] == ["big"] and res.errors[0][1] == "TextTooLong"
    preds = res.outputs["geo_predictions"].to_pylist()
    assert [(p["caption_id"], p["country_code"]) for p in preds] == [("ok", "VN"), ("none", None)]
    assert set(res.outputs["geo_mentions"]["caption_id"].to_pylist()) == {"ok"}


def test_slices_bound_characters_per_call(engine: Engine) -> None:
    assert _slices([5, 5, 5, 20, 1], 10) == [(0, 2), (2, 3), (3, 4), (4, 5)]
    texts = ["Paris, France", "a red car", "Tokyo, Japan", None, "Nairobi, Kenya"]
    batch = pa.table({"caption_id": [str(i) for i in range(5)], "text": texts})
    whole = process(engine, batch, _config())
    from udfs.gazetteer.stage import parse_bounded

    p, m, _ = parse_bounded(engine, pa.array(texts), slice_chars=12)
    assert p["country_code"].to_pylist() == ["FR", None, "JP", None, "KE"]
    assert m["r"].to_pylist() == [
        int(c) for c in whole.outputs["geo_mentions"]["caption_id"].to_pylist()
    ]


def test_prepare_gives_a_picklable_spec_and_open_builds_the_engine(ref_wh: Path) -> None:
    with geosql.connect(ref_wh) as con:
        spec = prepare(con, _config())
    spec = pickle.loads(pickle.dumps(spec))
    e = open_engine(spec, _config(threshold=0.6))
    assert e.threshold == 0.6 and e.parse_one("Tokyo, Japan")["country_code"] == "JP"
    with geosql.connect(ref_wh) as con, pytest.raises(geosql.errors.GeosqlError):
        prepare(con, _config(source="subtitles"))


def test_inputs_follow_the_source_setting(ref_wh: Path) -> None:
    from geosql.db import literal

    with geosql.connect(ref_wh) as con:
        con.execute("INSERT INTO captions (caption_id, dataset, text) VALUES ('c1', 'd', 'Lyon')")
        q = INPUTS.format(source=literal("captions"))
        assert con.sql(q).fetchall() == [("c1", "Lyon")]
        # The translations view belongs to the multilingual stage; a stand-in here.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW current_translations AS"
            " SELECT 'c1' AS caption_id, 'Lyon, France' AS text_en"
        )
        q = INPUTS.format(source=literal("translations"))
        assert con.sql(q).fetchall() == [("c1", "Lyon, France")]


def test_every_mention_has_coordinates(engine: Engine) -> None:
    for text in ["Flag of Kenya", "Ranch in Texas", "Judge from the Emmet County office"]:
        ments = engine.parse_one(text)["mentions"]
        assert ments and all(m["lat"] is not None and m["lon"] is not None for m in ments), text


@pytest.mark.parametrize(
    ("text", "lat"),
    [
        ("Flooding in Alexandria, Rapides Parish, closed the schools", 31.3),
        ("Flooding in Alexandria, Louisiana closed the schools", 31.3),
        ("Flooding in Alexandria, Virginia closed the schools", 38.8),
    ],
)
def test_co_mentions_pick_the_town(engine: Engine, text: str, lat: float) -> None:
    m = next(m for m in engine.parse_one(text)["mentions"] if m["mention"] == "Alexandria")
    assert m["country_code"] == "US" and abs(m["lat"] - lat) < 0.5, m


def test_towns_to_pick_from_bear_the_name(index: Path, ref_wh_master: Path) -> None:
    """g_alt lists, for a name, only the towns whose own name it is: a town that has "Atlanta"
    among its alternate names (Lyons, Kansas, in the bundled data) is no place a text naming Atlanta can move to."""
    import duckdb

    with duckdb.connect(str(index), read_only=True) as db:
        db.execute(f"ATTACH '{ref_wh_master}' AS w (READ_ONLY)")
        names = db.sql(
            "SELECT DISTINCT p.name, p.asciiname FROM g_alt a JOIN w.places p ON p.geonameid ="
            " a.gid WHERE a.key = 'atlanta' AND a.cc = 'US'"
        ).fetchall()
        other = db.sql(
            "SELECT count(*) FROM w.place_names n JOIN w.places p USING (geonameid)"
            " WHERE n.name = 'Atlanta' AND p.country_code = 'US' AND p.name <> 'Atlanta'"
        ).fetchall()[0][0]
    assert names and {n for row in names for n in row} == {"Atlanta"}, names
    assert other, "the bundled data has no other town called Atlanta: the check means nothing"


@pytest.mark.parametrize(
    ("text", "mention", "place"),
    [
        # Tijuana lists "Zaragoza" among its names; Zaragoza is a Mexican town's own name
        # and a big Spanish city's: a Mexican Zaragoza is the town.
        ("A street in Zaragoza, Mexico", "Zaragoza", "Zaragoza"),
        ("Hotel rooms in Visakhapatnam", "Visakhapatnam", "Visakhapatnam"),  # not a suburb
        ("A loft in Manhattan", "Manhattan", "Manhattan"),  # the borough, not New York City
        # St. Louis's own name written out (Saint-Louis, Senegal, bears it as its own too)
        ("The Gateway Arch in Saint Louis", "Saint Louis", "St. Louis"),
        ("Old photo of Baroda", "Baroda", "Vadodara"),  # the city's old name, truly its own
        ("Hotel in Bombay", "Bombay", "Mumbai"),
    ],
)
def test_a_name_points_at_the_town_it_names(
    engine: Engine, ref_wh_master: Path, text: str, mention: str, place: str
) -> None:
    m = next(m for m in engine.parse_one(text)["mentions"] if m["mention"] == mention)
    with geosql.connect(ref_wh_master, read_only=True) as con:
        got = con.sql(f"SELECT name FROM places WHERE geonameid = {int(m['geonameid'])}")
        assert got.fetchall() == [(place,)], m


def test_town_choices_prefer_the_town_whose_name_it_is() -> None:
    """points.town_choices on made-up towns: a big town answers to another name only when no
    other big town of the country lists it and no big town anywhere has it as its own."""
    from udfs.gazetteer.lexicon import CITY
    from udfs.gazetteer.points import town_choices

    def town(cc: str, pop: int, gid: int) -> tuple:
        return (cc, CITY, pop, gid, 0.0, 0.0, "01", 0.0)

    places = [town("AA", 2_000_000, 1), town("AA", 15_000, 2), town("BB", 500_000, 3)]
    own = {("x", 1), ("x", 2)}  # the first town lists "x" among its other names
    assert town_choices("x", {0, 1, 2}, places, own) == {"AA": 1, "BB": 2}
    # no big town has "x" as its own name: the big town that lists it answers to it
    assert town_choices("x", {0, 1}, places, {("x", 1)}) == {"AA": 0}
    # two big towns of AA list "x": an old name of both, the town called x answers
    places.append(town("AA", 300_000, 4))
    assert town_choices("x", {0, 1, 3}, places, {("x", 1)}) == {"AA": 1}
    # a small town that lists it gives way to the town called so, whatever their sizes
    small = [town("AA", 90_000, 5), town("AA", 1_000, 6)]
    assert town_choices("y", {0, 1}, small, {("y", 1)}) == {"AA": 1}
    assert town_choices("y", {0, 1}, small, set(), spelled={("y", 1)}) == {"AA": 1}


@pytest.mark.parametrize(
    ("text", "name", "cc"),
    [
        ("Officials in the United States and Norway confirmed the cases", "Norway", "NO"),
        ("Cases rose in Texas, Ohio and Lebanon last week", "Lebanon", "LB"),
        ("A farm near Norway, Maine", "Norway", "US"),  # the next mention places the town
    ],
)
def test_a_country_name_means_the_country(engine: Engine, text: str, name: str, cc: str) -> None:
    m = next(m for m in engine.parse_one(text)["mentions"] if m["mention"] == name)
    assert m["country_code"] == cc, m


@pytest.mark.parametrize(
    ("text", "name", "cc"),
    [
        # a list of divisions of one country: Ontario the province, not Ontario, California
        ("Cases in Texas and Ohio; in Canada: British Columbia, Alberta, Ontario and Manitoba",
         "Ontario", "CA"),
        # a list of countries: Mali and Niger the countries (not a prefecture of Guinea, a state
        # of Nigeria)
        ("Outbreaks in Guinea, Liberia, Mauritania, Mali, Niger, and Senegal", "Mali", "ML"),
        ("Outbreaks in Guinea, Liberia, Mauritania, Mali, Niger, and Senegal", "Niger", "NE"),
        ("Visiting France, Georgia and Armenia", "Georgia", "GE"),
        ("Hotels in Atlanta, Georgia", "Georgia", "US"),  # two mentions are no list
        ("Road trip through Texas, Georgia and Florida", "Georgia", "US"),
    ],
)  # fmt: skip
def test_a_list_of_places_is_of_one_kind(engine: Engine, text: str, name: str, cc: str) -> None:
    m = next(m for m in engine.parse_one(text)["mentions"] if m["mention"] == name)
    assert m["country_code"] == cc, m


def _km(a: dict, lat: float, lon: float) -> float:
    from math import asin, cos, radians, sin, sqrt

    dlat, dlon = radians(a["lat"] - lat), radians(a["lon"] - lon)
    h = sin(dlat / 2) ** 2 + cos(radians(lat)) * cos(radians(a["lat"])) * sin(dlon / 2) ** 2
    return 2 * 6371 * asin(sqrt(h))


@pytest.mark.parametrize(
    ("text", "name", "cc", "lat", "lon"),
    [
        ("A cow from a Washington state farm", "Washington", "US", 47.3, -120.2),  # not DC
        ("Most cases in Australia were in the state of Victoria", "Victoria", "AU", -37.0, 144.0),
        ("Freha is a town in Tizi Ouzou Province in northern Algeria", "Tizi Ouzou", "DZ",
         36.7, 4.1),
        ("Aid reached the Darfur region of Sudan", "Sudan", "SD", 15.0, 30.0),  # the country
    ],
)  # fmt: skip
def test_a_division_word_makes_the_division(
    engine: Engine, text: str, name: str, cc: str, lat: float, lon: float
) -> None:
    m = next(m for m in engine.parse_one(text)["mentions"] if m["mention"] == name)
    assert m["country_code"] == cc and _km(m, lat, lon) < 250, m


@pytest.mark.parametrize(
    ("text", "name", "lat", "lon"),
    [
        # GeoNames puts the US at 39.76 N 98.5 W (countryinfo's Factbook point is 235 km off).
        ("Cases in the United States rose", "United States", 39.76, -98.5),
        # A country's alternate name that is a division's own name has the division's point.
        ("A castle in Scotland", "Scotland", 56.5, -4.0),
        ("Rain across England", "England", 52.5, -1.5),
        ("Cases in Africa and Asia", "Africa", 7.19, 21.09),  # continents: GeoNames' points
        ("Cases in Africa and Asia", "Asia", 29.84, 89.3),
    ],
)
def test_country_division_and_continent_points(
    engine: Engine, text: str, name: str, lat: float, lon: float
) -> None:
    m = next(m for m in engine.parse_one(text)["mentions"] if m["mention"] == name)
    assert _km(m, lat, lon) < 161, m


def test_continents_are_mentions_but_not_countries(engine: Engine) -> None:
    out = engine.parse_one("Wildlife of Africa")
    assert out["country_code"] is None
    (m,) = out["mentions"]
    assert m["mention"] == "Africa" and m["country_code"] is None and m["lat"] is not None
    # inside a longer name it is that name's
    names = [m["mention"] for m in engine.parse_one("A safari in South Africa")["mentions"]]
    assert names == ["South Africa"]


def test_toponym_score_ranks_names_above_demonyms_and_words(engine: Engine) -> None:
    """geo_mentions.toponym_score (the mention model): a demonym or a lower-case word is
    evidence of a country, not a toponym."""
    ments = {m["mention"]: m for m in engine.parse_one("French cooks in Paris")["mentions"]}
    assert ments["Paris"]["toponym_score"] > 0.5 > ments["French"]["toponym_score"]
    assert all(0 <= m["toponym_score"] <= 1 for m in ments.values())
    ments = engine.parse_one("a house in paris, near Lyon")["mentions"]
    by = {m["mention"]: m["toponym_score"] for m in ments}
    assert by["Lyon"] > by["paris"]


def test_confidence_is_p_answer_right(engine: Engine, index: Path) -> None:
    """`confidence` (the confidence model) is P(the answer is right): low where several
    countries compete, however sure the second stage is that a place is named."""
    mixed = "Montevideo is the seat of Mercosur and ALADI, in a position like Brussels in Europe"
    clean = engine.parse_one("Sunset over Lake Tahoe, California")
    assert clean["country_code"] == "US" and clean["confidence"] > 0.9
    assert engine.parse_one(mixed)["confidence"] < 0.5
    # Without the confidence model: the second stage's confidence in "names a place".
    raw = Engine(index, confidence_model={})
    assert raw.parse_one(mixed)["confidence"] > 0.6


def test_a_damaged_index_is_detected(ref_wh_master, tmp_path) -> None:
    """A truncated cached index is not used (load_gazetteer rebuilds it)."""
    import shutil

    from udfs.gazetteer.index import _readable

    (index,) = (ref_wh_master.parent / "ref.models").glob("gazetteer-*.duckdb")
    assert _readable(index)
    bad = tmp_path / index.name
    shutil.copy(index, bad)
    with bad.open("r+b") as f:
        f.truncate(bad.stat().st_size // 3)
    assert not _readable(bad)


def test_geoparse_on_ray_gives_the_local_rows(ref_wh, tmp_path) -> None:
    """The same shards through the local runner and through --engine ray + attach."""
    import shutil

    pytest.importorskip("ray")
    from geosql.attach import attach
    from geosql.ingest import ingest
    from geosql.ray_engine import run_ray
    from geosql.runner import run_stage

    texts = ["Sunset over Lake Tahoe, California", "A red car parked on the street",
             "Street food in Hanoi, Vietnam", "2 bed flat to rent in Church Road, Hove",
             "Cherry blossoms in Tokyo Japan", "Alexandria, Rapides Parish"]  # fmt: skip
    shards = tmp_path / "shards"
    shards.mkdir()
    for s in range(2):
        rows = "".join(f'{s}{i},"{t}"\n' for i, t in enumerate(texts[s::2]))
        (shards / f"s{s}.csv").write_text("id,text\n" + rows)
    other = tmp_path / "other.duckdb"
    shutil.copy(ref_wh, other)
    shutil.copytree(ref_wh.parent / "ref.models", tmp_path / "other.models")
    q = (
        "SELECT caption_id, method, country_code, confidence, evidence, config_key"
        " FROM geo_predictions ORDER BY 1"
    )
    qm = "SELECT caption_id, start_pos, geonameid, lat, lon, score FROM geo_mentions ORDER BY 1, 2"
    with geosql.connect(ref_wh) as con:
        ingest(con, [str(shards / "*.csv")], "web", id_col="id")
        run_stage(con, "geoparse")
        want, want_m = con.execute(q).fetchall(), con.execute(qm).fetchall()
    res = run_ray(other, "geoparse", str(shards / "*.csv"), tmp_path / "out", dataset="web",
                  mapping={"id_col": "id"}, num_cpus=2)  # fmt: skip
    assert len(res.done) == 2 and not res.failed
    with geosql.connect(other) as con:
        attach(con, tmp_path / "out")
        got, got_m = con.execute(q).fetchall(), con.execute(qm).fetchall()
    assert len(want) == 6 and got == want
    assert got_m == want_m


def test_an_edited_lexicon_builds_a_new_index_and_reruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ref_wh_master: Path
) -> None:
    """The lexicons, shipped tables and SQL feed `source_digest`: an edit to one of them names a
    new index file and a new stage version, so no answer of the old files passes for the new."""
    import shutil

    from udfs.gazetteer import index as ix

    lex = tmp_path / "lexicons"
    shutil.copytree(ix.LEXICONS, lex)
    monkeypatch.setattr(ix, "LEXICONS", lex)
    ix.source_digest.cache_clear()
    try:
        before = ix.source_digest()
        with geosql.connect(ref_wh_master, read_only=True) as con:
            path_before = ix._index_path(con, str(ref_wh_master))
        with (lex / "place_cues.txt").open("a", encoding="utf-8") as f:
            f.write("panorama of\n")
        ix.source_digest.cache_clear()
        after = ix.source_digest()
        with geosql.connect(ref_wh_master, read_only=True) as con:
            path_after = ix._index_path(con, str(ref_wh_master))
    finally:
        ix.source_digest.cache_clear()
    assert before != after and before in path_before.name and after in path_after.name
    assert STAGE.version.split("-")[1] == before  # the stage's config key carries the digest
