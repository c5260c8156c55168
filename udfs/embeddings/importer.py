"""Import vectors computed outside geosql into `embeddings` (no recomputation).

Sources: Parquet files with an id column and a list/array vector column, or clip-retrieval's
output layout (`img_emb/img_emb_N.npy` or `text_emb/text_emb_N.npy` beside
`metadata/metadata_N.parquet`, rows aligned by position). Files are streamed in chunks; vectors
are L2-normalised (their length kept in `norm`) and written in ONE transaction: a wrong
dimension, a zero or non-finite vector, a duplicate or an id that matches no caption raises a
one-line error naming the file and row, and nothing is written.
"""

from __future__ import annotations

import contextlib
import glob
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from geosql.db import literal
from geosql.errors import GeosqlError

CHUNK = 65_536
MATCH = ("caption_id", "url", "image_path")
_ID_GUESS = ("item_id", "caption_id", "id", "key")
_VEC_GUESS = ("embedding", "vector", "emb", "clip_emb", "image_embedding", "text_embedding")


@dataclass
class ImportSummary:
    kind: str
    model_key: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    dim: int = 0
    replaced: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.model_key} {self.kind}: {self.rows} vectors of dimension {self.dim} from "
            f"{len(self.files)} file(s), {self.replaced} replaced; {self.seconds:.1f}s "
            f"({rate:,.0f} vectors/s)"
        )


@dataclass
class _Source:
    label: str  # file named in errors
    vectors: Path  # .parquet or .npy
    metadata: Path | None = None  # clip-retrieval: the aligned metadata parquet


def find_sources(paths: Iterable[str | Path], kind: str) -> list[_Source]:
    """Parquet files (paths, globs, folders) and clip-retrieval folders, in order."""
    out: list[_Source] = []
    emb = "img_emb" if kind == "image" else "text_emb"
    for p in paths:
        s = str(p)
        hits = sorted(glob.glob(s, recursive=True)) if any(c in s for c in "*?[") else [s]
        if not hits:
            raise GeosqlError(f"{s}: no file matches this pattern")
        for h in map(Path, hits):
            if h.is_dir() and (h / emb).is_dir():
                out += _clip_retrieval(h, emb)
            elif h.is_dir():
                found = sorted(h.rglob("*.parquet"))
                if not found:
                    raise GeosqlError(f"{h}: folder has no .parquet files and no {emb}/ folder")
                out += [_Source(str(f), f) for f in found]
            elif h.is_file() and h.suffix == ".parquet":
                out.append(_Source(str(h), h))
            elif h.is_file() and h.suffix == ".npy":
                raise GeosqlError(
                    f"{h}: give the clip-retrieval output folder (holding {emb}/ and metadata/),"
                    " not the .npy file, so ids can be read from metadata/"
                )
            else:
                raise GeosqlError(f"{h}: not found (expected .parquet files or a folder)")
    if not out:
        raise GeosqlError("embeddings import needs at least one file")
    return out


def _clip_retrieval(root: Path, emb: str) -> list[_Source]:
    out = []
    for f in sorted((root / emb).glob(f"{emb}_*.npy"), key=_number):
        meta = root / "metadata" / f"metadata_{_number(f)}.parquet"
        if not meta.is_file():
            raise GeosqlError(f"{f}: no matching metadata file {meta}")
        out.append(_Source(str(f), f, meta))
    if not out:
        raise GeosqlError(f"{root / emb}: no {emb}_N.npy files")
    return out


def _number(f: Path) -> int:
    m = re.search(r"_(\d+)\.\w+$", f.name)
    return int(m.group(1)) if m else -1


def _pick(names: list[str], wanted: str | None, guesses: tuple[str, ...], what: str, label: str):
    lower = {n.lower(): n for n in names}
    if wanted is not None:
        if wanted.lower() not in lower:
            raise GeosqlError(f"{label}: column {wanted!r} ({what}) not found; columns: {names}")
        return lower[wanted.lower()]
    for g in guesses:
        if g in lower:
            return lower[g]
    raise GeosqlError(f"{label}: no {what} column among {names}; name it with {what}")


