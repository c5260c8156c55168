"""The report library and command on a hand-made warehouse (no browser needed)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

pytest.importorskip("altair", reason="the report needs the extra 'report'")
pytest.importorskip("vl_convert", reason="the report needs the extra 'report'")

from report_helpers import CAR, HOUSE, NO_ENTITY, UNLOCATED, add_gold, add_presence, make_warehouse

import geosql
from geosql.errors import GeosqlError
from geosql.report import build_report
from geosql.report import queries as q
from geosql.report.model import Skip, fetch
from geosql.report.optional_sections import presence
from geosql.report.world import _signed_area, outlined_codes, point_locations, world_features


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("report") / "toy.duckdb"
    return make_warehouse(p)


def _sqls(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<pre class="sql">(.*?)</pre>', page, flags=re.S)]


def test_world_geometry_is_wound_for_vega():
    feats = world_features()
    assert len(feats) == 173
    for f in feats:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for rings in polys:
            assert _signed_area(rings[0]) < 0, f["id"]  # outer ring clockwise
            for hole in rings[1:]:
                assert _signed_area(hole) > 0, f["id"]
    codes = outlined_codes()
    assert {"US", "GB", "FR", "BR", "AQ"} <= codes
    assert "XK" not in codes and "HU" not in codes  # countryinfo gaps, drawn as points
    assert {"XK", "HU", "SG"} <= set(point_locations())


def test_queries_give_the_known_counts(toy):
    s = q.Scope("toy", "offline", geo_status=True)
    with geosql.connect(toy, read_only=True) as con:
        # without the caption_geo_status view the report counts from the predictions: same
        plain = fetch(con, q.unlocated_sql(q.Scope("toy", "offline")))
        assert plain[0] == {
            k: v for k, v in fetch(con, q.unlocated_sql(s))[0].items() if k in plain[0]
        }
        rows = {(r["entity"], r["country_code"]): r for r in fetch(con, q.map_sql(s))}
        trio = {r["entity"]: r for r in fetch(con, q.us_uk_ca_sql(s))}
        unloc = {r["entity"]: r for r in fetch(con, q.unlocated_sql(s))}
        top = fetch(con, q.top_sql(s))
        cont = {(r["entity"], r["continent"]): r for r in fetch(con, q.continent_sql(s))}
    located = sum(HOUSE.values()) + sum(CAR.values()) + sum(NO_ENTITY.values())
    us = HOUSE["US"] + CAR["US"] + NO_ENTITY["US"]
    assert rows[(q.ALL, "US")]["n"] == us
    assert rows[(q.ALL, "US")]["share"] == pytest.approx(us / located)
    assert rows[("car", "DE")]["share"] == pytest.approx(CAR["DE"] / sum(CAR.values()))
    assert ("car", "SG") not in rows
    n_trio = sum(HOUSE[c] for c in ("US", "GB", "CA"))
    assert trio["house"]["n_us_uk_ca"] == n_trio
    assert trio["house"]["us_uk_ca_share"] == pytest.approx(n_trio / sum(HOUSE.values()))
    n_all = located + sum(UNLOCATED.values())
    assert unloc[q.ALL]["n_captions"] == n_all
    assert unloc[q.ALL]["share"] == pytest.approx(sum(UNLOCATED.values()) / n_all)
    assert unloc["(no entity)"]["n_unlocated"] == UNLOCATED[None]
    assert [r["country_code"] for r in top[:3]] == ["US", "GB", "DE"]
    assert len(top) == 20 and top[-1]["cumulative_share"] < 1
    na = sum(HOUSE[c] for c in ("US", "CA", "MX"))
    assert cont[("house", "North America")]["n"] == na


def test_entity_scope_statistics_match_the_views(toy):
    """The scatter's Pearson/Spearman (own SQL) equal gdp_correlation's for the same scope."""
    s = q.Scope("toy", "offline", "house")
    with geosql.connect(toy, read_only=True) as con:
        for which, view in (("gdp", "gdp_correlation"), ("population", "population_correlation")):
            mine = fetch(con, q.indicator_stats_sql(s, which))[0]
            ref = fetch(con, f"SELECT * FROM {view} WHERE {s.where()}")[0]
            assert mine["n_countries"] == ref["n_countries"] > 10
            assert mine["pearson"] == pytest.approx(ref["pearson"])
            assert mine["spearman"] == pytest.approx(ref["spearman"])
            assert mine["slope"] > 0


def test_report_has_core_sections_and_rerunnable_sql(toy, tmp_path):
    out = tmp_path / "r.html"
    with geosql.connect(toy, read_only=True) as con:
        res = build_report(con, out=out)
        page = out.read_text(encoding="utf-8")
        for sql in _sqls(page):  # every SQL under a figure runs as shown
            con.sql(sql).fetchall()
    for key in (
        "overview",
        "map",
        "continents",
        "top20",
        "unlocated",
        "us_uk_ca",
        "gdp",
        "population",
    ):
        assert key in res.sections
        assert f'<section id="{key}">' in page
    for fig in ("map", "continents", "unlocated", "us_uk_ca", "gdp", "population"):
        assert f'data-figure="{fig}"' in page
    assert len(_sqls(page)) >= 10
    assert "FROM combined_distribution" in page
    # offline: no external script, stylesheet, font or image
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@font-face" not in page and "@import" not in page
    assert "vegaEmbed" in page
    assert page.count('"geosql_world":[') == 1  # the outlines travel once
    # optional sections without rows are listed as not shown
    titles = [t for t, _ in res.skipped]
    assert "Entity presence" in titles and "Evaluation against gold data" in titles
    assert 'id="not-shown"' in page


def test_optional_sections_with_hand_made_rows(tmp_path):
    wh = make_warehouse(tmp_path / "wh.duckdb")
    add_presence(wh)
    add_gold(wh)
    out = tmp_path / "r.html"
    with geosql.connect(wh, read_only=True) as con:
        res = build_report(con, out=out)
        s = presence(con, q.Scope("toy", "offline"))
    page = out.read_text(encoding="utf-8")
    assert "presence" in res.sections and "evaluation" in res.sections
    assert 'data-figure="presence_house"' in page and 'data-figure="evaluation"' in page
    assert "Entity presence" not in [t for t, _ in res.skipped]
    # the filtering effect: only US, IN, NG 'house' captions show a house
    rows = s.figures[0].table
    assert rows == [
        {
            "entity": "house",
            "n_all": sum(HOUSE.values()),
            "n_present": HOUSE["US"] + HOUSE["IN"] + HOUSE["NG"],
            "us_uk_ca_share_all": pytest.approx(95 / sum(HOUSE.values())),
            "us_uk_ca_share_present": pytest.approx(60 / 74),
        }
    ]


def test_one_entity_and_figures(toy, tmp_path):
    with geosql.connect(toy, read_only=True) as con:
        res = build_report(con, entity="car", out=tmp_path / "car.html", figures_dir=tmp_path / "f")
    page = (tmp_path / "car.html").read_text(encoding="utf-8")
    assert "geosql report: toy / car" in page
    sqls = " ".join(_sqls(page))
    assert "entity = 'car'" in sqls and q.ALL not in sqls
    names = {p.name for p in res.figures}
    for key in ("map", "continents", "gdp", "population", "us_uk_ca"):
        assert f"{key}.png" in names and f"{key}.svg" in names
    assert "top20.csv" in names
    png = (tmp_path / "f" / "map.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert "<svg" in (tmp_path / "f" / "gdp.svg").read_text(encoding="utf-8")[:500]


def test_scope_errors(toy, tmp_path):
    with geosql.connect(toy, read_only=True) as con:
        with pytest.raises(GeosqlError, match="entity 'boat' is not in dataset 'toy'"):
            build_report(con, entity="boat", out=tmp_path / "x.html")
        with pytest.raises(GeosqlError, match="dataset 'laion' has no 'offline' predictions"):
            build_report(con, dataset="laion", out=tmp_path / "x.html")
        with pytest.raises(GeosqlError, match="no captions have 'gemini' predictions"):
            build_report(con, method="gemini", out=tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_several_datasets_need_a_choice(tmp_path):
    wh = make_warehouse(tmp_path / "wh.duckdb")
    with geosql.connect(wh) as con:
        con.execute("UPDATE captions SET dataset = 'other' WHERE caption_id LIKE 'toy:1%'")
        with pytest.raises(GeosqlError, match=r"several datasets .*other, toy.*--dataset"):
            build_report(con, out=tmp_path / "x.html")
        assert build_report(con, dataset="other", out=tmp_path / "o.html").sections


def test_cli_report(toy, tmp_path):
    from click.testing import CliRunner

    import geosql.cli.report  # noqa: F401  (until "report" is in geosql.cli._CORE)
    from geosql.cli import get_cli

    out = tmp_path / "cli.html"
    r = CliRunner().invoke(get_cli(), ["-w", str(toy), "report", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"report: {out}" in r.output and "not shown: Entity presence" in r.output
    assert out.stat().st_size > 500_000
    r = CliRunner().invoke(get_cli(), ["-w", str(toy), "report", "--entity", "boat"])
    assert r.exit_code != 0 and "entity 'boat'" in r.output
    # the SQL under the map, as printed, through `geosql sql`
    map_sql = _sqls(out.read_text(encoding="utf-8"))[3]
    assert map_sql.startswith("WITH g AS")
    r = CliRunner().invoke(get_cli(), ["-w", str(toy), "sql", map_sql, "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "(all captions),US,united states,95," in r.output
    figs = tmp_path / "figs"
    args = ["-w", str(toy), "report", "--out", str(tmp_path / "c.html")]
    r = CliRunner().invoke(get_cli(), [*args, "--figures", str(figs)])
    assert r.exit_code == 0, r.output
    assert f"figures: {len(list(figs.iterdir()))} files in {figs}" in r.output
    names = {p.name for p in figs.iterdir()}
    assert {"map_all.png", "map_house.svg", "map_car.png"} <= names  # one map per menu choice
    assert "map.png" not in names


def test_geolocation_section_reads_geo_accuracy_columns():
    """geo_accuracy as engineer F's view shapes it (percent columns, published beside)."""
    import duckdb

    from geosql.report.optional_sections import geolocation

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE geo_accuracy AS SELECT 'im2gps3k' AS dataset, 'geoclip' AS method, "
        "100 AS n, 10.0 AS pct_1km, 30.0 AS pct_25km, 50.0 AS pct_200km, 70.0 AS pct_750km, "
        "80.0 AS pct_2500km, 120.5 AS median_km, 900.0 AS mean_km, 0.7 AS country_accuracy, "
        "14.11 AS published_1km, 34.47 AS published_25km, 50.65 AS published_200km, "
        "69.67 AS published_750km, 83.82 AS published_2500km"
    )
    sec = geolocation(con, q.Scope("any", "offline"))
    spec = sec.figures[0].chart.to_dict()
    values = spec["data"].get("values") or spec["datasets"][spec["data"]["name"]]
    mine = {v["km"]: v["share"] for v in values if v["run"] == "im2gps3k / geoclip"}
    assert mine == {1: 0.1, 25: 0.3, 200: 0.5, 750: 0.7, 2500: 0.8}
    pub = {v["km"]: v["share"] for v in values if v["run"].endswith("(published)")}
    assert pub[2500] == pytest.approx(0.8382)
    assert sec.figures[0].table[0]["median_km"] == 120.5
    con.execute("DELETE FROM geo_accuracy")
    with pytest.raises(Skip, match="no rows"):
        geolocation(con, q.Scope("any", "offline"))


