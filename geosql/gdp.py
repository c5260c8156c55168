"""GDP tables: the bundled Gapminder default, World Bank WDI files, Worldometers-style tables and
plain `country,gdp` files; every bad row is an error naming its line, nothing half-loaded."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa

from geosql.countries import country_rows, package_file
from geosql.db import replace_rows as _replace
from geosql.errors import GeosqlError


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
        r"[$€£]?\s*(-?[\d.,]+(?:e[+-]?\d+)?)\s*(trillion|billion|million|thousand)?\s*(us\$|usd)?",
        s,
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
