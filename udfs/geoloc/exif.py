"""EXIF GPS of a dataset's own photos (`geosql images exif`) -> `geo_images` (source 'exif').

Pillow reads only the header: `Image.open(p).getexif().get_ifd(0x8825)` gives latitude and
longitude as degrees/minutes/seconds rationals with N/S and E/W references.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from geosql.errors import GeosqlError, require
from udfs.geoloc.revgeo import DEFAULT_MAX_KM

GPS_IFD = 0x8825
_LAT_REF, _LAT, _LON_REF, _LON = 1, 2, 3, 4


def _ref(v: Any) -> str:
    if isinstance(v, bytes):
        v = v.decode("ascii", "replace")
    return str(v or "").strip().upper()[:1]


def dms_to_degrees(dms: Any, ref: Any) -> float:
    """(degrees, minutes, seconds) rationals (or one number) and 'N'/'S'/'E'/'W' -> degrees."""
    if isinstance(dms, tuple | list):
        parts = [float(x[0]) / float(x[1]) if isinstance(x, tuple) else float(x) for x in dms]
        parts += [0.0] * (3 - len(parts))
        value = parts[0] + parts[1] / 60 + parts[2] / 3600
    else:
        value = float(dms)
    return -value if _ref(ref) in ("S", "W") else value


def read_gps(path: str | Path) -> tuple[float, float] | None:
    """(lat, lon) from an image's EXIF GPS tags, or None when it has none (or they are bad)."""
    image = require("PIL.Image", "geo")
    try:
        with image.open(path) as im:
            gps = im.getexif().get_ifd(GPS_IFD)
    except (OSError, ValueError, SyntaxError):
        return None
    if _LAT not in gps or _LON not in gps:
        return None
    try:
        lat = dms_to_degrees(gps[_LAT], gps.get(_LAT_REF, "N"))
        lon = dms_to_degrees(gps[_LON], gps.get(_LON_REF, "E"))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or lat != lat or lon != lon:
        return None
    return lat, lon


def write_gps(path: str | Path, lat: float, lon: float, image: Any = None) -> None:
    """Save a JPEG (a new grey one unless `image` is given) with EXIF GPS (tests, demos)."""
    from fractions import Fraction

    pil = require("PIL.Image", "geo")
    tags = require("PIL.ExifTags", "geo")
    im = image if image is not None else pil.new("RGB", (32, 24), (128, 128, 128))

    def dms(x: float) -> tuple[Fraction, Fraction, Fraction]:
        x = abs(x)
        d = int(x)
        m = int((x - d) * 60)
        s = Fraction(round(((x - d) * 60 - m) * 60 * 10000), 10000)
        return Fraction(d), Fraction(m), s

    exif = im.getexif()
    gps = exif.get_ifd(tags.IFD.GPSInfo)
    gps[tags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[tags.GPS.GPSLatitude] = dms(lat)
    gps[tags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
    gps[tags.GPS.GPSLongitude] = dms(lon)
    im.save(path, exif=exif.tobytes())


def exif_rows(con: Any, dataset: str, image_root: str | None = None) -> tuple[pa.Table, int]:
    """EXIF GPS of the captions of `dataset` that have an image: (rows with GPS, images read)."""
    rows = con.execute(
        "SELECT caption_id, image_path FROM captions WHERE dataset = ? AND image_path IS NOT NULL"
        " ORDER BY caption_id",
        [dataset],
    ).fetchall()
    if not rows:
        raise GeosqlError(
            f"dataset {dataset!r} has no captions with an image_path (ingest it, or "
            "`geosql images link ROOT`)"
        )
    out: dict[str, list] = {"image_id": [], "lat": [], "lon": [], "image_path": []}
    for cid, p in rows:
        full = Path(image_root) / p if image_root and not Path(p).is_absolute() else Path(p)
        got = read_gps(full)
        if got:
            out["image_id"].append(cid)
            out["lat"].append(got[0])
            out["lon"].append(got[1])
            out["image_path"].append(p)
    schema = pa.schema(
        [("image_id", pa.string()), ("lat", pa.float64()), ("lon", pa.float64()),
         ("image_path", pa.string())]
    )  # fmt: skip
    return pa.table(out, schema=schema), len(rows)


def load_exif(
    con: Any, dataset: str, image_root: str | None = None, max_km: float = DEFAULT_MAX_KM
) -> tuple[int, int]:
    """Replace the EXIF rows of `dataset` in `geo_images`; returns (with GPS, images read)."""
    from udfs.geoloc.ingest import insert_geo_rows

    rows, n = exif_rows(con, dataset, image_root)
    insert_geo_rows(con, rows, dataset, "exif", max_km)
    return len(rows), n