def _chunks(
    src: _Source, id_col: str | None, vector_col: str | None
) -> Iterator[tuple[int, pa.Array, np.ndarray]]:
    """(first row number, ids, float32 vectors) chunks of one source."""
    import pyarrow.parquet as pq

    if src.metadata is None:
        pf = pq.ParquetFile(src.vectors)
        names = pf.schema_arrow.names
        icol = _pick(names, id_col, _ID_GUESS, "--id-col", src.label)
        vcol = _pick(names, vector_col, _VEC_GUESS, "--vector-col", src.label)
        row = 0
        for b in pf.iter_batches(batch_size=CHUNK, columns=[icol, vcol]):
            yield row, b.column(0), _matrix(b.column(1), src.label, row, vcol)
            row += b.num_rows
        return
    pf = pq.ParquetFile(src.metadata)
    icol = _pick(pf.schema_arrow.names, id_col, _ID_GUESS, "--id-col", str(src.metadata))
    ids = pf.read(columns=[icol]).column(0).combine_chunks()
    vecs = np.load(src.vectors, mmap_mode="r")
    if vecs.ndim != 2:
        raise GeosqlError(f"{src.label}: expected a 2-d array of vectors, got shape {vecs.shape}")
    if len(vecs) != len(ids):
        raise GeosqlError(
            f"{src.label}: {len(vecs)} vectors but {src.metadata} has {len(ids)} rows"
        )
    for s in range(0, len(ids), CHUNK):
        yield s, ids.slice(s, CHUNK), np.asarray(vecs[s : s + CHUNK], dtype=np.float32)


def _matrix(col: pa.Array, label: str, row0: int, name: str) -> np.ndarray:
    """A list / fixed-size-list column -> (n, d) float32; ragged or null rows raise."""
    import pyarrow.compute as pc

    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)
            or pa.types.is_fixed_size_list(col.type)):  # fmt: skip
        raise GeosqlError(
            f"{label}: column {name!r} has type {col.type}, expected a list of floats"
        )
    if col.null_count:
        bad = row0 + int(np.flatnonzero(np.asarray(col.is_null()))[0])
        raise GeosqlError(f"{label}: row {bad + 1}: column {name!r} is empty (null vector)")
    lengths = np.asarray(pc.list_value_length(col), dtype=np.int64)
    if len(lengths) and (lengths != lengths[0]).any():
        i = int(np.flatnonzero(lengths != lengths[0])[0])
        raise GeosqlError(
            f"{label}: row {row0 + i + 1}: vector of dimension {lengths[i]}, earlier rows have"
            f" {lengths[0]}"
        )
    d = int(lengths[0]) if len(lengths) else 0
    values = pc.list_flatten(col).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float32).reshape(len(col), d)


