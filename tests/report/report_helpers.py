"""A small hand-made warehouse for the report tests: known counts per country and entity."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa

import geosql
from geosql import refdata

# Located captions per country for the entity 'house'; 'car' gets a different mix.
HOUSE = {
    "US": 60,
    "GB": 25,
    "CA": 10,
    "IN": 12,
    "AU": 9,
    "DE": 8,
    "FR": 7,
    "BR": 6,
    "JP": 5,
    "ZA": 4,
    "MX": 4,
    "ES": 3,
    "IT": 3,
    "NG": 2,
    "KE": 2,
    "CN": 2,
    "AR": 1,
    "SG": 2,
    "HU": 1,
    "XK": 1,
    "NZ": 2,
    "RU": 1,
    "EG": 1,
    "ID": 1,
}
CAR = {"US": 30, "DE": 15, "JP": 12, "GB": 6, "IT": 5, "FR": 4, "KR": 4, "CN": 3, "SE": 2}
UNLOCATED = {"house": 40, "car": 20, None: 10}
NO_ENTITY = {"US": 5, "FR": 2}


def build_captions(seed: int = 3) -> pa.Table:
    """captions + entity + predicted country rows (country None = unlocated)."""
    rng = random.Random(seed)
    rows = []
    for entity, mix in (("house", HOUSE), ("car", CAR), (None, NO_ENTITY)):
        for cc, n in mix.items():
            rows += [(entity, cc)] * n
        rows += [(entity, None)] * UNLOCATED[entity]
    rng.shuffle(rows)
    return pa.table(
        {
            "caption_id": [f"toy:{i}" for i in range(len(rows))],
            "entity": [e for e, _ in rows],
            "country_code": [c for _, c in rows],
            "language": [rng.choice(["en", "en", "en", "es"]) for _ in rows],
        }
    )


def make_warehouse(path: Path, dataset: str = "toy", method: str = "offline") -> Path:
    """Countries + Gapminder GDP, captions with entities, and one prediction per caption."""
    t = build_captions()
    with geosql.connect(path) as con:
        refdata.load_countries(con)
        refdata.load_gdp_gapminder(con)
        con.register("t", t)
        con.execute(
            "INSERT INTO captions (caption_id, dataset, language, text) "
            f"SELECT caption_id, '{dataset}', language, 'caption ' || caption_id FROM t"
        )
        con.execute(
            "INSERT INTO caption_entities SELECT caption_id, entity FROM t WHERE entity IS NOT NULL"
        )
        con.execute(
            "INSERT INTO geo_predictions "
            "(caption_id, method, country_code, confidence, config_key) "
            f"SELECT caption_id, '{method}', country_code, 0.9, 'test' FROM t"
        )
        con.execute(
            "INSERT INTO stage_current (stage, scope, config_key, how, outputs) "
            f"VALUES ('geoparse', '{method}', 'test', 'user', "
            "['geo_mentions', 'geo_predictions'])"
        )
        con.unregister("t")
    return path


def add_presence(path: Path) -> None:
    """entity_presence for 'house': only captions in US, IN, NG (and unlocated ones) show it."""
    with geosql.connect(path) as con:
        con.execute(
            "INSERT INTO svm_models "
            "(model_id, entity, embedding_model_key, features, file, created) "
            "VALUES ('house:test', 'house', 'ViT-B-32/test', 'unit', 'x.npz', now())"
        )
        con.execute(
            "INSERT INTO entity_presence (caption_id, entity, model, present, score, config_key) "
            "SELECT e.caption_id, 'house', 'house:test', "
            "       coalesce(p.country_code IN ('US', 'IN', 'NG'), true), 1.0, 'test' "
            "FROM caption_entities e JOIN geo_predictions p USING (caption_id) "
            "WHERE e.entity = 'house'"
        )


def add_gold(path: Path, method: str = "offline") -> None:
    """gold_countries for 20 captions: 15 agree with the prediction, 5 say 'no place'."""
    with geosql.connect(path) as con:
        con.execute(
            "INSERT INTO gold_countries (caption_id, country_code, raw) "
            "SELECT caption_id, CASE WHEN row_number() OVER (ORDER BY caption_id) <= 15 "
            "THEN country_code END, 'gold' FROM geo_predictions "
            f"WHERE method = '{method}' AND country_code IS NOT NULL "
            "ORDER BY caption_id LIMIT 20"
        )
