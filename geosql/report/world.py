"""World geometry for the report's map, read from the `countryinfo` package (never fetched).

countryinfo 1.0.1 (MIT) ships Natural Earth 110m outlines for 173 countries. Vega/d3 need the
outer rings of polygons wound clockwise and holes counter-clockwise (the reverse of RFC 7946),
or a polygon is taken as the rest of the globe; `world_features()` rewinds every ring.

Countries without an outline there (Kosovo is not in countryinfo at all; Hungary, Serbia,
Montenegro, Myanmar and small states such as Singapore have no polygon) are drawn as points at
their latitude/longitude (`point_locations()`), and the report lists them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

# Not in countryinfo; generated here (approximate centroid), so Kosovo still gets a point.
EXTRA_POINTS = {"XK": ("Kosovo", 42.6, 20.9)}


def _signed_area(ring: list[list[float]]) -> float:
    """Planar shoelace area in lon/lat; > 0 when the ring runs counter-clockwise."""
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        s += x1 * y2 - x2 * y1
    return s / 2


def _wind(rings: list[list[list[float]]]) -> list[list[list[float]]]:
    """Outer ring clockwise, holes counter-clockwise (what d3-geo expects)."""
    out = []
    for i, ring in enumerate(rings):
        ring = [[round(float(x), 3), round(float(y), 3)] for x, y, *_ in ring]
        clockwise = _signed_area(ring) < 0
        if clockwise != (i == 0):
            ring = ring[::-1]
        out.append(ring)
    return out


def _rewind(geometry: dict[str, Any]) -> dict[str, Any]:
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": _wind(geometry["coordinates"])}
    if geometry["type"] == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [_wind(p) for p in geometry["coordinates"]]}
    return geometry


@lru_cache(maxsize=1)
def _countryinfo() -> tuple[tuple[dict[str, Any], ...], dict[str, tuple[str, float, float]]]:
    features: list[dict[str, Any]] = []
    points: dict[str, tuple[str, float, float]] = {}
    data = resources.files("countryinfo") / "data"
    for f in sorted(data.iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        d = json.loads(f.read_text(encoding="utf-8"))
        iso2 = ((d.get("ISO") or {}).get("alpha2") or "").upper()
        if len(iso2) != 2:
            continue
        name = d.get("name") or iso2
        latlng = d.get("latlng") or []
        if len(latlng) == 2 and iso2 not in points:
            points[iso2] = (name, float(latlng[0]), float(latlng[1]))
        for feat in (d.get("geoJSON") or {}).get("features") or []:
            if feat.get("geometry"):
                features.append(
                    {
                        "type": "Feature",
                        "id": iso2,
                        "properties": {"iso2": iso2, "name": name},
                        "geometry": _rewind(feat["geometry"]),
                    }
                )
    for iso2, p in EXTRA_POINTS.items():
        points.setdefault(iso2, p)
    return tuple(features), points


def world_features() -> list[dict[str, Any]]:
    """GeoJSON features (id and properties.iso2 = ISO alpha-2), rings wound for Vega."""
    return list(_countryinfo()[0])


def outlined_codes() -> set[str]:
    """ISO2 codes that have a polygon."""
    return {f["id"] for f in _countryinfo()[0]}


def point_locations() -> dict[str, tuple[str, float, float]]:
    """ISO2 -> (name, lat, lon) from countryinfo, plus generated points for missing countries."""
    return dict(_countryinfo()[1])
