"""Golden tests for every view in sql/views/ on tiny hand-made tables in a real DuckDB file.

Expected values are computed by hand in the comments; the correlation values are written as the
arithmetic of the hand computation (deviations from the mean), not recomputed by a library.
"""

from __future__ import annotations

from math import sqrt
from pathlib import Path

import pytest

import geosql
from geosql.paths import sql_dir

COUNTRIES = [
    # iso2, iso3, name, continent, population
    ("US", "USA", "united states", "NA", 10**8),
    ("GB", "GBR", "united kingdom", "EU", 10**7),
    ("FR", "FRA", "france", "EU", 10**8),
    ("JP", "JPN", "japan", "AS", 10**9),
    ("KE", "KEN", "kenya", "AF", 10**7),
    ("DE", "DEU", "germany", "EU", None),
]
# caption_id, dataset, language, entities, offline prediction, gold ("-" = no gold row)
CAPTIONS = [
    ("c1", "d1", "en", ["house"], "US", "US"),
    ("c2", "d1", "en", ["house"], "US", "US"),
    ("c3", "d1", "en", ["house"], "GB", "FR"),
    ("c4", "d1", "es", ["house"], "FR", "FR"),
    ("c5", "d1", "en", ["house", "car"], "US", "US"),
    ("c6", "d1", "en", [], "JP", None),
    ("c7", "d1", "en", ["house"], None, None),
    ("c8", "d1", "en", ["car"], None, "KE"),
    ("c9", "d2", None, [], "KE", "-"),
    ("c10", "d2", None, [], "XX", "-"),
]
GEMINI = [("c1", "GB"), ("c2", None)]
# dataset g (no entity, method m): captions per country; DE has no GDP and no population
G_COUNTS = {"US": 8, "GB": 4, "FR": 4, "JP": 2, "KE": 1, "DE": 1}
GDP_NEW = {"USA": 1e13, "GBR": 1e12, "FRA": 1e12, "JPN": 1e12, "KEN": 1e10}  # 2020
GDP_OLD = {"USA": 1e16, "GBR": 1e14, "FRA": 1e14, "JPN": 1e12, "KEN": 1e10}  # 2010


@pytest.fixture
def vw(wh: Path) -> Path:
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO continents VALUES (?, ?)",
            [("NA", "north america"), ("EU", "europe"), ("AS", "asia"), ("AF", "africa")],
        )
        con.executemany(
            "INSERT INTO countries (iso2, iso3, name, continent_code, population)"
            " VALUES (?, ?, ?, ?, ?)",
            COUNTRIES,
        )
        for cid, ds, lang, ents, pred, gold in CAPTIONS:
            con.execute(
                "INSERT INTO captions (caption_id, dataset, language, text) VALUES (?, ?, ?, ?)",
                [cid, ds, lang, f"caption {cid}"],
            )
            for e in ents:
                con.execute("INSERT INTO caption_entities VALUES (?, ?)", [cid, e])
            con.execute(
                "INSERT INTO geo_predictions (caption_id, method, country_code) VALUES (?, ?, ?)",
                [cid, "offline", pred],
            )
            if gold != "-":
                con.execute("INSERT INTO gold_countries VALUES (?, ?, NULL)", [cid, gold])
        con.execute("INSERT INTO gold_countries VALUES ('gold-only', 'US', NULL)")
        con.executemany(
            "INSERT INTO geo_predictions (caption_id, method, country_code) VALUES (?, ?, ?)",
            [(c, "gemini", p) for c, p in GEMINI],
        )
        i = 0
        for cc, k in G_COUNTS.items():
            for _ in range(k):
                i += 1
                con.execute(
                    "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 'g', 'x')",
                    [f"g{i}"],
                )
                con.execute("INSERT INTO geo_predictions VALUES (?, 'm', ?, 1.0, NULL, NULL)",
                            [f"g{i}", cc])  # fmt: skip
        for year, table in ((2020, GDP_NEW), (2010, GDP_OLD)):
            src = "new" if year == 2020 else "old"
            con.executemany(
                "INSERT INTO gdp VALUES (?, ?, ?, NULL, ?)",
                [(iso3, year, v, src) for iso3, v in table.items()],
            )
    return wh


