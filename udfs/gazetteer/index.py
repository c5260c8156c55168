"""The geoparser's name index: built from the warehouse's places/place_names/countries tables
once per warehouse and cached as a small DuckDB file beside it (attached read-only at run time)."""

from __future__ import annotations

import math
import shutil
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

from udfs.gazetteer.features import (
    OPEN_WATER,
    STATIC_FEATURES,
    common_word,
    content_words,
    dict_word,
    feature_name_ok,
    person_name,
    zipf,
)
from udfs.gazetteer.lexicon import (
    ADMIN1,
    CITY,
    CJK,
    COUNTRY,
    DEMONYM,
    FEATURE,
    LEXICONS,
    MAX_NGRAM,
    VAGUE,
)
from udfs.gazetteer.multilingual import extra_name_rows, keep_latin, non_place_keys, phrase_keys
from udfs.gazetteer.points import country_points, division_points, town_alternatives, town_choices
from udfs.gazetteer.wordtables import word_tables

GAZETTEER_VERSION = "36"
PLACES_NE = Path(__file__).with_name("data") / "naturalearth_places.csv.gz"
FEATURES_NE = Path(__file__).with_name("data") / "naturalearth_features.csv.gz"
# GeoNames feature classes read as natural features and landmarks (when the full dump is loaded):
# H water, L parks and areas, S spots and buildings, T terrain, U undersea, V forest; N is NE's.
FEATURE_CLASSES = {"H", "L", "S", "T", "U", "V", "N"}


@lru_cache(maxsize=1)
def source_digest() -> str:
    """A digest of the files the parser reads besides its code: the lexicons, the shipped
    Natural Earth tables and its SQL (`sql/geoparse/`, the macros build the index too). An
    edit to any of them builds a new index and changes the stage's config key."""
    import hashlib

    from geosql.paths import sql_dir

    h = hashlib.sha1()
    dirs = (LEXICONS, PLACES_NE.parent, sql_dir() / "geoparse")
    files = {f"{d.name}/{f.name}": f for d in dirs for f in d.iterdir() if f.is_file()}
    for name in sorted(files):
        h.update(name.encode() + files[name].read_bytes())
    return h.hexdigest()[:8]


def _rank(kind: int, pop: int, own: bool = True, prom: float = 0.0) -> tuple[float, int]:
    """Which place of a country answers a name: the country, a big city, a division, a
    natural feature on Natural Earth's map, a town, any other feature, then a town of under
    100,000 that answers to it only as another name, not its own or words of it ("Lake
    Tahoe" is the lake before Stateline, Nevada; the Grand Canyon before its village)."""
    if kind == CITY and not own and pop < 100_000:
        return (FEATURE + 0.5, -pop)
    if kind == FEATURE and prom > 0:
        return (CITY - 0.5, -round(prom * 10))
    return (1.5 if kind == CITY and pop >= 100_000 else kind, -pop)


def _name_rows(con, extra: pa.Table) -> pa.Table:
    """Every (name, place) of `place_names` and `extra` (rows shaped like it: the
    multilingual name forms) with the place's point and prominence, and whether the name is the
    place's own (`own`: its name or ASCII name). Places without coordinates
    get a representative point: a country the median of the 1-degree cells its towns occupy
    (near the middle of its inhabited area, unmoved by dense regions or far islands), a
    division without one the same over its own towns. `prominence` is Natural Earth's
    cartographic rank of the place (udfs/gazetteer/data), 0 when it is not on the map."""
    ne = str(PLACES_NE).replace("'", "''")
    nef = str(FEATURES_NE).replace("'", "''")
    cur = con.cursor()  # `extra` registered on a cursor of its own, not on the caller's
    cur.register("_extra_names", extra)
    try:
        return _name_rows_sql(cur, ne, nef)
    finally:
        cur.close()


def _words(col: str) -> str:
    """SQL: the words of `col`, lower case, accents and punctuation aside, between spaces."""
    return (
        f"(' ' || trim(regexp_replace(lower(strip_accents({col})), '[^a-z0-9]+', ' ', 'g')) || ' ')"
    )


def _spelled(words: str) -> str:
    """SQL: `words` (as _words gives them) with the abbreviations St, Ft, Mt written out."""
    for short, full in (("st", "saint"), ("ft", "fort"), ("mt", "mount")):
        words = f"replace({words}, ' {short} ', ' {full} ')"
    return words


