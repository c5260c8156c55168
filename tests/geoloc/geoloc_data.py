"""Test data of the image-geolocation tests: hand-made places and synthetic geotagged vectors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# (geonameid, name, lat, lon, country, admin1)
CITIES = [
    (1, "paris", 48.8566, 2.3522, "FR", "11"),
    (2, "lyon", 45.764, 4.8357, "FR", "84"),
    (3, "berlin", 52.52, 13.405, "DE", "16"),
    (4, "munich", 48.1351, 11.582, "DE", "02"),
    (5, "madrid", 40.4168, -3.7038, "ES", "29"),
    (6, "rome", 41.9028, 12.4964, "IT", "07"),
    (7, "new york", 40.7128, -74.006, "US", "NY"),
    (8, "boston", 42.3601, -71.0589, "US", "MA"),
    (9, "los angeles", 34.0522, -118.2437, "US", "CA"),
    (10, "tokyo", 35.6762, 139.6503, "JP", "40"),
    (11, "osaka", 34.6937, 135.5023, "JP", "32"),
    (12, "sydney", -33.8688, 151.2093, "AU", "02"),
    (13, "rio de janeiro", -22.9068, -43.1729, "BR", "21"),
    (14, "nairobi", -1.2921, 36.8219, "KE", "05"),
    (15, "mumbai", 19.076, 72.8777, "IN", "16"),
    (16, "suva", -18.1248, 178.4501, "FJ", "01"),  # near the antimeridian
]
ALIASES = {
    "france": "FR", "germany": "DE", "spain": "ES", "italy": "IT", "united states": "US",
    "japan": "JP", "australia": "AU", "brazil": "BR", "kenya": "KE", "india": "IN", "fiji": "FJ",
}  # fmt: skip


def add_places(con) -> None:
    con.executemany(
        "INSERT INTO places (geonameid, name, asciiname, lat, lon, feature_class, feature_code,"
        " country_code, admin1_code, population, source) VALUES (?, ?, ?, ?, ?, 'P', 'PPL',"
        " ?, ?, 100000, 'test')",
        [(g, n, n, la, lo, c, a) for g, n, la, lo, c, a in CITIES],
    )
    con.executemany(
        "INSERT OR REPLACE INTO countries (iso2, name) VALUES (?, ?)",
        [(c, n) for n, c in ALIASES.items()],
    )
    con.executemany(
        "INSERT OR REPLACE INTO country_aliases VALUES (?, ?, 'name')", list(ALIASES.items())
    )


def jitter(rng, lat, lon, km, n):
    """n points scattered around (lat, lon) with a Gaussian of `km` per axis."""
    dlat = rng.normal(0, km / 111.0, n)
    dlon = rng.normal(0, km / (111.0 * np.cos(np.radians(lat))), n)
    return np.clip(lat + dlat, -89.9, 89.9), ((lon + dlon + 180) % 360) - 180


def synthetic(seed=0, dim=64, per_city=120, queries=30, noise=0.6, outliers=0.15):
    """Reference and query images: one embedding direction per city, GPS jittered by 5 km.

    `outliers` of the reference images carry their city's look but a GPS anywhere on Earth
    (mislabelled / travelling photographers), which top-1 and the plain mean suffer from.
    """
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(CITIES), dim))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)

    def draw(n, c):
        x = centers[c] + noise * rng.normal(size=(n, dim)) / np.sqrt(dim)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    ref, qry = [], []
    for c, (_, _, la, lo, _, _) in enumerate(CITIES):
        lat, lon = jitter(rng, la, lo, 5.0, per_city)
        bad = rng.random(per_city) < outliers
        lat[bad] = rng.uniform(-60, 70, bad.sum())
        lon[bad] = rng.uniform(-180, 180, bad.sum())
        for i, (v, a, b) in enumerate(zip(draw(per_city, c), lat, lon, strict=True)):
            ref.append((f"r{c}_{i}", a, b, v))
        qlat, qlon = jitter(rng, la, lo, 5.0, queries)
        for i, (v, a, b) in enumerate(zip(draw(queries, c), qlat, qlon, strict=True)):
            qry.append((f"q{c}_{i}", a, b, v))
    return ref, qry


def _city_country(image_id: str) -> str:
    return CITIES[int(image_id[1:].split("_")[0])][4]


def load_synthetic(con, ref, qry, model_key="test/synthetic") -> None:
    """geo_images datasets 'ref' and 'qry' plus their image embeddings."""
    for ds, rows in (("ref", ref), ("qry", qry)):
        con.executemany(
            "INSERT INTO geo_images (image_id, dataset, lat, lon, country_code)"
            " VALUES (?, ?, ?, ?, ?)",
            [(i, ds, float(a), float(b), _city_country(i)) for i, a, b, _ in rows],
        )
        t = pa.table(
            {
                "item_id": [r[0] for r in rows],
                "kind": ["image"] * len(rows),
                "model_key": [model_key] * len(rows),
                "dim": [len(rows[0][3])] * len(rows),
                "embedding": pa.array([r[3].astype(np.float32).tolist() for r in rows]),
                "norm": [1.0] * len(rows),
                "config_key": ["test"] * len(rows),
            }
        )
        con.register("_emb", t)
        con.execute("INSERT INTO embeddings SELECT * FROM _emb")
        con.unregister("_emb")
