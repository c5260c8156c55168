"""Reverse geocoding of many points: coordinates -> nearest GeoNames place -> country, admin1.

The places (`places`, populated places when there are any) become unit vectors in a KD-tree
(scipy `cKDTree`; chord length is monotonic in great-circle distance, so the nearest by chord is
the nearest on the sphere). A query farther than `max_km` from every place (far offshore, the
middle of Antarctica) gets no place, so no country. No cross join: O(log n) per point.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geosql.errors import GeosqlError, require
from udfs.geoloc.sphere import EARTH_KM, to_unit

DEFAULT_MAX_KM = 200.0


@dataclass
class PlaceIndex:
    """GeoNames places as arrays plus a KD-tree over their unit vectors (built lazily)."""

    geonameid: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    country_code: np.ndarray
    admin1_code: np.ndarray
    _tree: Any = None

    def __len__(self) -> int:
        return len(self.geonameid)

    @classmethod
    def from_con(cls, con: Any, min_population: int = 0) -> PlaceIndex:
        """Places with a country and coordinates (feature class P when the table has any)."""
        q = "SELECT count(*) FROM places WHERE feature_class = 'P'"
        has_p = con.execute(q).fetchall()[0][0]
        where = "feature_class = 'P'" if has_p else "TRUE"
        t = con.execute(
            f"""SELECT geonameid, lat, lon, country_code, coalesce(admin1_code, '') AS admin1_code
                FROM places
                WHERE {where} AND country_code IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
                  AND coalesce(population, 0) >= ?
                ORDER BY geonameid""",
            [int(min_population)],
        ).fetchnumpy()
        if len(t["geonameid"]) == 0:
            raise GeosqlError(
                "the places table is empty: run `geosql init` (or `geosql refdata load`) first"
            )
        return cls(
            np.asarray(t["geonameid"], np.int64),
            np.asarray(t["lat"], np.float64),
            np.asarray(t["lon"], np.float64),
            np.asarray(t["country_code"], dtype=str),
            np.asarray(t["admin1_code"], dtype=str),
        )

    def fingerprint(self) -> str:
        h = hashlib.sha1(self.geonameid.tobytes())
        h.update(self.lat.tobytes())
        return h.hexdigest()[:12]

    def save(self, path: Path) -> Path:
        np.savez(
            path,
            geonameid=self.geonameid,
            lat=self.lat,
            lon=self.lon,
            country_code=self.country_code,
            admin1_code=self.admin1_code,
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> PlaceIndex:
        with np.load(path, allow_pickle=False) as z:
            return cls(*(z[k] for k in ("geonameid", "lat", "lon", "country_code", "admin1_code")))

    @property
    def tree(self) -> Any:
        if self._tree is None:
            spatial = require("scipy.spatial", "geo")
            self._tree = spatial.cKDTree(to_unit(self.lat, self.lon))
        return self._tree

    def nearest(
        self, lat: np.ndarray, lon: np.ndarray, max_km: float = DEFAULT_MAX_KM
    ) -> tuple[np.ndarray, np.ndarray]:
        """Index of the nearest place (-1: none within max_km) and its distance in km (NaN)."""
        lat = np.asarray(lat, np.float64)
        lon = np.asarray(lon, np.float64)
        ok = np.isfinite(lat) & np.isfinite(lon)
        idx = np.full(len(lat), -1, np.int64)
        km = np.full(len(lat), np.nan)
        if ok.any():
            bound = 2 * np.sin(min(max_km / EARTH_KM, np.pi) / 2) + 1e-12
            chord, i = self.tree.query(
                to_unit(lat[ok], lon[ok]), k=1, distance_upper_bound=bound, workers=-1
            )
            hit = np.isfinite(chord)
            d = 2 * EARTH_KM * np.arcsin(np.minimum(1.0, chord / 2))
            sub_idx = np.where(hit, i, -1)
            idx[ok] = sub_idx
            km[ok] = np.where(hit, d, np.nan)
        return idx, km

    def lookup(
        self, lat: np.ndarray, lon: np.ndarray, max_km: float = DEFAULT_MAX_KM
    ) -> dict[str, Any]:
        """Arrow columns geonameid, country_code, admin1_code, place_km (null: no place)."""
        import pyarrow as pa

        idx, km = self.nearest(lat, lon, max_km)
        miss = idx < 0
        j = np.where(miss, 0, idx)
        admin1 = self.admin1_code[j]
        return {
            "geonameid": pa.array(self.geonameid[j], mask=miss),
            "country_code": pa.array(self.country_code[j], pa.string(), mask=miss),
            "admin1_code": pa.array(admin1, pa.string(), mask=miss | (admin1 == "")),
            "place_km": pa.array(km, mask=miss),
        }


def place_index_file(con: Any, cache_dir: Path | None) -> tuple[PlaceIndex, str | None]:
    """The warehouse's places as a PlaceIndex, cached as .npz in cache_dir (path returned)."""
    n, mx = con.execute("SELECT count(*), coalesce(max(geonameid), 0) FROM places").fetchall()[0]
    if cache_dir is not None:
        path = Path(cache_dir) / f"geoloc-places-{n}-{mx}.npz"
        if path.is_file():
            return PlaceIndex.load(path), str(path)
    idx = PlaceIndex.from_con(con)
    if cache_dir is None:
        return idx, None
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(cache_dir) / f".tmp-{path.name}"
    idx.save(tmp)
    tmp.replace(path)
    return idx, str(path)