def _name_rows_sql(con, ne: str, nef: str) -> pa.Table:
    return con.sql(
        f"""
        WITH cells AS (
            SELECT DISTINCT country_code, admin1_code, round(lat) AS la, round(lon) AS lo
            FROM places WHERE feature_class = 'P' AND lat IS NOT NULL
        ), cpt AS (
            SELECT country_code, median(la) AS lat, median(lo) AS lon FROM cells GROUP BY 1
        ), apt AS (
            SELECT country_code, admin1_code, median(la) AS lat, median(lo) AS lon
            FROM cells GROUP BY 1, 2
        ), ne AS (
            SELECT geonameid, max(greatest(0, 10 - scalerank) / 10) AS prominence
            FROM read_csv('{ne}') GROUP BY 1
        )
        SELECT n.name, p.geonameid, p.country_code, p.feature_code,
               coalesce(p.population, 0) AS population,
               coalesce(p.lat, CASE WHEN p.feature_code LIKE 'PCL%' THEN c.lat ELSE a.lat END)
                   AS lat,
               coalesce(p.lon, CASE WHEN p.feature_code LIKE 'PCL%' THEN c.lon ELSE a.lon END)
                   AS lon,
               n.lang, p.admin1_code AS a1, coalesce(ne.prominence, 0.0) AS prominence,
               p.feature_class, (n.name = p.name OR n.name = p.asciiname) AS own,
               p.lat IS NOT NULL AS own_point,
               -- the name is the place's own or words of it ("Cebu" for "Cebu City"), not
               -- another language's name for it ("Cancun" for Changchun)
               contains({_words("p.asciiname")}, {_words("n.name")})
                   OR contains({_words("p.name")}, {_words("n.name")}) AS own_words,
               -- the place's own name with St./Ft./Mt. written out ("Saint Louis")
               {_words("n.name")} = {_spelled(_words("p.name"))} AS own_spelled
        FROM (SELECT geonameid, name, lang FROM place_names
              UNION ALL SELECT geonameid, name, lang FROM _extra_names) n
        JOIN places p USING (geonameid)
        LEFT JOIN cpt c ON c.country_code = p.country_code
        LEFT JOIN apt a ON a.country_code = p.country_code AND a.admin1_code = p.admin1_code
        LEFT JOIN ne ON ne.geonameid = p.geonameid
        WHERE p.country_code IS NOT NULL AND p.feature_code <> 'CONT'
        UNION ALL
        -- Natural Earth's named features of one country, with ids of their own (negative,
        -- below any countrystatecity id): lakes, parks, islands, peaks...
        SELECT name, -2000000 - row_number() OVER (ORDER BY name, kind, country_code),
               country_code, 'NE:' || kind, 0, lat, lon, 'naturalearth', NULL,
               greatest(0, 10 - scalerank) / 10, 'N', true, true, true, false
        FROM read_csv('{nef}')
        WHERE use = 'feature' AND country_code IS NOT NULL
        ORDER BY 2, 1  -- deterministic candidate numbering and tie-breaks
        """
    ).to_arrow_table()


def _spanning_features(db) -> set[str]:
    """Keys of Natural Earth features that span borders (or lie far from any town): no
    evidence of a country, so they consume their words like vague regions ("Gulf of Mexico")."""
    nef = str(FEATURES_NE).replace("'", "''")
    q = f"SELECT DISTINCT geo_key(name) FROM read_csv('{nef}') WHERE use = 'vague'"
    return {k for (k,) in db.sql(q).fetchall() if k}


