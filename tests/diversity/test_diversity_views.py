"""Golden tests of the views `representation_vs_diversity` and `generation_narrowness` on tiny
hand-made tables."""

from __future__ import annotations

import pytest

import geosql


def _div(con, rows, ckey="c1"):
    for dataset, country, n, vendi, status in rows:
        con.execute(
            "INSERT INTO diversity_scores VALUES (?, ?, 'house', ?, 'image', 'm', 'label', 100, ?,"
            " 10, ?, ?, ?, ?, ?)",
            [f"{dataset}|{country}", dataset, country, n, vendi, vendi, vendi, status, ckey],
        )


def test_representation_vs_diversity(wh):
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO stage_current (stage, scope, config_key) VALUES ('diversity', 'label', 'c1')"
        )
        # more images <-> less diverse: perfectly anti-correlated ranks; KE not scored
        _div(con, [("laion", "US", 500, 10.0, "ok"), ("laion", "IN", 300, 20.0, "ok"),
                   ("laion", "BR", 150, 30.0, "ok"), ("laion", "KE", 50, None, "insufficient"),
                   ("cc", "US", 200, 5.0, "ok"), ("cc", "IN", 100, 6.0, "ok")])  # fmt: skip
        _div(con, [("laion", "US", 500, 99.0, "ok")], ckey="old")  # not the config in use
        rows = con.execute(
            "SELECT dataset, n_countries, n_insufficient, n_items, spearman"
            " FROM representation_vs_diversity ORDER BY dataset"
        ).fetchall()
    assert rows[0] == ("cc", 2, 0, 300, None)  # fewer than 3 countries
    assert rows[1][:4] == ("laion", 3, 1, 1000)
    assert rows[1][4] == pytest.approx(-1.0)


def test_representation_vs_diversity_ties_use_average_ranks(wh):
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO stage_current (stage, scope, config_key) VALUES ('diversity', 'label', 'c1')"
        )
        _div(con, [("d", "A", 100, 1.0, "ok"), ("d", "B", 100, 2.0, "ok"),
                   ("d", "C", 300, 3.0, "ok")])  # fmt: skip
        rho = con.execute("SELECT spearman FROM representation_vs_diversity").fetchone()[0]
    # share ranks (1.5, 1.5, 3) vs vendi ranks (1, 2, 3): Pearson of the ranks
    assert rho == pytest.approx(0.8660254, abs=1e-6)


def _cov(con, country, coverage, vr, vg, status="ok", ckey="k1"):
    con.execute(
        "INSERT INTO generation_coverage VALUES (?, 'house', ?, 'm', 'sd', 5, 100, 1000, 500,"
        " 0.9, 0.4, 1.0, ?, ?, ?, ?, ?)",
        [f"house|{country}|m", country, coverage, vr, vg, status, ckey],
    )


def test_generation_narrowness(wh):
    with geosql.connect(wh) as con:
        con.execute(
            "INSERT INTO stage_current (stage, scope, config_key) VALUES ('coverage', 'sd', 'k1')"
        )
        _cov(con, "US", 0.8, 40.0, 30.0)
        _cov(con, "IN", 0.3, 50.0, 10.0)
        _cov(con, "NG", 0.3, 40.0, 20.0)  # same coverage as IN, smaller drop in Vendi
        _cov(con, "KE", 0.1, 40.0, None)  # generated side below k: no ratio, still ranked
        _cov(con, "PE", None, None, None, status="insufficient")
        _cov(con, "FR", 0.0, 1.0, 1.0, ckey="other")
        rows = con.execute(
            "SELECT country_code, narrowness_rank, coverage, round(vendi_ratio, 3)"
            " FROM generation_narrowness ORDER BY narrowness_rank"
        ).fetchall()
    assert rows == [("KE", 1, 0.1, None), ("IN", 2, 0.3, 0.2), ("NG", 3, 0.3, 0.5),
                    ("US", 4, 0.8, 0.75)]  # fmt: skip