def test_diversity_section_with_hand_made_scores(tmp_path):
    wh = make_warehouse(tmp_path / "wh.duckdb")
    with geosql.connect(wh) as con:
        cols = set(q.columns(con, "diversity_scores"))
        if not {"dataset", "entity", "country_code", "modality", "vendi", "status"} <= cols:
            pytest.skip("diversity_scores has another shape now")
        con.execute(
            "INSERT INTO diversity_scores BY NAME "
            "SELECT 'toy|house|' || c || '|image|m' AS group_id, 'toy' AS dataset, "
            "'house' AS entity, c AS country_code, 'image' AS modality, 'm' AS model_key, "
            "'offline' AS method, 10 AS k, n, 3 AS draws, v AS vendi, v - 0.5 AS ci_low, "
            "v + 0.5 AS ci_high, 'ok' AS status, 'div1' AS config_key "
            "FROM (VALUES ('US', 60, 4.0), ('GB', 25, 6.0), ('IN', 12, 7.5)) t(c, n, v)"
        )
        con.execute(
            "INSERT INTO stage_current (stage, scope, config_key, how) "
            "VALUES ('diversity', 'default', 'div1', 'user')"
        )
        res = build_report(con, out=tmp_path / "d.html")
    assert "diversity" in res.sections, res.skipped
    page = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert 'data-figure="diversity"' in page and 'data-figure="diversity_vs_share"' in page


