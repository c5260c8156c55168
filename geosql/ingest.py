"""Caption ingest: CSV/TSV/Parquet/JSONL shards -> `captions` and `caption_entities`.

Files are read with DuckDB's readers (globs, many shards, `union_by_name`), checked file by file
(required columns present, types usable), staged, and inserted in one transaction: any bad input
raises a one-line GeosqlError and leaves the warehouse exactly as it was. Rows whose caption_id
is already present are skipped, so re-ingesting the same rows adds nothing. Entities are tagged
in SQL with one RE2 regexp per entity (case-insensitive, word boundaries, plural forms).
A country column (`country_col`) is stored as a `geo_predictions` row of method `label`.
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from geosql.db import literal
from geosql.diagnose import first_problem, is_empty
from geosql.errors import GeosqlError

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
_TEXT_TYPES = {"VARCHAR", "NULL", '"NULL"'}
_ID_TYPES = _TEXT_TYPES | {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "UUID",
}  # fmt: skip
_IRREGULAR = {
    "man": "men", "woman": "women", "person": "people", "child": "children", "foot": "feet",
    "tooth": "teeth", "mouse": "mice", "goose": "geese", "leaf": "leaves", "knife": "knives",
    "wife": "wives", "life": "lives", "shelf": "shelves", "wolf": "wolves", "loaf": "loaves",
    "half": "halves", "thief": "thieves", "ox": "oxen", "cactus": "cacti",
}  # fmt: skip
_B = r"[^\p{L}\p{N}_]"  # a non-word character, Unicode-aware (RE2's \b is ASCII only)
STAGE = "_geosql_ingest"
LABEL = "label"  # method and config_key of the countries given by the dataset (--country-col)


@dataclass
class IngestSummary:
    """What one ingest did."""

    dataset: str
    files: list[str]
    rows_read: int = 0
    captions_added: int = 0
    already_present: int = 0
    duplicates_in_input: int = 0
    entities_added: dict[str, int] = field(default_factory=dict)
    labels_added: int = 0
    labels_empty: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.rows_read / self.seconds if self.seconds > 0 else 0.0
        tags = ", ".join(f"{k}: {v}" for k, v in sorted(self.entities_added.items()))
        return (
            f"{self.dataset}: {self.rows_read} rows read from {len(self.files)} file(s), "
            f"{self.captions_added} captions added, {self.already_present} already present, "
            f"{self.duplicates_in_input} duplicate ids in input; entity tags added: "
            f"{sum(self.entities_added.values())}{f' ({tags})' if tags else ''}; "
            + (
                f"country labels added: {self.labels_added} ({self.labels_empty} empty); "
                if self.labels_added or self.labels_empty
                else ""
            )
            + f"{self.seconds:.1f}s ({rate:,.0f} rows/s)"
        )


# ---------------------------------------------------------------- entities


def normalize_entity(word: str) -> str:
    """The stored form of an entity: lower case, single spaces ("Living  Room" -> "living room")."""
    return " ".join(word.lower().split())


def plural_forms(word: str) -> list[str]:
    """Singular plus plural forms of one (lower-case) word: house/houses, city/cities, dress/dresses."""
    forms = [word]
    if word in _IRREGULAR:
        forms.append(_IRREGULAR[word])
    if re.search(r"(s|x|z|ch|sh)$", word):
        forms.append(word + "es")
    elif re.search(r"[^aeiou]y$", word):
        forms.append(word[:-1] + "ies")
    else:
        forms.append(word + "s")
        if word.endswith("o"):
            forms.append(word + "es")
    return list(dict.fromkeys(forms))


def entity_regex(entity: str) -> str:
    """RE2 pattern matching `entity` case-insensitively as whole words, last word singular or plural.

    Words of a multi-word entity may be separated by spaces or hyphens ("living-room").
    """
    words = normalize_entity(entity).split()
    if not words:
        raise GeosqlError("--entity needs a non-empty word")
    head = "".join(re.escape(w) + r"[\s\-]+" for w in words[:-1])
    last = "|".join(re.escape(f) for f in plural_forms(words[-1]))
    return f"(?i)(?:^|{_B}){head}(?:{last})(?:{_B}|$)"


# ---------------------------------------------------------------- files and columns


def _fmt_of(path: str) -> str:
    name = path.lower()
    for comp in (".gz", ".zst"):
        if name.endswith(comp):
            name = name[: -len(comp)]
    fmt = FORMATS.get(os.path.splitext(name)[1])
    if fmt is None:
        known = " ".join(FORMATS)
        raise GeosqlError(f"{path}: unknown file type (expected {known}, optionally .gz)")
    return fmt


def expand_paths(paths: Iterable[str | Path]) -> list[str]:
    """Files named by paths, globs (`**` recursive) and folders (their caption files), in order."""
    out: list[str] = []
    for p in paths:
        s = str(p)
        if os.path.isfile(s):  # a file named like a pattern (shard[1].csv) is that file
            found = [s]
        elif any(c in s for c in "*?["):
            found = sorted(f for f in glob.glob(s, recursive=True) if os.path.isfile(f))
            if not found:
                raise GeosqlError(f"{s}: no file matches this pattern")
        elif os.path.isdir(s):
            found = sorted(
                str(f)
                for f in Path(s).rglob("*")
                if f.is_file() and _known(str(f)) and not f.name.startswith(".")
            )
            if not found:
                raise GeosqlError(f"{s}: folder holds no .csv/.tsv/.parquet/.jsonl/.json files")
        else:
            raise GeosqlError(f"{s}: file not found")
        out.extend(f for f in found if f not in out)
    if not out:
        raise GeosqlError("ingest needs at least one file")
    return out


def _known(path: str) -> bool:
    try:
        _fmt_of(path)
        return True
    except GeosqlError:
        return False


def _reader(fmt: str, files: Sequence[str]) -> str:
    lst = "[" + ", ".join(literal(f) for f in files) + "]"
    common = "union_by_name = true, filename = '_geosql_source_file'"
    if fmt == "parquet":
        return f"read_parquet({lst}, {common})"
    if fmt in ("csv", "tsv"):
        delim = "\\t" if fmt == "tsv" else ","
        quote = "" if fmt == "tsv" else ", quote = '\"'"
        return (
            f"read_csv({lst}, {common}, all_varchar = true, header = true, skip = 0,"
            f" delim = E'{delim}', comment = ''{quote})"
        )
    jf = "newline_delimited" if fmt == "jsonl" else "auto"
    return f"read_json({lst}, {common}, format = '{jf}')"


def qident(name: str) -> str:
    """Quote a column name as it appears in the file (spaces and capitals allowed)."""
    return '"' + name.replace('"', '""') + '"'


def _one_line(e: Exception) -> str:
    """A DuckDB error message reduced to one line (no 'Possible fixes' or option dumps)."""
    keep = []
    for raw in str(e).splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("Possible fixes", "The search space", "* ", "file =", "LINE ", "^")):
            break
        if line.startswith("Original Line:"):
            line = line[:100]
        keep.append(line)
    msg = "; ".join(keep) or type(e).__name__
    msg = re.sub(r"^[A-Za-z ]*Error: ", "", msg)
    return msg[:500]


def _columns(con: duckdb.DuckDBPyConnection, path: str) -> dict[str, tuple[str, str]]:
    """Column name (lower case) -> (actual name, type) of one file."""
    fmt = _fmt_of(path)
    if is_empty(path):
        raise GeosqlError(f"{path}: the file is empty (no header, no rows)")
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {_reader(fmt, [path])}").fetchall()
    except duckdb.Error as e:
        where = first_problem(path, fmt)
        raise GeosqlError(f"{path}: {where or 'cannot read: ' + _one_line(e)}") from e
    return {r[0].lower(): (r[0], r[1]) for r in rows if r[0] != "_geosql_source_file"}


def check_columns(
    con: duckdb.DuckDBPyConnection, files: Sequence[str], wanted: dict[str, str | None]
) -> dict[str, str]:
    """Check every file has the wanted columns with usable types; return role -> actual name.

    wanted: role -> column name (None = not asked for). Roles: text, id, url, image, language,
    entity, country.
    """
    actual: dict[str, str] = {}
    for f in files:
        cols = _columns(con, f)
        for role, name in wanted.items():
            if name is None:
                continue
            hit = cols.get(name.lower())
            if hit is None:
                have = ", ".join(c[0] for c in cols.values())
                raise GeosqlError(f"{f}: column {name!r} (--{role}-col) not found; columns: {have}")
            ok = _ID_TYPES if role == "id" else _TEXT_TYPES
            if hit[1] not in ok:
                raise GeosqlError(
                    f"{f}: column {hit[0]!r} (--{role}-col) has type {hit[1]}, expected "
                    + ("text or integer" if role == "id" else "text")
                )
            actual.setdefault(role, hit[0])
    return actual


def _locate_bad_file(con: duckdb.DuckDBPyConnection, files: Sequence[str], e: Exception) -> str:
    """Name the file behind a read error: from the message, else by reading each file."""
    msg = str(e)
    for f in files:
        if f in msg or os.path.basename(f) in msg:
            return f"{f}: {first_problem(f, _fmt_of(f)) or _one_line(e)}"
    for f in files:
        try:
            con.execute(f"SELECT count(*) FROM {_reader(_fmt_of(f), [f])}").fetchone()
        except duckdb.Error as e2:
            return f"{f}: {first_problem(f, _fmt_of(f)) or _one_line(e2)}"
    return f"{', '.join(files[:3])}: {_one_line(e)}"


# ---------------------------------------------------------------- ingest


def _select(
    fmt: str, files: Sequence[str], cols: dict[str, str], dataset: str, language: str | None
) -> str:
    def col(role: str) -> str:
        return f"CAST({qident(cols[role])} AS VARCHAR)" if role in cols else "NULL::VARCHAR"

    lang = col("language")
    if language is not None:
        lang = f"coalesce({lang}, {literal(language)})"
    if "id" in cols:  # an empty id is no id, in every format
        cid = f"{literal(dataset + ':')} || nullif(trim({col('id')}), '')"
    else:
        parts = ", ".join(f"coalesce({col(r)}, '')" for r in ("text", "url", "image"))
        cid = f"{literal(dataset + ':')} || md5(concat_ws(chr(0), {literal(dataset)}, {parts}))"
    ent = col("entity")
    return (
        f"SELECT {cid} AS caption_id, {lang} AS language, {col('text')} AS text,"
        f" {col('url')} AS url, {col('image')} AS image_path,"
        f" _geosql_source_file AS source_file, {ent} AS entity_raw,"
        f" {col('country')} AS country_raw FROM {_reader(fmt, files)}"
    )


def ingest(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    dataset: str,
    *,
    text_col: str = "text",
    id_col: str | None = None,
    url_col: str | None = None,
    image_col: str | None = None,
    language: str | None = None,
    language_col: str | None = None,
    entities: Iterable[str] = (),
    entity_col: str | None = None,
    country_col: str | None = None,
) -> IngestSummary:
    """Ingest caption files into `captions` (+ `caption_entities`) in one transaction.

    caption_id is "<dataset>:<id>" with `id_col`, else "<dataset>:" plus the md5 of (dataset,
    text, url, image path). `language` fills rows whose `language_col` is empty (or all rows).
    `entities` are tagged by word match; `entity_col` takes each row's entity from a column.
    `country_col` gives each image's country: stored in `geo_predictions` as method and
    config_key 'label' (normalised by the one country normalizer; an unknown name is an error
    naming the file and row; empty cells add no row).
    Rows whose caption_id exists already are skipped; their missing entity tags and country
    labels are added.
    """
    t0 = time.perf_counter()
    if not dataset or not dataset.strip():
        raise GeosqlError("--dataset must not be empty")
    files = expand_paths(paths)
    ents = list(dict.fromkeys(normalize_entity(e) for e in entities))
    patterns = {e: entity_regex(e) for e in ents}
    wanted = {
        "text": text_col,
        "id": id_col,
        "url": url_col,
        "image": image_col,
        "language": language_col,
        "entity": entity_col,
        "country": country_col,
    }
    cols = check_columns(con, files, wanted)
    by_fmt: dict[str, list[str]] = {}
    for f in files:
        by_fmt.setdefault(_fmt_of(f), []).append(f)
    src = " UNION ALL ".join(
        _select(fmt, fs, cols, dataset, language) for fmt, fs in by_fmt.items()
    )
    summary = IngestSummary(dataset, files)

    try:  # staging touches only this connection's temp schema, not the warehouse
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS {src}")
    except duckdb.Error as e:
        raise GeosqlError(_locate_bad_file(con, files, e)) from e
    try:
        if country_col is not None:
            _normalize_labels(con, country_col)
        _check_and_dedup(con, summary, id_col)
        con.begin()
        try:
            summary.captions_added = con.execute(
                f"INSERT INTO captions SELECT s.caption_id, {literal(dataset)}, s.language, s.text,"
                f" s.url, s.image_path, s.source_file FROM {STAGE} s"
                " WHERE NOT EXISTS (SELECT 1 FROM captions c WHERE c.caption_id = s.caption_id)"
            ).fetchone()[0]
            seen = summary.captions_added < summary.rows_read - summary.duplicates_in_input
            summary.entities_added = _tag_entities(con, patterns, entity_col is not None, seen)
            if country_col is not None:
                summary.labels_added, summary.labels_empty = _insert_labels(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS {STAGE}")
        con.execute("DROP TABLE IF EXISTS _geosql_label_map")
    summary.already_present = (
        summary.rows_read - summary.duplicates_in_input - summary.captions_added
    )
    summary.seconds = time.perf_counter() - t0
    return summary


def _check_and_dedup(
    con: duckdb.DuckDBPyConnection, summary: IngestSummary, id_col: str | None
) -> None:
    """Reject empty ids; keep the first row (file order) of each caption_id."""
    n, n_ids, n_null = con.execute(
        f"SELECT count(*), count(DISTINCT caption_id), count(*) - count(caption_id) FROM {STAGE}"
    ).fetchone()
    if n_null:
        f = con.execute(f"SELECT source_file FROM {STAGE} WHERE caption_id IS NULL LIMIT 1")
        path = f.fetchone()[0]
        where = first_problem(path, _fmt_of(path), id_col) if id_col else None
        raise GeosqlError(
            f"{path}: {where or f'column {id_col!r} (--id-col) is empty'}"
            f" ({n_null} row(s) with no id in all; give every row an id)"
        )
    summary.rows_read = n
    summary.duplicates_in_input = n - n_ids
    if n_ids < n:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM {STAGE}"
            " QUALIFY row_number() OVER (PARTITION BY caption_id ORDER BY rowid) = 1"
        )


def _tag_entities(
    con: duckdb.DuckDBPyConnection, patterns: dict[str, str], from_col: bool, seen: bool
) -> dict[str, int]:
    """Insert the (caption_id, entity) pairs not yet present; return entity -> tags added.

    seen: some input captions were already in the warehouse (their tags may exist). Otherwise
    word entities cannot collide with existing tags, and one INSERT per entity needs no anti-join.
    """
    absent = (
        " AND NOT EXISTS (SELECT 1 FROM caption_entities e"
        " WHERE e.caption_id = t.caption_id AND e.entity = t.entity)"
    )
    counts = {}
    for e, p in patterns.items():
        counts[e] = con.execute(
            f"INSERT INTO caption_entities SELECT * FROM (SELECT caption_id, {literal(e)} AS entity"
            f" FROM {STAGE} WHERE regexp_matches(text, {literal(p)})) t"
            f" WHERE TRUE{absent if seen else ''}"
        ).fetchone()[0]
    if from_col:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _geosql_tags AS SELECT * FROM (SELECT caption_id,"
            " lower(trim(regexp_replace(entity_raw, '\\s+', ' ', 'g'))) AS entity FROM"
            f" {STAGE} WHERE nullif(trim(entity_raw), '') IS NOT NULL) t WHERE TRUE{absent}"
        )
        con.execute("INSERT INTO caption_entities SELECT caption_id, entity FROM _geosql_tags")
        for e, n in con.execute("SELECT entity, count(*) FROM _geosql_tags GROUP BY 1").fetchall():
            counts[e] = counts.get(e, 0) + n
        con.execute("DROP TABLE _geosql_tags")
    return counts


# ---------------------------------------------------------------- country labels


def _normalize_labels(con: duckdb.DuckDBPyConnection, country_col: str) -> None:
    """Map every distinct given country name to ISO2 (temp table); unknown names raise.

    Uses the warehouse's `country_code()` macro when `country_aliases` is loaded, else the same
    normalizer in Python (`geosql.countries.normalize_country`).
    """
    raw = "nullif(trim(country_raw), '')"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _geosql_label_map AS"
        f" SELECT DISTINCT {raw} AS country_raw, NULL::VARCHAR AS iso2 FROM {STAGE}"
        f" WHERE {raw} IS NOT NULL"
    )
    if con.execute("SELECT count(*) FROM country_aliases").fetchone()[0]:
        con.execute("UPDATE _geosql_label_map SET iso2 = country_code(country_raw)")
    else:
        from geosql.countries import normalize_country

        names = [r[0] for r in con.execute("SELECT country_raw FROM _geosql_label_map").fetchall()]
        codes = [(normalize_country(n), n) for n in names]
        if codes:
            con.executemany("UPDATE _geosql_label_map SET iso2 = ? WHERE country_raw = ?", codes)
    bad = con.execute(
        "SELECT s.source_file, s.rn, s.country_raw, count(*) OVER () FROM ("
        f" SELECT source_file, {raw} AS country_raw,"
        f" row_number() OVER (PARTITION BY source_file ORDER BY rowid) AS rn FROM {STAGE}) s"
        " JOIN _geosql_label_map m USING (country_raw) WHERE m.iso2 IS NULL"
        " ORDER BY s.source_file, s.rn LIMIT 1"
    ).fetchone()
    if bad:
        f, rn, name, n = bad
        more = f" (and {n - 1} more row(s))" if n > 1 else ""
        raise GeosqlError(
            f"{f}: row {rn}: column {country_col!r} (--country-col): unknown country {name!r}"
            f"{more}; write a country name or ISO code (see `countries`/`country_aliases`)"
        )


def _insert_labels(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Insert the given countries as method 'label' predictions not yet present.

    Returns (rows added, rows with an empty country cell).
    """
    added = con.execute(
        "INSERT INTO geo_predictions (caption_id, method, country_code, confidence, evidence,"
        f" config_key) SELECT s.caption_id, {literal(LABEL)}, m.iso2, 1.0, m.country_raw,"
        f" {literal(LABEL)} FROM {STAGE} s"
        " JOIN _geosql_label_map m ON m.country_raw = nullif(trim(s.country_raw), '')"
        " WHERE NOT EXISTS (SELECT 1 FROM geo_predictions g"
        f" WHERE g.caption_id = s.caption_id AND g.method = {literal(LABEL)})"
    ).fetchone()[0]
    empty = con.execute(
        f"SELECT count(*) FROM {STAGE} WHERE nullif(trim(country_raw), '') IS NULL"
    ).fetchone()[0]
    con.execute(  # labels show in the views like a stage's results (caption_geo_status too)
        "INSERT INTO stage_current (stage, scope, config_key, how, outputs)"
        " SELECT 'ingest', ?, ?, 'ingest', ['geo_predictions'] WHERE NOT EXISTS"
        " (SELECT 1 FROM stage_current WHERE stage = 'ingest' AND scope = ?)",
        [LABEL, LABEL, LABEL],
    )
    return added, empty
