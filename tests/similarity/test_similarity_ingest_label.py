"""`ingest --country-col`: given countries stored as geo_predictions of method 'label'."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import geosql
from geosql import GeosqlError
from geosql.ingest import ingest


def write_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["id,text,topic,country"] + [",".join(f'"{v}"' for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ROWS = [
    ("1", "a stove", "stove", "Nigeria"),
    ("2", "a bed", "bed", "USA"),
    ("3", "a toilet", "toilet", "Côte d'Ivoire"),
    ("4", "another stove", "stove", "in"),  # ISO code of India
    ("5", "no country given", "stove", ""),
]


def labels(path: Path) -> list[tuple]:
    with geosql.connect(path, read_only=True) as con:
        return con.execute(
            "SELECT caption_id, method, country_code, evidence, config_key FROM geo_predictions"
            " ORDER BY caption_id"
        ).fetchall()


@pytest.fixture
def countries_wh(wh: Path) -> Path:
    """A warehouse with countries and country_aliases loaded (no gazetteer)."""
    from geosql.refdata import load_countries

    with geosql.connect(wh) as con:
        load_countries(con)
    return wh


@pytest.mark.parametrize("fixture", ["wh", "countries_wh"])  # Python normalizer / SQL macro
def test_country_col_stores_labels(fixture: str, request, tmp_path: Path) -> None:
    path = request.getfixturevalue(fixture)
    f = write_csv(tmp_path / "ds.csv", ROWS)
    with geosql.connect(path) as con:
        s = ingest(con, [f], "dollarstreet", id_col="id", entity_col="topic", country_col="country")
        ents = con.execute("SELECT count(*) FROM caption_entities").fetchone()[0]
    assert (s.labels_added, s.labels_empty) == (4, 1)
    assert "country labels added: 4 (1 empty)" in s.line()
    assert ents == 5
    assert labels(path) == [
        ("dollarstreet:1", "label", "NG", "Nigeria", "label"),
        ("dollarstreet:2", "label", "US", "USA", "label"),
        ("dollarstreet:3", "label", "CI", "Côte d'Ivoire", "label"),
        ("dollarstreet:4", "label", "IN", "in", "label"),
    ]
    # re-ingest adds nothing; a new row with a label is added
    f2 = write_csv(tmp_path / "ds2.csv", ROWS + [("6", "a roof", "roof", "Kenya")])
    with geosql.connect(path) as con:
        s2 = ingest(con, [f2], "dollarstreet", id_col="id", country_col="country")
    assert s2.labels_added == 1 and s2.captions_added == 1
    assert len(labels(path)) == 5


def test_unknown_country_names_file_and_row_and_changes_nothing(wh: Path, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "a.csv", ROWS[:2])
    bad = write_csv(tmp_path / "b.csv", ROWS[:1] + [("7", "x", "stove", "Atlantis")] + ROWS[1:2])
    with geosql.connect(wh) as con:
        with pytest.raises(GeosqlError) as err:
            ingest(con, [good, bad], "ds", id_col="id", country_col="country")
        n = con.execute("SELECT count(*) FROM captions").fetchone()[0]
        m = con.execute("SELECT count(*) FROM geo_predictions").fetchone()[0]
    msg = str(err.value)
    assert "b.csv" in msg and "row 2" in msg and "Atlantis" in msg and "\n" not in msg
    assert (n, m) == (0, 0)


def test_failure_after_labels_rolls_back_everything(wh: Path, tmp_path: Path, monkeypatch) -> None:
    """Captions, entities and labels go in one transaction."""
    import geosql.ingest as mod

    f = write_csv(tmp_path / "a.csv", ROWS)

    def boom(con):
        mod.__dict__["_insert_labels_orig"](con)
        raise RuntimeError("disk full")

    monkeypatch.setitem(mod.__dict__, "_insert_labels_orig", mod._insert_labels)
    monkeypatch.setattr(mod, "_insert_labels", boom)
    with geosql.connect(wh) as con:
        with pytest.raises(RuntimeError):
            ingest(con, [f], "ds", id_col="id", entity_col="topic", country_col="country")
        counts = [
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("captions", "caption_entities", "geo_predictions")
        ]
    assert counts == [0, 0, 0]


def test_missing_country_column_is_an_error(wh: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "a.csv", ROWS)
    with geosql.connect(wh) as con, pytest.raises(GeosqlError, match="--country-col"):
        ingest(con, [f], "ds", id_col="id", country_col="nation")


def test_stage_current_row(wh: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "a.csv", ROWS)
    with geosql.connect(wh) as con:
        ingest(con, [f], "ds", id_col="id", country_col="country")
        ingest(con, [f], "ds", id_col="id", country_col="country")
        rows = con.execute(
            "SELECT stage, scope, config_key, how FROM stage_current WHERE stage = 'ingest'"
        ).fetchall()
        current = con.execute(
            "SELECT count(*) FROM current_geo_predictions WHERE method = 'label'"
        ).fetchone()[0]
    assert rows == [("ingest", "label", "label", "ingest")]
    assert current == 4  # the labels show through the view the other views read


def test_cli_option(wh: Path, tmp_path: Path) -> None:
    from geosql.cli import get_cli

    f = write_csv(tmp_path / "a.csv", ROWS)
    res = CliRunner().invoke(
        get_cli(),
        ["--warehouse", str(wh), "ingest", str(f), "--dataset", "ds", "--id-col", "id",
         "--country-col", "country"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "country labels added: 4" in res.output
    assert len(labels(wh)) == 4