def q(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with geosql.connect(path, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def approx_rows(rows: list[tuple]) -> list[tuple]:
    return [tuple(pytest.approx(v) if isinstance(v, float) else v for v in r) for r in rows]


def test_every_view_file_has_a_header_and_one_view():
    for f in sorted((sql_dir() / "views").glob("*.sql")):
        text = f.read_text()
        assert text.startswith(f"-- {f.stem}:"), f.name
        # one view per file, or a table macro (a view with parameters) named like the file
        assert text.count("CREATE OR REPLACE VIEW") <= 1, f.name
        assert (
            f"CREATE OR REPLACE VIEW {f.stem} AS" in text
            or f"CREATE OR REPLACE MACRO {f.stem}(" in text
        ), f.name


def test_country_distribution(vw: Path):
    rows = q(
        vw,
        "SELECT dataset, entity, language, method, country_code, country, continent, n, share"
        " FROM country_distribution WHERE dataset IN ('d1', 'd2')"
        " ORDER BY ALL NULLS FIRST",
    )
    assert rows == approx_rows(
        [
            # d1, no entity: c6 -> JP
            ("d1", None, "en", "offline", "JP", "japan", "asia", 1, 1.0),
            # c5 is tagged house and car: counted in both; c8 (car) is unlocated
            ("d1", "car", "en", "offline", "US", "united states", "north america", 1, 1.0),
            # gemini: c1 -> GB, c2 unlocated
            ("d1", "house", "en", "gemini", "GB", "united kingdom", "europe", 1, 1.0),
            # house/en offline: c1 c2 c5 -> US, c3 -> GB (c7 unlocated)
            ("d1", "house", "en", "offline", "GB", "united kingdom", "europe", 1, 0.25),
            ("d1", "house", "en", "offline", "US", "united states", "north america", 3, 0.75),
            ("d1", "house", "es", "offline", "FR", "france", "europe", 1, 1.0),
            # d2: no language, no entity; XX is not a known country
            ("d2", None, None, "offline", "KE", "kenya", "africa", 1, 0.5),
            ("d2", None, None, "offline", "XX", None, None, 1, 0.5),
        ]
    )


def test_continent_distribution(vw: Path):
    rows = q(
        vw,
        "SELECT dataset, entity, language, method, continent_code, continent, n, share"
        " FROM continent_distribution WHERE dataset IN ('d1', 'd2') AND method = 'offline'"
        " ORDER BY ALL NULLS FIRST",
    )
    assert rows == approx_rows(
        [
            ("d1", None, "en", "offline", "AS", "asia", 1, 1.0),
            ("d1", "car", "en", "offline", "NA", "north america", 1, 1.0),
            ("d1", "house", "en", "offline", "EU", "europe", 1, 0.25),
            ("d1", "house", "en", "offline", "NA", "north america", 3, 0.75),
            ("d1", "house", "es", "offline", "EU", "europe", 1, 1.0),
            ("d2", None, None, "offline", None, None, 1, 0.5),
            ("d2", None, None, "offline", "AF", "africa", 1, 0.5),
        ]
    )


def test_combined_distribution_counts_each_caption_once(vw: Path):
    rows = q(
        vw,
        "SELECT dataset, language, method, country_code, country, n, share"
        " FROM combined_distribution WHERE dataset = 'd1' ORDER BY ALL",
    )
    # en offline: c1 c2 c5 -> US (c5 once despite two entities), c3 -> GB, c6 -> JP
    assert rows == approx_rows(
        [
            ("d1", "en", "gemini", "GB", "united kingdom", 1, 1.0),
            ("d1", "en", "offline", "GB", "united kingdom", 1, 0.2),
            ("d1", "en", "offline", "JP", "japan", 1, 0.2),
            ("d1", "en", "offline", "US", "united states", 3, 0.6),
            ("d1", "es", "offline", "FR", "france", 1, 1.0),
        ]
    )


def test_country_counts_pools_languages_and_ranks(vw: Path):
    rows = q(
        vw,
        "SELECT country_code, n, share, country_rank FROM country_counts"
        " WHERE dataset = 'd1' AND entity = 'house' AND method = 'offline' ORDER BY country_rank",
    )
    # en + es: US 3, GB 1, FR 1 of 5; FR before GB on the tie (code order)
    assert rows == approx_rows([("US", 3, 0.6, 1), ("FR", 1, 0.2, 2), ("GB", 1, 0.2, 3)])


def test_top_share_default_k3_and_macro(vw: Path):
    sel = (
        "SELECT k, top_countries, top_names, n_top, n_located, top_share FROM {}"
        " WHERE dataset = 'd1' AND entity = 'house' AND method = 'offline'"
    )
    assert q(vw, sel.format("top_share")) == approx_rows(
        [(3, ["US", "FR", "GB"], ["united states", "france", "united kingdom"], 5, 5, 1.0)]
    )
    assert q(vw, sel.format("top_share_k(1)")) == approx_rows(
        [(1, ["US"], ["united states"], 3, 5, 0.6)]
    )
    assert q(vw, sel.format("top_share_k(2)")) == approx_rows(
        [(2, ["US", "FR"], ["united states", "france"], 4, 5, 0.8)]
    )
    # dataset g: 8+4+4+2+1+1 = 20 located; top 3 = US 8, FR 4, GB 4
    assert q(vw, "SELECT top_countries, top_share FROM top_share WHERE dataset = 'g'") == [
        (["US", "FR", "GB"], pytest.approx(16 / 20))
    ]


def test_unlocated_share(vw: Path):
    rows = q(
        vw,
        "SELECT dataset, entity, method, n_captions, n_unlocated, share FROM unlocated_share"
        " WHERE dataset IN ('d1', 'd2') ORDER BY ALL NULLS FIRST",
    )
    assert rows == approx_rows(
        [
            ("d1", None, "offline", 1, 0, 0.0),  # c6
            ("d1", "car", "offline", 2, 1, 0.5),  # c5, c8
            ("d1", "house", "gemini", 2, 1, 0.5),  # c1, c2
            ("d1", "house", "offline", 6, 1, 1 / 6),  # c1-c5, c7
            ("d2", None, "offline", 2, 0, 0.0),
        ]
    )


def test_gdp_used_latest_then_settings(vw: Path):
    assert q(vw, "SELECT DISTINCT source, year FROM gdp_used") == [("new", 2020)]
    assert q(vw, "SELECT gdp_usd FROM gdp_used WHERE country_code = 'US'") == [(1e13,)]
    with geosql.connect(vw) as con:
        con.execute("INSERT INTO settings VALUES ('gdp_source', 'old'), ('gdp_year', '2010')")
    assert q(vw, "SELECT DISTINCT source, year FROM gdp_used") == [("old", 2010)]
    with geosql.connect(vw) as con:  # a source without a year: its latest year
        con.execute("DELETE FROM settings WHERE key = 'gdp_year'")
    assert q(vw, "SELECT DISTINCT source, year FROM gdp_used") == [("old", 2010)]


def test_gdp_correlation_with_ties(vw: Path):
    # g: log10 share = log10(n) - log10(20), so x ~ [3, 2, 2, 1, 0] (US GB FR JP KE) up to scale
    # and shift (DE: no GDP, left out). y = log10 GDP (2020) = [13, 12, 12, 12, 10].
    # dx = [1.4, .4, .4, -.6, -1.6], dy = [1.2, .2, .2, .2, -1.8]:
    # sum dx*dy = 4.6, sum dx^2 = 5.2, sum dy^2 = 4.8.
    pearson = 4.6 / sqrt(5.2 * 4.8)
    # average ranks: rx = [5, 3.5, 3.5, 2, 1], ry = [5, 3, 3, 3, 1] (three-way tie at 12)
    # drx = [2, .5, .5, -1, -2], dry = [2, 0, 0, 0, -2]: sum = 8, sums of squares 9.5 and 8.
    spearman = 8 / sqrt(9.5 * 8)
    rows = q(vw, "SELECT n_countries, pearson, spearman FROM gdp_correlation WHERE dataset='g'")
    assert rows == [(5, pytest.approx(pearson), pytest.approx(spearman))]
    assert pearson == pytest.approx(0.920737, abs=1e-6)
    # a group with one country: correlations undefined -> NULL
    one = q(
        vw,
        "SELECT n_countries, pearson, spearman FROM gdp_correlation"
        " WHERE dataset = 'd1' AND entity = 'car'",
    )
    assert one == [(1, None, None)]
    with geosql.connect(vw) as con:  # 2010 GDP: y = 10 + 2x exactly
        con.execute("INSERT INTO settings VALUES ('gdp_source', 'old'), ('gdp_year', '2010')")
    rows = q(vw, "SELECT n_countries, pearson, spearman FROM gdp_correlation WHERE dataset='g'")
    assert rows == [(5, pytest.approx(1.0), pytest.approx(1.0))]


def test_population_correlation_with_ties(vw: Path):
    # y = log10 population = [8, 7, 8, 9, 7] for US GB FR JP KE (DE has none), x as above.
    # dy = [.2, -.8, .2, 1.2, -.8]: sum dx*dy = 0.6, sum dy^2 = 2.8.
    pearson = 0.6 / sqrt(5.2 * 2.8)
    # ry = [3.5, 1.5, 3.5, 5, 1.5]; dry = [.5, -1.5, .5, 2, -1.5]: sum drx*dry = 1.5, sum dry^2 = 9
    spearman = 1.5 / sqrt(9.5 * 9)
    rows = q(vw, "SELECT n_countries, pearson, spearman FROM population_correlation"
                 " WHERE dataset = 'g'")  # fmt: skip
    assert rows == [(5, pytest.approx(pearson), pytest.approx(spearman))]
    assert spearman == pytest.approx(0.162221, abs=1e-6)


def test_prediction_accuracy(vw: Path):
    rows = q(vw, "SELECT * FROM prediction_accuracy ORDER BY method")
    assert rows == approx_rows(
        [
            # c1 (gold US) -> GB, c2 (gold US) -> none: both wrong, no gold no-place rows
            ("gemini", 2, 0.0, 2, 0.0, 0, None),
            # c1..c8 have gold: right c1 c2 c4 c5 c7 = 5/8; gold located c1-c5, c8: 4/6 right;
            # gold no place c6 (-> JP, a false positive), c7 (-> none)
            ("offline", 8, 5 / 8, 6, 4 / 6, 2, 0.5),
        ]
    )
