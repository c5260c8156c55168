"""Derive the geoparser's Natural Earth reference files from the two extracted Natural Earth
10m CSVs (public domain), which the project ships compressed in udfs/gazetteer/data/:

    .venv/bin/python scripts/build_naturalearth.py [--shared ../shared]

- naturalearth_places.csv.gz: populated places with a GeoNames id and their cartographic
  prominence (scalerank, labelrank, natscale, worldcity, megacity, adm0cap).
- naturalearth_features.csv.gz: named natural features and landmarks (lakes, national parks,
  islands, peaks, capes, gorges, deserts, seas...) as the names people write ("Lake Tahoe",
  "Mount Kilimanjaro", "Yosemite National Park", "Colorado River"), each with its country: the
  country of the GeoNames towns nearest its representative point. A feature whose 20 nearest
  towns (within 150 km) lie in more than one country spans a border and is no evidence of one:
  it is written with kind 'vague' (its words are consumed, no place is named: "Gulf of Mexico",
  "Lake Victoria"); so is a feature with no town within 150 km (open sea, ice).
Needs a warehouse with the bundled reference data (the `places` table) for the towns.
Deterministic: same inputs, same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import sys
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "udfs" / "gazetteer" / "data"
sys.path.insert(0, str(ROOT))

# Natural Earth classes kept, and the word that names the kind when the name lacks one.
KEEP = {
    "Lake": "lake", "Reservoir": "reservoir", "Alkaline Lake": "lake",
    "National Park Service": "park", "Island": "island", "island": "island",
    "Island group": "islands", "mountain": "peak", "cape": "cape", "Pen/cape": "cape",
    "Peninsula": "peninsula", "waterfall": "falls", "Gorge": "gorge", "Valley": "valley",
    "Delta": "delta", "Desert": "desert", "Plateau": "plateau", "Range/mtn": "range",
    "River": "river", "sea": "sea", "gulf": "gulf", "bay": "bay", "strait": "strait",
    "sound": "sound", "channel": "channel", "lagoon": "lagoon", "fjord": "fjord",
    "Basin": "basin", "Plain": "plain", "Coast": "coast", "Lowland": "lowland",
    "Wetlands": "wetlands", "Foothills": "foothills", "Isthmus": "isthmus", "ocean": "ocean",
}  # fmt: skip
ABBREV = [
    (r"\bMt\.?(?=\s)", "Mount"), (r"\bMts\.?$", "Mountains"), (r"\bPk\.?$", "Peak"),
    (r"\bI\.$", "Island"), (r"^I\.\s", "Island "), (r"\bIs\.$", "Islands"),
    (r"\bPen\.$", "Peninsula"), (r"\bC\.$", "Cape"), (r"^C\.\s", "Cape "), (r"\bL\.$", "Lake"),
    (r"\bNP$", "National Park"), (r"\bNHP$", "National Historical Park"),
    (r"\bNM$", "National Monument"), (r"\bNRA$", "National Recreation Area"),
    (r"\bNS$", "National Seashore"), (r"\bNSR$", "National Scenic Riverway"),
    (r"\bN\.P\.$", "National Park"), (r"\bSt\.(?=\s)", "St"),
]  # fmt: skip
# A lake named in another language ("Lago di Como", "Lac Mistassini", "Ozero Baykal"): the
# name without the lake word, which English writes as "Lake X" ("Lake Como").
FOREIGN_LAKE = re.compile(
    r"^(?:Lago|Lac|Lagoa|Laguna|Ozero)\s+(?:(?:di|de|del|della|du|des|dos|da|do)\s+|d'\s*)?(.+)$"
)


def forms(name: str, kind: str) -> list[str]:
    """The names people write for a feature: abbreviations expanded, capitals to title case,
    rivers with "River", parks with "National Park" and "NP"."""
    n = name.strip()
    if n.isupper():
        n = n.title()
    for rx, full in ABBREV:
        n = re.sub(rx, full, n)
    n = re.sub(r"^(.+) \((Lough|Loch)\)$", r"\2 \1", n)  # "Corrib (Lough)": Lough Corrib
    out = [n]
    low = n.lower()
    foreign = FOREIGN_LAKE.match(n) if kind in ("lake", "reservoir") else None
    if kind == "river" and "river" not in low and "creek" not in low:
        out = [f"{n} River"]  # a bare river name is a town's name more often than not
    elif kind == "park" and "park" not in low and "national" not in low:
        out += [f"{n} National Park", f"{n} NP"]  # "Death Valley NP", as captions write it
    elif foreign:
        out.append(f"Lake {foreign.group(1)}")
    elif kind == "lake" and "lake" not in low and "loch" not in low and "lough" not in low:
        out = [f"Lake {n}", f"{n} Lake"]
    elif n.startswith("Mount "):
        out.append("Mt " + n[6:])
    if kind == "park":  # as visitors write them: "Great Smoky Mountain National Park",
        # "Smoky Mountains National Park" (the name's own words still carry it)
        out += [f.replace(" Mountains", " Mountain") for f in out]
        out += [f[6:] for f in out if f.startswith("Great ") and f.count(" ") >= 4]
    return sorted(set(out))


def build(shared: Path, warehouse: Path) -> None:
    pp = pl.read_csv(
        shared / "data/naturalearth/naturalearth_populated_places.csv", infer_schema_length=None
    )
    places = (
        pp.filter(pl.col("geonameid").is_not_null())
        .select(
            pl.col("geonameid").cast(pl.Int64),
            pl.col("iso_a2").alias("country_code"),
            "name",
            *(pl.col(c).cast(pl.Int16) for c in ("scalerank", "labelrank", "natscale")),
            *(pl.col(c).cast(pl.Int8) for c in ("worldcity", "megacity", "adm0cap")),
            pl.col("latitude").round(4).alias("lat"),
            pl.col("longitude").round(4).alias("lon"),
        )
        .unique("geonameid", keep="first")
        .sort("geonameid")
    )
    _write(places, DATA / "naturalearth_places.csv.gz")
    nf = pl.read_csv(
        shared / "data/naturalearth/naturalearth_named_features.csv", infer_schema_length=None
    ).filter(pl.col("featurecla").is_in(list(KEEP)) & pl.col("name").is_not_null())
    rows = []
    for r in nf.iter_rows(named=True):
        kind = KEEP[r["featurecla"]]
        for f in forms(r["name"], kind):
            rows.append((f, kind, r["lat"], r["lon"], int(float(r["scalerank"] or 10))))
    feats = pl.DataFrame(
        rows, schema=["name", "kind", "lat", "lon", "scalerank"], orient="row"
    ).with_row_index("fid")
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
    con.register("feats", feats.to_arrow())
    # Towns near each feature (1-degree cells around it), the 20 nearest within 150 km.
    near = con.sql(
        """
        WITH t AS (SELECT country_code AS cc, lat, lon, round(lat) AS la, round(lon) AS lo
                   FROM w.places WHERE feature_class = 'P' AND lat IS NOT NULL),
        c AS (SELECT f.fid, t.cc,
                     2 * 6371 * asin(sqrt(pow(sin(radians(t.lat - f.lat) / 2), 2)
                       + cos(radians(f.lat)) * cos(radians(t.lat))
                       * pow(sin(radians(t.lon - f.lon) / 2), 2))) AS km
              FROM feats f JOIN t ON t.la BETWEEN round(f.lat) - 1 AND round(f.lat) + 1
                                 AND t.lo BETWEEN round(f.lon) - 1 AND round(f.lon) + 1),
        n AS (SELECT * FROM c WHERE km <= 150
              QUALIFY row_number() OVER (PARTITION BY fid ORDER BY km, cc) <= 20)
        SELECT fid, min(cc) AS cc, count(DISTINCT cc) AS n_cc FROM n GROUP BY fid
        """
    ).pl()
    out = (
        feats.join(near, on="fid", how="left")
        .with_columns(
            pl.when(pl.col("n_cc") == 1).then(pl.col("cc")).alias("country_code"),
            pl.when(pl.col("n_cc") == 1)
            .then(pl.lit("feature"))
            .otherwise(pl.lit("vague"))
            .alias("use"),
        )
        .select(
            "name",
            "kind",
            "use",
            "country_code",
            pl.col("lat").round(4),
            pl.col("lon").round(4),
            "scalerank",
        )  # fmt: skip
        .unique(["name", "kind", "country_code"], keep="first", maintain_order=True)
        .sort("name", "kind", "country_code", nulls_last=True)
    )
    _write(out, DATA / "naturalearth_features.csv.gz")
    print(f"{places.height} places, {out.height} feature names"
          f" ({out.filter(pl.col('use') == 'vague').height} vague)")  # fmt: skip


def _write(df: pl.DataFrame, path: Path) -> None:
    buf = io.StringIO()
    df.write_csv(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(buf.getvalue().encode())


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--warehouse", default="warehouse/geosql.duckdb")
    a = ap.parse_args()
    build(Path(a.shared), Path(a.warehouse))