def import_embeddings(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    kind: str,
    model_key: str,
    *,
    id_col: str | None = None,
    vector_col: str | None = None,
    dataset: str | None = None,
    match: str = "caption_id",
) -> ImportSummary:
    """Load external vectors into `embeddings` for (kind, model_key), in one transaction.

    Ids are matched against `captions.<match>` (caption_id, url or image_path); with `dataset`,
    ids are prefixed '<dataset>:' (as `geosql ingest --id-col` builds caption ids) and only that
    dataset's captions match. Rows already present for (item, kind, model_key) are replaced.
    """
    t0 = time.perf_counter()
    if kind not in ("image", "text"):
        raise GeosqlError(f"--kind must be image or text, not {kind!r}")
    if not model_key.strip():
        raise GeosqlError("--model-key must not be empty (e.g. 'ViT-B-32/openai')")
    if match not in MATCH:
        raise GeosqlError(f"--match must be one of {', '.join(MATCH)}")
    sources = find_sources(paths, kind)
    summary = ImportSummary(kind, model_key, [s.label for s in sources])
    have = con.execute(
        "SELECT DISTINCT dim FROM embeddings WHERE model_key = ?", [model_key]
    ).fetchall()
    dim = have[0][0] if have else None
    w = _Writer(con, kind, model_key, dataset, match)
    con.begin()
    try:
        w.existing = w.count() > 0
        if match != "caption_id":
            w.key_table()
        for src in sources:
            for row0, ids, vecs in _chunks(src, id_col, vector_col):
                if dim is None:
                    dim = vecs.shape[1]
                if vecs.shape[1] != dim:
                    where = "this import" if not have else f"embeddings of {model_key!r}"
                    raise GeosqlError(
                        f"{src.label}: row {row0 + 1}: vectors of dimension {vecs.shape[1]},"
                        f" but {where} have dimension {dim}; use another --model-key"
                    )
                norms = np.linalg.norm(vecs.astype(np.float64), axis=1)
                bad = np.flatnonzero(~np.isfinite(norms) | (norms == 0))
                if len(bad):
                    raise GeosqlError(
                        f"{src.label}: row {row0 + bad[0] + 1}: zero or non-finite vector"
                        " (cannot be L2-normalised)"
                    )
                unit = (vecs / norms[:, None]).astype(np.float32)
                try:
                    w.write(src, row0, ids, unit, norms)
                except _Repeated:
                    label, rn, raw = _first_repeat(sources, id_col, vector_col)
                    raise GeosqlError(f"{label}: row {rn}: id {raw!r} given twice") from None
                summary.rows += len(unit)
        w.check(sources, id_col, vector_col)
        summary.replaced = w.replaced
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS _geosql_emb_keys")
    summary.dim = int(dim or 0)
    summary.seconds = time.perf_counter() - t0
    return summary