def test_similarity_and_language_sections(tmp_path):
    """Heatmaps through engineer E's udfs.similarity.plots; C's language_country_skew."""
    pytest.importorskip("udfs.similarity.plots")
    wh = make_warehouse(tmp_path / "wh.duckdb")
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO embeddings (item_id, kind, model_key, dim, embedding) "
            "SELECT e.caption_id, 'image', 'tiny/test', 4, "
            "       [hash(e.caption_id) % 7 + 1, hash(e.caption_id || 'a') % 5, 1, 2]::FLOAT[] "
            "FROM caption_entities e JOIN geo_predictions p USING (caption_id) "
            "WHERE p.country_code IN ('US', 'GB', 'DE', 'FR', 'JP', 'IN')"
        )
        res = build_report(con, entity="house", out=tmp_path / "s.html")
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "similarity" in res.sections, res.skipped
    assert 'data-figure="similarity_house"' in page
    assert 'data-figure="similarity_car"' not in page  # the report's entity only
    if "language" in res.sections:  # the view exists in this tree
        assert 'data-figure="language_skew"' in page


def test_nothing_located_and_no_gdp(tmp_path):
    """A method that located nothing, without GDP data, still gives a report that says so."""
    wh = make_warehouse(tmp_path / "wh.duckdb")
    with geosql.connect(wh) as con:
        con.execute("UPDATE geo_predictions SET country_code = NULL")
        con.execute("DELETE FROM gdp")
        res = build_report(con, out=tmp_path / "empty.html")
        page = (tmp_path / "empty.html").read_text(encoding="utf-8")
        for sql in _sqls(page):
            con.sql(sql).fetchall()
    assert {"map", "gdp", "population"} <= set(res.sections)
    assert "100.0%" in page  # the unlocated share
    assert "n = 0 countries" in page