def build_gazetteer(con) -> dict[str, pa.Table]:
    """The geoparser's index from the warehouse's places/place_names/countries tables.

    Returns Arrow tables: `g_gaz` (one row per name key and candidate country with the
    name-only features), `g_names` (every key: vague region? pronoun-like?) and `g_country`
    (the country place of each code, for state codes and postcodes). Includes the
    multilingual name forms and non-place words of udfs/gazetteer/multilingual.py.
    """
    rows = _name_rows(con, extra_name_rows(con))
    db = _private_db()
    db.register("n", rows)
    keys = db.sql("SELECT geo_key(name) AS k FROM n").to_arrow_table()["k"].to_pylist()
    db.register(
        "cap",
        con.sql("SELECT iso2, capital FROM countries WHERE capital IS NOT NULL").to_arrow_table(),
    )
    capitals = set(db.sql("SELECT iso2, geo_key(capital) FROM cap").fetchall())
    spanning = _spanning_features(db)
    non_place, latin_non_place = non_place_keys(db)
    phrases = phrase_keys(db)
    db.close()
    cols = {c: rows[c].to_pylist() for c in rows.column_names}
    points = country_points()
    # A country without a point of its own (the bundled data) gets its usual label point; one
    # from the full GeoNames dump keeps GeoNames' point (what GeoNames-based gold uses).
    for i, fc in enumerate(cols["feature_code"]):
        own = cols["own_point"][i]
        if fc and fc.startswith("PCL") and not own and cols["country_code"][i] in points:
            cols["lat"][i], cols["lon"][i] = points[cols["country_code"][i]]
    places: list[tuple] = []  # (country, kind, pop, gid, lat, lon, admin1, prominence)
    place_idx: dict[tuple[int, int], int] = {}
    index: dict[str, set[int]] = {}
    alias_country: set[tuple[str, str]] = set()  # (key, cc): a country's alternate name
    own_division: dict[tuple[str, str], int] = {}  # (key, cc): a division's own name
    own_link: set[tuple[str, int]] = set()  # (key, place): the place's own name or words of it
    own_name: set[tuple[str, int]] = set()  # (key, place): the place's own name
    spelled: set[tuple[str, int]] = set()  # (key, place): its own name, St./Mt. written out
    forms: dict[tuple[str, int], set[str]] = {}  # (key, place): its names written with marks
    for i, key in enumerate(keys):
        fc = cols["feature_code"][i] or ""
        if cols["lang"][i] == "demonym":  # "French", "Hawaiian"
            k = DEMONYM
        elif fc.startswith("PCL"):
            k = COUNTRY
        elif cols["feature_class"][i] in FEATURE_CLASSES:  # lakes, parks, peaks, hotels...
            k = FEATURE
        else:
            k = ADMIN1 if fc in ("ADM1", "ADM2") else CITY  # a division either way
        if not key or key in VAGUE or key.count(" ") >= MAX_NGRAM or key.isdigit():
            continue
        if k == FEATURE and (fc in OPEN_WATER or not feature_name_ok(key)):
            if fc in OPEN_WATER:
                spanning.add(key)  # consumes its words, names nothing ("Mediterranean Sea")
            continue
        if cols["lang"][i] == "folded" and common_word(key, 3.0):  # "Ísland" is not "island"
            continue
        if CJK.search(key):
            if len(key) < 2:
                continue
        elif len(key) < 3 and k in (CITY, FEATURE):
            continue
        if key in non_place:  # an everyday word of another script ("χώρα", "लाल")
            continue
        pop = int(cols["population"][i] or 0)
        if key in latin_non_place and not keep_latin(fc, pop, bool(cols["own"][i])):
            continue  # Spanish "sol", "casa": only the big places English captions mean
        g = cols["geonameid"][i]
        if k == COUNTRY and not cols["own"][i]:
            alias_country.add((key, cols["country_code"][i]))  # "England" for GB
        pi = place_idx.get((g, k))
        if pi is None:
            pi = place_idx[(g, k)] = len(places)
            places.append(
                (
                    cols["country_code"][i],
                    k,
                    int(cols["population"][i] or 0),
                    g,
                    cols["lat"][i],
                    cols["lon"][i],
                    cols["a1"][i],
                    cols["prominence"][i],
                )
            )
        index.setdefault(key, set()).add(pi)
        if cols["own_words"][i]:
            own_link.add((key, pi))
        if cols["own"][i]:
            own_name.add((key, pi))
        if cols["own_spelled"][i]:
            spelled.add((key, pi))
        written = (cols["name"][i] or "").lower().replace("’", "'")
        if not written.isascii():  # "münster", "cancún": the marks a caption may carry
            forms.setdefault((key, pi), set()).add(written)
        if k == ADMIN1 and cols["own"][i]:
            own_division.setdefault((key, cols["country_code"][i]), pi)
    # A country answering to another's name ("England", "Scotland": GB) has that place's point.
    # (A copy for that name only: the country's other names keep its own point.)
    for key, cc in sorted(alias_country & own_division.keys()):
        d = places[own_division[(key, cc)]]
        for pi in sorted(index[key]):
            p = places[pi]
            if p[0] == cc and p[1] == COUNTRY:
                index[key].discard(pi)
                index[key].add(len(places))
                places.append((*p[:3], d[3], d[4], d[5], d[6], p[7]))
    compact: dict[str, tuple[int, ...]] = {}
    moved: dict[tuple[str, int], int] = {}  # (key, town): the town whose point it takes
    for key, cands in index.items():
        # Per key the strongest candidate per (country, kind): enough to decide, much smaller.
        best: dict[tuple[str, int], int] = {}
        for c in cands:
            bk = places[c][:2]
            if bk not in best or places[c][2] > places[best[bk]][2]:
                best[bk] = c
        # The point of a town's mention (its features stay the biggest town's): town_choices.
        for cc, c in town_choices(key, cands, places, own_link, spelled).items():
            if c != best[(cc, CITY)]:
                moved[(key, best[(cc, CITY)])] = c
        ordered = sorted(best.values(), key=lambda c: (places[c][1], -places[c][2]))
        # Everyday words ("ring", "oak", "spring") name many small places: keep those
        # candidates only for big cities, so they cost nothing on ordinary text.
        # Phrases of everyday words ("Mountain View") keep towns of 20,000 or more; natural
        # features stay ("Death Valley", "Long Island": feature_name_ok has judged their words).
        if any(places[c][1] == CITY for c in ordered) and common_word(key, 4.5):
            least = 20_000 if " " in key else 100_000
            ordered = [c for c in ordered if places[c][1] != CITY or places[c][2] >= least]
        # Function words ("the", "of", "us") are never places, except a country code written
        # in capitals ("US", "UK"), which the pronoun flag checks.
        if common_word(key, 5.5):
            ordered = [c for c in ordered if places[c][1] == COUNTRY]
        if ordered:
            compact[key] = tuple(ordered[:12])
    # Names written as one word in hashtags, URLs and file names: "capetown", "newyork".
    origin = {k: k for k in compact}
    for key in [k for k in compact if 1 <= k.count(" ") <= 2 and k.isascii()]:
        joined = key.replace(" ", "")
        # ("do lores", a romanization, must not bring back the non-place word "dolores")
        if len(joined) >= 7 and joined not in compact and joined not in latin_non_place:
            compact[joined], origin[joined] = compact[key], key
    gaz: dict[str, list] = {c: [] for c in _GAZ_COLUMNS}
    for key, cands in compact.items():
        k0 = origin[key]
        links = [((k0, c) in own_link, tuple(sorted(forms.get((k0, c), ())))) for c in cands]
        at = [places[moved.get((k0, c), c)] for c in cands]
        _add_key_rows(gaz, key, [places[c] for c in cands], capitals, links, at)
    alt = town_alternatives(compact, index, places, own_name)
    names = {"key": [], "vague": [], "pronoun": []}
    for key in compact:
        names["key"].append(key)
        names["vague"].append(False)
        names["pronoun"].append(" " not in key and len(key) <= 3 and zipf(key) >= 5.5)
    # Vague regions are names with no candidates: the longest match consumes them, so
    # "Latin America" never falls back to "America"; so are the non-place phrases.
    for key in sorted((VAGUE | spanning | phrases) - compact.keys()):
        names["key"].append(key)
        names["vague"].append(True)
        names["pronoun"].append(False)
    country: dict[str, tuple] = {}
    for p in places:
        if p[1] == COUNTRY and (p[0] not in country or p[2] > country[p[0]][2]):
            country[p[0]] = p
    return {
        "g_gaz": pa.table(gaz),
        "g_alt": alt,
        "g_div": division_points(compact, index, places, own_link),
        "g_names": pa.table(names),
        "g_country": pa.table(
            {
                "cc": list(country),
                "gid": [p[3] for p in country.values()],
                "lat": [p[4] for p in country.values()],
                "lon": [p[5] for p in country.values()],
            }
        ),
    }


