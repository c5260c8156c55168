"""`geosql ingest-geo`: geotagged image metadata -> `geo_images`, one transaction per call.

Formats (detected from the first line, or `fmt=`):
- `mp16`: MP16-Pro `IMG_ID,LAT,LON,neighbourhood,city,county,state,region,country,continent`
  (the country name is normalised with `country_code()`);
- `im2gps`: IM2GPS3K / YFCC4K / YFCC25600 CSVs (`IMG_ID,...,LAT,LON,...`);
- `yfcc100m`: the YFCC100M dataset file, tab-separated without header (23 columns as released
  by Yahoo, or 25 with a leading line number and hash); rows without GPS are skipped;
- `plain`: `id,lat,lon[,path][,country]` with a header (also image_id/latitude/longitude...).
Rows whose coordinates are not numbers or lie outside [-90, 90] x [-180, 180] are rejected with
their file and line; a duplicate id too. Nothing is written unless every file is clean. Rows
without a (known) country get the nearest GeoNames place's country, within `max_km`.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.db import literal
from geosql.errors import GeosqlError
from udfs.geoloc.revgeo import DEFAULT_MAX_KM, PlaceIndex

FORMATS = ("auto", "mp16", "im2gps", "yfcc100m", "plain")
_ID = ("img_id", "image_id", "id", "photo_id", "key")
_LAT = ("lat", "latitude")
_LON = ("lon", "lng", "long", "longitude")
_PATH = ("path", "image_path", "file", "filename")
_COUNTRY = ("country_code", "country")
# YFCC100M: (number of columns) -> (id, longitude, latitude, download url) column numbers
_YFCC = {23: (0, 10, 11, 14), 25: (1, 12, 13, 16)}


@dataclass
class Layout:
    """How to read one file: format, delimiter, header and which column is what."""

    fmt: str
    delim: str
    header: bool
    id: str
    lat: str
    lon: str
    path: str | None = None
    country: str | None = None
    skip_missing: bool = False  # rows without coordinates are skipped, not errors


@dataclass
class GeoIngestResult:
    dataset: str
    rows: int = 0
    skipped_no_gps: int = 0
    country_given: int = 0
    country_geocoded: int = 0
    no_country: int = 0
    files: list[str] = field(default_factory=list)


def _first_line(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.readline().rstrip("\r\n")


def _pick(cols: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.lower().strip(): c for c in cols}
    return next((low[n] for n in names if n in low), None)


def _is_num(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def sniff(path: Path, fmt: str = "auto") -> Layout:
    """Work out the layout of `path` from its first line (and the format, when given)."""
    if fmt not in FORMATS:
        raise GeosqlError(f"unknown geo format {fmt!r}; use one of {', '.join(FORMATS)}")
    line = _first_line(path)
    if not line:
        raise GeosqlError(f"{path}: the file is empty")
    if fmt == "yfcc100m" or (fmt == "auto" and "\t" in line and "," not in line.split("\t")[0]):
        n = len(line.split("\t"))
        if n not in _YFCC:
            raise GeosqlError(
                f"{path} line 1: {n} tab-separated columns; a YFCC100M dataset file has 23 "
                "(or 25 with line number and hash)"
            )
        i, lo, la, url = (f"column{j:02d}" for j in _YFCC[n])
        return Layout("yfcc100m", "\t", False, i, la, lo, url, None, skip_missing=True)
    delim = "\t" if line.count("\t") > line.count(",") else ","
    cols = [c.strip().strip('"') for c in line.split(delim)]
    idc, lat, lon = _pick(cols, _ID), _pick(cols, _LAT), _pick(cols, _LON)
    if idc and lat and lon:
        lower = {c.lower() for c in cols}
        detected = "mp16" if {"city", "country"} <= lower and idc.lower() == "img_id" else None
        detected = detected or ("im2gps" if idc.lower() == "img_id" else "plain")
        if fmt != "auto" and fmt != detected and not (fmt == "im2gps" and detected == "mp16"):
            detected = fmt
        path_col = _pick(cols, _PATH) or (idc if detected in ("mp16", "im2gps") else None)
        country = _pick(cols, _COUNTRY) if detected in ("mp16", "plain") else None
        return Layout(detected, delim, True, idc, lat, lon, path_col, country)
    parts = line.split(delim)
    if fmt in ("auto", "plain") and len(parts) in (3, 4) and all(map(_is_num, parts[1:3])):
        names = ["column00", "column01", "column02", "column03"]
        return Layout("plain", delim, False, *names[:3], names[3] if len(parts) == 4 else None)
    raise GeosqlError(
        f"{path} line 1: cannot tell the format; expected a header with IMG_ID/id, LAT/lat and "
        "LON/lon columns, a YFCC100M tab-separated line, or --format"
    )


def _reader(path: Path, lay: Layout) -> str:
    opts = [
        f"delim = {literal(lay.delim)}",
        f"header = {'true' if lay.header else 'false'}",
        "all_varchar = true",
        "null_padding = true",
        "strict_mode = false",
    ]
    if not lay.header:  # explicit columns: column00, column01, ...
        n = len(_first_line(path).split(lay.delim))
        cols = ", ".join(f"'column{j:02d}': 'VARCHAR'" for j in range(n))
        opts += ["auto_detect = false", f"columns = {{{cols}}}"]
        if lay.fmt == "yfcc100m":
            opts += ["quote = ''", "escape = ''"]
    return f"read_csv({literal(str(path))}, {', '.join(opts)})"


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def _stage_file(con: Any, path: Path, lay: Layout, table: str) -> None:
    """Rows of one file into the temp table, with line numbers and parsed coordinates."""
    src = _reader(path, lay)
    path_sql = f"nullif(trim({_q(lay.path)}), '')" if lay.path else "NULL"
    country_sql = f"nullif(trim({_q(lay.country)}), '')" if lay.country else "NULL"
    con.execute(
        f"""INSERT INTO {table}
            SELECT {literal(str(path))}, line, image_id, lat_raw, lon_raw,
                   TRY_CAST(lat_raw AS DOUBLE), TRY_CAST(lon_raw AS DOUBLE), country_raw, path
            FROM (
                SELECT row_number() OVER () + {1 if lay.header else 0} AS line,
                       trim({_q(lay.id)}) AS image_id, trim({_q(lay.lat)}) AS lat_raw,
                       trim({_q(lay.lon)}) AS lon_raw, {country_sql} AS country_raw,
                       {path_sql} AS path
                FROM {src}
            )"""
    )


_BAD = """
    CASE WHEN image_id IS NULL OR image_id = '' THEN 'the id is empty'
         WHEN lat IS NULL THEN 'latitude ' || coalesce('''' || lat_raw || '''', 'missing')
                               || ' is not a number'
         WHEN lon IS NULL THEN 'longitude ' || coalesce('''' || lon_raw || '''', 'missing')
                               || ' is not a number'
         WHEN isnan(lat) OR isinf(lat) OR lat < -90 OR lat > 90
              THEN 'latitude ' || lat_raw || ' is outside [-90, 90]'
         WHEN isnan(lon) OR isinf(lon) OR lon < -180 OR lon > 180
              THEN 'longitude ' || lon_raw || ' is outside [-180, 180]'
    END"""


def ingest_geo(
    con: Any,
    paths: list[Path],
    dataset: str,
    fmt: str = "auto",
    max_km: float = DEFAULT_MAX_KM,
    image_root: str | None = None,
) -> GeoIngestResult:
    """Load files into `geo_images` as `dataset`, replacing its earlier rows; all or nothing."""
    if not paths:
        raise GeosqlError("ingest-geo needs at least one file")
    res = GeoIngestResult(dataset, files=[str(p) for p in paths])
    tmp = "_geoloc_ingest"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {tmp} (file VARCHAR, line BIGINT, image_id VARCHAR,
            lat_raw VARCHAR, lon_raw VARCHAR, lat DOUBLE, lon DOUBLE, country_raw VARCHAR,
            path VARCHAR)"""
    )
    try:
        skip = []
        for p in paths:
            if not Path(p).is_file():
                raise GeosqlError(f"{p}: no such file")
            lay = sniff(Path(p), fmt)
            _stage_file(con, Path(p), lay, tmp)
            if lay.skip_missing:
                skip.append(str(p))
        if skip:  # YFCC100M: most photos have no GPS; those rows are not errors
            res.skipped_no_gps = con.execute(
                f"""DELETE FROM {tmp} WHERE file IN (SELECT unnest(?::VARCHAR[]))
                    AND coalesce(lat_raw, '') = '' AND coalesce(lon_raw, '') = ''""",
                [skip],
            ).fetchall()[0][0]
        _check(con, tmp)
        return _write(con, tmp, res, max_km, image_root)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {tmp}")


_OK = "coalesce(image_id <> '' AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180, FALSE)"


def _check(con: Any, tmp: str) -> None:
    bad = con.execute(
        f"""WITH b AS (SELECT * FROM {tmp} WHERE NOT {_OK})
            SELECT file, line, {_BAD} AS why, (SELECT count(*) FROM b) AS n FROM b
            ORDER BY file, line LIMIT 1"""
    ).fetchall()
    if bad:
        file, line, why, n = bad[0]
        more = f" ({n - 1} more rows like it)" if n > 1 else ""
        raise GeosqlError(
            f"{file} line {line}: {why}; fix or remove the row{more} (nothing was loaded)"
        )
    dup = con.execute(
        f"SELECT image_id FROM {tmp} GROUP BY image_id HAVING count(*) > 1 LIMIT 1"
    ).fetchall()
    if dup:
        at = con.execute(
            f"SELECT file || ' line ' || line FROM {tmp} WHERE image_id = ? ORDER BY file, line"
            " LIMIT 2",
            [dup[0][0]],
        ).fetchall()
        raise GeosqlError(
            f"{at[1][0]}: id {dup[0][0]!r} already appears at {at[0][0]}; ids must be unique "
            "within a dataset (nothing was loaded)"
        )


def _write(
    con: Any, tmp: str, res: GeoIngestResult, max_km: float, image_root: str | None
) -> GeoIngestResult:
    con.execute(
        f"ALTER TABLE {tmp} ADD COLUMN country_code VARCHAR; "
        f"UPDATE {tmp} t SET country_code = m.iso2 FROM (SELECT DISTINCT country_raw,"
        f" country_code(country_raw) AS iso2 FROM {tmp} WHERE country_raw IS NOT NULL) m"
        " WHERE t.country_raw = m.country_raw"
    )
    need = con.execute(
        f"SELECT rowid AS rid, lat, lon FROM {tmp} WHERE country_code IS NULL"
    ).fetchnumpy()
    geo = None
    if len(need["rid"]):
        places = PlaceIndex.from_con(con)
        got = places.lookup(need["lat"], need["lon"], max_km)
        geo = pa.table({"rid": pa.array(need["rid"], pa.int64()), **got})
    root = literal(str(image_root).rstrip("/") + "/") if image_root else "''"
    con.begin()
    try:
        con.execute("DELETE FROM geo_images WHERE dataset = ?", [res.dataset])
        if geo is not None:
            con.register("_geoloc_rev", geo)
        join = (
            "LEFT JOIN _geoloc_rev r ON r.rid = t.rowid"
            if geo is not None
            else "LEFT JOIN (SELECT NULL::VARCHAR AS country_code, NULL::VARCHAR AS admin1_code,"
            " NULL::BIGINT AS geonameid, NULL::DOUBLE AS place_km) r ON FALSE"
        )
        con.execute(
            f"""INSERT INTO geo_images
                SELECT t.image_id, ?, t.lat, t.lon, coalesce(t.country_code, r.country_code),
                       r.admin1_code,
                       CASE WHEN t.country_code IS NOT NULL THEN 'given'
                            WHEN r.country_code IS NOT NULL THEN 'nearest_place' END,
                       r.geonameid, r.place_km,
                       CASE WHEN t.path IS NULL THEN NULL ELSE {root} || t.path END,
                       t.file, t.line
                FROM {tmp} t {join}""",
            [res.dataset],
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    finally:
        if geo is not None:
            con.unregister("_geoloc_rev")
    res.rows, res.country_given, res.country_geocoded, res.no_country = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE country_source = 'given'),
                  count(*) FILTER (WHERE country_source = 'nearest_place'),
                  count(*) FILTER (WHERE country_code IS NULL)
           FROM geo_images WHERE dataset = ?""",
        [res.dataset],
    ).fetchall()[0]
    return res


def insert_geo_rows(con: Any, rows: pa.Table, dataset: str, source: str, max_km: float) -> int:
    """Replace `dataset`'s rows of `source` with (image_id, lat, lon, image_path), geocoded."""
    if not len(rows):
        con.execute("DELETE FROM geo_images WHERE dataset = ? AND source = ?", [dataset, source])
        return 0
    lat = np.asarray(rows["lat"].to_numpy(zero_copy_only=False), float)
    lon = np.asarray(rows["lon"].to_numpy(zero_copy_only=False), float)
    got = PlaceIndex.from_con(con).lookup(lat, lon, max_km)
    t = rows.select(["image_id", "lat", "lon", "image_path"])
    for k, v in got.items():
        t = t.append_column(k, v)
    con.register("_geoloc_rows", t)
    con.begin()
    try:
        con.execute("DELETE FROM geo_images WHERE dataset = ? AND source = ?", [dataset, source])
        con.execute(
            """INSERT INTO geo_images
               SELECT image_id, ?, lat, lon, country_code, admin1_code,
                      CASE WHEN country_code IS NOT NULL THEN 'nearest_place' END,
                      geonameid, place_km, image_path, ?, NULL FROM _geoloc_rows""",
            [dataset, source],
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    finally:
        con.unregister("_geoloc_rows")
    return len(t)
