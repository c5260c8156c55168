"""Find the first bad line of a caption file, for errors that name file, line and column.

DuckDB's readers say "Error when sniffing file" for a ragged CSV or an unbalanced quote and count
JSON lines differently; when a read fails, `first_problem` rereads the file in Python and says
exactly where and what, with the fix.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path


def _open_text(path: str) -> io.TextIOBase:
    if path.lower().endswith(".gz"):
        return io.TextIOWrapper(
            gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline=""
        )
    return open(path, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115


def is_empty(path: str) -> bool:
    """No bytes at all, or only whitespace."""
    if Path(path).stat().st_size == 0:
        return True
    with _open_text(path) as f:
        return not f.read(65536).strip()


def first_problem(
    path: str, fmt: str, id_col: str | None = None, limit: int = 2_000_000
) -> str | None:
    """'line N[, column C]: what is wrong (the fix)' for the first bad line, or None."""
    if is_empty(path):
        return "the file is empty (no header, no rows)"
    if fmt in ("csv", "tsv"):
        return _csv_problem(path, "\t" if fmt == "tsv" else ",", limit, id_col)
    if fmt == "jsonl":
        return _jsonl_problem(path, id_col, limit)
    return None


def _csv_problem(path: str, delim: str, limit: int, id_col: str | None = None) -> str | None:
    with _open_text(path) as f:
        reader = csv.reader(
            f, delimiter=delim, quotechar='"' if delim == "," else "\0", strict=True
        )
        start = 1
        try:
            header = next(reader)
            width = len(header)
            lower = [h.strip().lower() for h in header]
            id_at = lower.index(id_col.lower()) if id_col and id_col.lower() in lower else None
            start = reader.line_num + 1
            for row in reader:
                if reader.line_num > limit:
                    return None
                if row and len(row) != width:
                    return (
                        f"line {start}: {len(row)} fields, the header has {width}"
                        " (quote fields that contain the delimiter)"
                    )
                if id_at is not None and row and not row[id_at].strip():
                    return f"line {start}: column {id_col!r} (--id-col) is empty"
                start = reader.line_num + 1
        except csv.Error as e:
            msg = str(e)
            if "unexpected end of data" in msg or "EOF" in msg:
                return f"line {start}: a quoted field is never closed (unbalanced '\"')"
            return f"line {start}: {msg}"
    return None


def _jsonl_problem(path: str, id_col: str | None, limit: int) -> str | None:
    with _open_text(path) as f:
        for n, line in enumerate(f, start=1):
            if n > limit:
                return None
            if not line.strip():
                continue
            try:
                obj = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as e:
                return f"line {n}, column {e.colno}: {e.msg} (one JSON object per line)"
            if not isinstance(obj, dict):
                return f"line {n}: expected a JSON object, got {type(obj).__name__}"
            if id_col is not None and id_col in obj and obj[id_col] in ("", None):
                return f"line {n}: column {id_col!r} (--id-col) is empty"
    return None