class _Writer:
    """Writes chunks tagged with this import's config_key. Rows already there for (kind, model
    key) are deleted chunk by chunk only when there are any (with the table's primary key a
    DELETE costs about 3x the INSERT, INSERT OR REPLACE 7x); a caption given twice trips the
    primary key. Unknown ids are found once at the end, so the cost stays linear."""

    def __init__(self, con, kind: str, model_key: str, dataset: str | None, match: str):
        self.con, self.kind, self.key, self.match = con, kind, model_key, match
        self.prefix = f"{dataset}:" if dataset and match == "caption_id" else ""
        self.dataset = dataset
        self.tag = f"import:{time.strftime('%Y%m%dT%H%M%S')}:{uuid.uuid4().hex[:6]}"
        self.written = self.replaced = 0
        self.existing = True

    def count(self) -> int:
        return self.con.execute(
            "SELECT count(*) FROM embeddings WHERE kind = ? AND model_key = ?",
            [self.kind, self.key],
        ).fetchall()[0][0]

    def key_table(self) -> None:
        """url / image_path -> caption ids, once (a chunk joins this, not all of captions)."""
        scope = "AND dataset = $dataset" if self.dataset else ""
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _geosql_emb_keys AS SELECT {self.match} AS k,"
            f" caption_id FROM captions WHERE {self.match} IS NOT NULL {scope}",
            {"dataset": self.dataset} if self.dataset else {},
        )

    def write(self, src: _Source, row0: int, ids: pa.Array, unit: np.ndarray, norms) -> None:
        n, d = unit.shape
        chunk = pa.table(
            {
                "rn": pa.array(np.arange(row0 + 1, row0 + n + 1)),
                "id": ids.cast(pa.string()),
                "embedding": pa.ListArray.from_arrays(
                    pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int32)), pa.array(unit.ravel())
                ),
                "norm": pa.array(norms.astype(np.float32)),
            }
        )
        con = self.con
        params = {"kind": self.kind, "key": self.key, "tag": self.tag}
        if self.match == "caption_id":
            rows = f"SELECT {literal(self.prefix)} || id AS caption_id, * FROM _geosql_emb_chunk"
        else:
            rows = "SELECT k.caption_id, e.* FROM _geosql_emb_chunk e JOIN _geosql_emb_keys k ON k.k = e.id"
        con.register("_geosql_emb_chunk", chunk)
        try:
            if self.match != "caption_id":
                miss = con.execute(
                    "SELECT min(rn), count(*), arg_min(id, rn) FROM _geosql_emb_chunk e"
                    " WHERE NOT EXISTS (SELECT 1 FROM _geosql_emb_keys k WHERE k.k = e.id)"
                ).fetchall()[0]
                if miss[1]:
                    raise _unknown(src.label, miss[0], miss[2], miss[1], self.match)
            if self.existing:  # rows of another import or clip-embed: replace them
                self.replaced += con.execute(
                    "DELETE FROM embeddings WHERE kind = $kind AND model_key = $key AND"
                    f" config_key IS DISTINCT FROM $tag AND item_id IN (SELECT caption_id"
                    f" FROM ({rows}))",
                    params,
                ).fetchall()[0][0]
            try:
                self.written += con.execute(
                    "INSERT INTO embeddings (item_id, kind, model_key, dim, embedding, norm,"
                    f" config_key) SELECT caption_id, $kind, $key, {d}, embedding, norm, $tag"
                    f" FROM ({rows})",
                    params,
                ).fetchall()[0][0]
            except duckdb.ConstraintException as e:  # the primary key: a caption given twice
                raise _Repeated() from e
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses it
                con.unregister("_geosql_emb_chunk")

    def check(self, sources: list[_Source], id_col, vector_col) -> None:
        """Once, after the last chunk: ids that match no caption, captions given twice."""
        con, params = self.con, {"tag": self.tag, "kind": self.kind, "key": self.key}
        tagged = "FROM embeddings WHERE kind = $kind AND model_key = $key AND config_key = $tag"
        if self.match == "caption_id":
            miss = con.execute(
                f"SELECT count(*), min(item_id) {tagged} AND item_id NOT IN"
                " (SELECT caption_id FROM captions)",
                params,
            ).fetchall()[0]
            if miss[0]:
                label, rn, raw = _locate(sources, id_col, vector_col, self.prefix, miss[1])
                raise _unknown(label, rn, raw, miss[0], self.match, total=True)


class _Repeated(Exception):
    """A chunk's INSERT hit the primary key (the caller names the repeated id)."""


def _unknown(label, rn, raw, n, match, total: bool = False) -> GeosqlError:
    where = "in this import" if total else "in this chunk"
    return GeosqlError(
        f"{label}: row {rn}: id {raw!r} matches no caption ({n} such rows {where}; --match"
        f" {match}); ingest the captions first, or set --dataset / --match"
        f" ({'/'.join(MATCH)}) / --id-col"
    )


def _ids(sources: list[_Source], id_col, vector_col):
    """(label, row number, id) of every input row (the error paths re-read the ids only)."""
    for src in sources:
        for row0, ids, _ in _chunks(src, id_col, vector_col):
            for i, v in enumerate(ids.cast(pa.string()).to_pylist()):
                yield src.label, row0 + i + 1, v


def _locate(sources, id_col, vector_col, prefix: str, item_id: str) -> tuple[str, int, str]:
    for label, rn, v in _ids(sources, id_col, vector_col):
        if prefix + str(v) == item_id:
            return label, rn, prefix + str(v)
    return sources[0].label, 0, item_id


def _first_repeat(sources, id_col, vector_col) -> tuple[str, int, str]:
    """The first input row whose id came before (url / image_path: the same value twice)."""
    seen: set[str] = set()
    for label, rn, v in _ids(sources, id_col, vector_col):
        if v in seen:
            return label, rn, v
        seen.add(v)
    return sources[0].label, 0, "?"