_GAZ_COLUMNS = [
    "key",
    "cc",
    "gid",
    "lat",
    "lon",
    "a1",
    "n_strong",
    "country_z43",
    "city_z3",
    "forms",
    *(f"f_{f}" for f in STATIC_FEATURES),
]


def _add_key_rows(
    gaz: dict[str, list],
    key: str,
    cands: list[tuple],
    capitals: set,
    links: list[tuple],
    at: list[tuple],
) -> None:
    """One row per candidate country of `key`: its best place and the name-only features.
    `links[i]` = (is `key` the place's own name?, its names under `key` written with marks);
    `at[i]`: the place whose point and division a mention of `cands[i]` takes."""
    cjk = bool(CJK.search(key))
    z = 0.0 if cjk else zipf(key)
    n_tok = key.count(" ") + 1
    # Multi-word names made of everyday words: "The Gap", "Iron Mountain", "White Oak".
    words = content_words(key)
    all_common = n_tok > 1 and bool(words) and all(zipf(w) >= 3.5 for w in words)
    dw = not cjk and dict_word(key)
    pn = not cjk and person_name(key)
    by_country: dict[str, tuple] = {}
    link: dict[str, tuple] = {}
    point: dict[str, tuple] = {}
    n_strong: dict[str, int] = {}
    for p, lk, q in zip(cands, links, at, strict=True):
        cc, kind, pop = p[0], p[1], p[2]
        if cc not in by_country or _rank(kind, pop, lk[0], p[7]) < _rank(
            *by_country[cc][1:3], link[cc][0], by_country[cc][7]
        ):
            by_country[cc], link[cc], point[cc] = p, lk, q
        n_strong[cc] = n_strong.get(cc, 0) + (kind in (COUNTRY, ADMIN1))
    top_pop = max(p[2] for p in by_country.values())
    for cc, (_, k, pop, _, _, _, _, prom) in by_country.items():
        gid, lat, lon, a1 = point[cc][3:7]
        city = k == CITY
        lp = math.log10(pop + 1) if city else 0.0
        f = {
            "country": k == COUNTRY,
            "demonym": k == DEMONYM,
            "us_state": k == ADMIN1 and cc == "US",
            "admin1": k == ADMIN1 and cc != "US",
            "admin1_common_word": k == ADMIN1 and z >= 4.0,
            "city": city,
            "city_log_pop": lp,
            "city_pop_100k": city and pop >= 100_000,
            "city_pop_1m": city and pop >= 1_000_000,
            "city_capital": city and (cc, key) in capitals,
            # Natural features and landmarks (Natural Earth; GeoNames H/L/S/T/U/V classes).
            "feature": k == FEATURE,
            "feature_prominence": prom if k == FEATURE else 0.0,
            # Fame that is not word frequency: Natural Earth's map rank (0 off the map).
            "city_prominence": prom if city else 0.0,
            # Houston, Charlotte, Florence: people's names too, so they need context.
            "city_person_name": city and pn,
            # Frequent because famous: a big city's name that is neither an everyday word nor
            # a common person's name (Liverpool, Rome, Dallas; not Reading, not Charlotte).
            "city_famous_name": city and pop >= 100_000 and z >= 3.0 and not dw and not pn,
            # Only another language's name for the town ("Cancun" is also Changchun's).
            "city_alias": city and not link[cc][0],
            # How common the name is as English text, for every kind of place it can be
            # (a town, a division, a feature alike): the same words, the same doubt.
            "name_zipf": z if k in (CITY, ADMIN1, FEATURE) else 0.0,
            "city_common_word": city and z >= 4.0,
            "city_pop_500k": city and pop >= 500_000,
            # Everyday words are dictionary headwords; famous names are not ("rome", "boston").
            "city_dict_word": city and dw,
            "city_dict_zipf": z if city and dw else 0.0,
            "multi_all_common": all_common,
            "n_tokens": min(n_tok, 3) - 1.0,
            "short": len(key) <= 4,
            "one_over_n_countries": 1.0 / len(by_country),
            "most_populous": city and pop >= top_pop,
        }
        row = {
            "key": key,
            "cc": cc,
            "gid": gid,
            "lat": lat,
            "lon": lon,
            "a1": a1,
            "n_strong": n_strong[cc],
            "country_z43": k == COUNTRY and z >= 4.3,
            "city_z3": city and z >= 3.0,
            "forms": list(link[cc][1]) or None,
        }
        for c in _GAZ_COLUMNS:
            gaz[c].append(row[c] if c in row else float(f[c[2:]]))


