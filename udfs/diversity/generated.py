"""`ingest-generated`: generated images -> captions with entity and known country (method label).

Two layouts: a folder of `{entity}_{country}/…` sub-folders holding images (`house_india/1.png`,
`living_room_south_korea/a/b.jpg`; underscores stand for spaces), or a CSV with columns
`path, entity, country` (optional `prompt`; relative paths are taken from the CSV's folder).
The rows go through `geosql.ingest.ingest()` (one transaction) with `country_col`, which stores
each country as a `geo_predictions` row of method and config_key 'label'.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import duckdb

from geosql.countries import country_names, normalize_country
from geosql.errors import GeosqlError
from geosql.ingest import IngestSummary, ingest
from geosql.paths import models_dir

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def split_folder_name(name: str) -> tuple[str, str]:
    """`living_room_south_korea` -> ('living room', 'KR'): the first split whose right part is
    a country (so the entity is as short as it can be)."""
    parts = [p for p in name.replace("-", "_").split("_") if p]
    for i in range(1, len(parts)):
        code = normalize_country(" ".join(parts[i:]))
        if code:
            return " ".join(parts[:i]).lower(), code
    raise GeosqlError(
        f"{name}: folder name is not '{{entity}}_{{country}}' with a known country"
        " (e.g. house_india, living_room_south_korea)"
    )


def scan_folder(root: Path) -> list[dict[str, str]]:
    """Rows (id, path, entity, country) for the images under `{entity}_{country}/` folders."""
    rows = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        entity, code = split_folder_name(sub.name)
        for f in sorted(sub.rglob("*")):
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
                rel = f.relative_to(root).as_posix()
                rows.append(
                    {"id": rel, "path": str(f.resolve()), "entity": entity, "country": code}
                )
    if not rows:
        raise GeosqlError(
            f"{root}: no images found in {{entity}}_{{country}}/ sub-folders"
            f" ({', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return rows


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows (id, path, entity, country, prompt) of a CSV of path, entity, country[, prompt]."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = {c.strip().lower(): c for c in reader.fieldnames or []}
        missing = [c for c in ("path", "entity", "country") if c not in cols]
        if missing:
            raise GeosqlError(
                f"{path}: line 1: missing column(s) {', '.join(missing)};"
                " the CSV needs path, entity, country (and optionally prompt)"
            )
        rows = []
        for line, r in enumerate(reader, start=2):
            p, ent, country = (str(r[cols[c]] or "").strip() for c in ("path", "entity", "country"))
            if not p or not ent:
                raise GeosqlError(f"{path}: line {line}: empty path or entity")
            code = normalize_country(country)
            if code is None:
                raise GeosqlError(
                    f"{path}: line {line}: column 'country': unknown country {country!r};"
                    " write a country name or ISO code"
                )
            full = Path(p) if Path(p).is_absolute() else (path.parent / p)
            prompt = str(r.get(cols.get("prompt", ""), "") or "").strip()
            rows.append(
                {"id": p, "path": str(full), "entity": ent, "country": code, "prompt": prompt}
            )
    if not rows:
        raise GeosqlError(f"{path}: no rows")
    return rows


def ingest_generated(
    con: duckdb.DuckDBPyConnection, source: str | Path, dataset: str
) -> IngestSummary:
    """Ingest generated images (a folder or a CSV) as captions of `dataset` with their entity
    and a known country (method 'label'); caption_id is '<dataset>:<relative path>'."""
    src = Path(source)
    if src.is_dir():
        rows = scan_folder(src)
    elif src.is_file() and src.suffix.lower() == ".csv":
        rows = read_csv(src)
    else:
        raise GeosqlError(f"{src}: not a folder of {{entity}}_{{country}}/ images nor a .csv")
    names = country_names()
    with tempfile.TemporaryDirectory(prefix="geosql-generated-") as d:
        tmp = _manifest_dir(con, Path(d)) / f"{dataset}-{src.name}.csv"
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "text", "image_path", "entity", "country"])
            for r in rows:  # country names (not codes: 'NA'/'NO' read as words)
                w.writerow(
                    [r["id"], r.get("prompt", ""), r["path"], r["entity"], names[r["country"]]]
                )
        summary = ingest(
            con,
            [tmp],
            dataset,
            text_col="text",
            id_col="id",
            image_col="image_path",
            entity_col="entity",
            country_col="country",
        )
    summary.files = [str(src)]
    return summary


def _manifest_dir(con: duckdb.DuckDBPyConnection, tmp: Path) -> Path:
    """Where the manifest CSV (captions.source_file) is kept: beside a file warehouse."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    path = rows[0][0] if rows else None
    if not path:
        return tmp
    d = models_dir(path) / "generated"
    d.mkdir(parents=True, exist_ok=True)
    return d