def _index_path(con, warehouse: str | None) -> Path | None:
    if not warehouse or warehouse == ":memory:":
        return None
    from geosql.paths import models_dir

    n = con.sql(
        "SELECT (SELECT count(*) FROM places), (SELECT count(*) FROM place_names)"
    ).fetchall()[0]
    name = f"gazetteer-v{GAZETTEER_VERSION}-{source_digest()}-{n[0]}-{n[1]}.duckdb"
    return models_dir(warehouse) / name


def warehouse_path(con) -> str | None:
    """File path of the database `con` is attached to (None for in-memory)."""
    rows = con.sql(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def load_gazetteer(con) -> dict[str, pa.Table] | Path:
    """The gazetteer of this warehouse: a small DuckDB file cached beside it (built on first
    use, rebuilt when the reference data changes); the tables themselves for in-memory ones."""
    from geosql.errors import GeosqlError

    if not con.sql("SELECT count(*) FROM places").fetchall()[0][0]:
        raise GeosqlError("no reference data in this warehouse: run `geosql init` first")
    path = _index_path(con, warehouse_path(con))
    if path is not None and path.exists():
        if _readable(path):
            return path
        path.unlink()  # damaged (a truncated copy, a full disk): rebuilt below
    tables = build_gazetteer(con)
    if path is None:
        return tables
    for old in path.parent.glob("gazetteer-*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    db = _private_db(tmp)
    _materialize(db, tables)
    db.close()
    tmp.rename(path)  # atomic: a crash never leaves a half-written index
    return path


def _readable(path: Path) -> bool:
    """Whether a cached index opens and reads back whole (every table scanned once)."""
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as db:
            for (name,) in db.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                db.execute(f"SELECT count(*) FROM (SELECT * FROM {name})").fetchall()
        return True
    except duckdb.Error:
        return False


def _materialize(db, tables: dict[str, pa.Table]) -> None:
    """Create the engine's lookup tables (g_gaz, g_names, g_prefix, g_tri, g_country, g_codes,
    g_words, g_common) in `db`'s current database. The name tables are sorted by key: a small
    batch's lookups then skip most of their row groups (a third of the fixed cost per parse)."""
    for name, t in {**tables, **word_tables()}.items():
        db.register("_t", t)
        order = " ORDER BY key" if name in ("g_gaz", "g_names") else ""
        db.execute(f"CREATE TABLE {name} AS FROM _t{order}")
        db.unregister("_t")
    db.execute(
        # Fuzzy retrieval: trigrams of the names of countries, divisions, cities of 15,000+.
        "CREATE TABLE g_tri AS WITH k AS (SELECT DISTINCT key FROM g_gaz WHERE length(key) >= 5"
        " AND strlen(key) = length(key) AND NOT contains(key, '#') AND (f_country > 0"
        " OR f_admin1 > 0 OR f_us_state > 0 OR f_city_log_pop >= log10(15001)))"
        " SELECT left(key, 1) AS first, unnest(geo_trigrams(key)) AS tri, key,"
        " len(geo_trigrams(key)) AS n FROM k;"
        "CREATE TABLE g_prefix AS SELECT array_to_string(string_split(key, ' ')[1:2], ' ')"
        " AS prefix, max(len(string_split(key, ' '))) AS span FROM g_names"
        " WHERE contains(key, ' ') GROUP BY 1 ORDER BY 1;"
        # Code and postcode mentions point at the country itself, with no name features.
        "CREATE TABLE g_country_full AS SELECT c.*, 1 AS n_strong,"
        " false AS country_z43, false AS city_z3, NULL::VARCHAR[] AS forms,"
        + ", ".join(
            f"{1.0 if f == 'one_over_n_countries' else 0.0}::DOUBLE AS f_{f}"
            for f in STATIC_FEATURES
        )
        + " FROM g_country c;"
        "DROP TABLE g_country; ALTER TABLE g_country_full RENAME TO g_country;"
    )


def _private_db(path: Path | None = None):
    """A DuckDB (in memory by default) with the geoparser's macros; never the warehouse."""
    import duckdb

    from geosql.paths import sql_dir

    db = duckdb.connect(str(path) if path else ":memory:")
    db.execute("SET enable_progress_bar = false")  # inner steps: the runner shows progress
    if path is None:
        # No automatic checkpoints: they compressed scratch tables, ~0.14 CPU s per 100k captions.
        db.execute("SET checkpoint_threshold = '1TB'")
    db.execute((sql_dir() / "geoparse" / "00_macros.sql").read_text(encoding="utf-8"))
    return db
