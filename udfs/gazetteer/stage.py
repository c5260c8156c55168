"""The `geoparse` stage (contract v2) and the `geoparse(text)` SQL UDF.

The work per caption is bounded: texts over `max_chars` become a per-row error, a caption keeps
at most `max_mentions` mentions (the first ones), and a batch is parsed in slices of at most
SLICE_CHARS characters, so a few huge rows never hold a whole batch's worth of memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from geosql.registry import BatchResult, Stage, registry
from geosql.worker import worker_cores
from udfs.gazetteer.engine import MAX_MENTIONS, Engine
from udfs.gazetteer.index import (
    GAZETTEER_VERSION,
    _index_path,
    load_gazetteer,
    source_digest,
    warehouse_path,
)
from udfs.gazetteer.model import default_threshold, load_model, model_digest
from udfs.gazetteer.parallel import ParallelEngine, engine_count

MAX_CHARS = 200_000  # longer texts are a per-row error (a caption is not a book)
SLICE_CHARS = 20_000_000  # characters parsed in one engine call (memory bound per call)

# Where the texts come from: the captions, or their English translations (a view of the
# multilingual stage, which exists once that stage is installed). DuckDB's query() binds only
# the chosen statement, so the captions path never needs the translations view.
INPUTS = (
    "SELECT caption_id, text FROM query(CASE WHEN {source} = 'translations'"
    " THEN 'SELECT caption_id, text_en AS text FROM current_translations'"
    " ELSE 'SELECT caption_id, text FROM captions' END)"
)
SOURCES = ("captions", "translations")


def prepare(con: Any, cfg: dict) -> dict:
    """Where the warehouse is: the cached index (a path; the tables for an in-memory
    warehouse) and the scoring model, both picklable."""
    from geosql.errors import GeosqlError

    if cfg.get("source", "captions") not in SOURCES:
        raise GeosqlError(
            f"geoparse: setting source={cfg['source']!r} is not one of {', '.join(SOURCES)}"
        )
    return {"index": load_gazetteer(con), "model": load_model()}


def open_engine(spec: dict, cfg: dict) -> Engine | ParallelEngine:
    """On the worker: the Engine over the prepared index, or `parallel` of them side by side
    (0: one per core this process may use when the index is a file, else one: an in-memory
    warehouse's index would be copied into each; see udfs/gazetteer/parallel.py)."""

    def make(threads: int) -> Engine:
        return Engine(
            spec["index"],
            model=spec["model"],
            threshold=cfg["threshold"],
            fuzzy=cfg["fuzzy"],
            max_mentions=cfg.get("max_mentions", MAX_MENTIONS),
            threads=threads,
        )

    n = engines_for(spec["index"], int(cfg.get("parallel", 0)))
    return make(worker_cores()) if n == 1 else ParallelEngine(make, n)


def engines_for(index: dict | Path, setting: int) -> int:
    """Engines to open: the `parallel` setting when positive; else one per core for a file
    index and one for an in-memory warehouse's (its tables would be copied into each)."""
    return engine_count(setting) if setting > 0 or not isinstance(index, dict) else 1


def close_engine(engine: Engine | ParallelEngine) -> None:
    """After the last batch: the engines' threads and databases."""
    engine.close()


def _slices(lengths: list[int], budget: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) row ranges of at most `budget` characters (at least one row)."""
    out, start, total = [], 0, 0
    for i, n in enumerate(lengths):
        if i > start and total + n > budget:
            out.append((start, i))
            start, total = i, 0
        total += n
    if start < len(lengths):
        out.append((start, len(lengths)))
    return out


def parse_bounded(
    engine: Engine | ParallelEngine,
    texts: pa.Array,
    max_chars: int = MAX_CHARS,
    slice_chars: int = SLICE_CHARS,
) -> tuple[pa.Table, pa.Table, list[tuple[int, str]]]:
    """(predictions, mentions, errors) for `texts` with the work bounded: rows longer than
    `max_chars` are left out as (row, message) errors (their prediction row is NULL), the rest
    are parsed in slices of at most `slice_chars` characters. Row numbers `r` are `texts`'."""
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    lengths = pc.fill_null(pc.utf8_length(texts.cast(pa.string())), 0).to_pylist()
    errors = [
        (i, f"text of {n:,} characters is longer than max_chars={max_chars:,}")
        for i, n in enumerate(lengths)
        if n > max_chars
    ]
    if errors:
        bad = pa.array([i for i, _ in errors], pa.int64())
        mask = pc.is_in(pa.arange(0, len(texts)), value_set=bad)
        texts = pc.if_else(mask, pa.scalar(None, pa.string()), texts.cast(pa.string()))
        lengths = [0 if n > max_chars else n for n in lengths]
    preds, ments = [], []
    for a, b in _slices(lengths, slice_chars):
        p, m = engine.parse(texts.slice(a, b - a))
        if a:
            p = p.set_column(0, "r", pc.add(p["r"], a))
            m = m.set_column(0, "r", pc.add(m["r"], a))
        preds.append(p)
        ments.append(m)
    return pa.concat_tables(preds), pa.concat_tables(ments), errors


def process(engine: Engine | ParallelEngine, batch: pa.Table, cfg: dict) -> BatchResult:
    """One batch of (caption_id, text) -> geo_predictions and geo_mentions rows (pure)."""
    preds, ments, errs = parse_bounded(engine, batch["text"], cfg.get("max_chars", MAX_CHARS))
    ids = batch["caption_id"].combine_chunks()
    failed = {r for r, _ in errs}
    keep = pa.array([i not in failed for i in range(len(ids))]) if failed else None
    method = pa.array([cfg["method"]] * len(preds), pa.string())
    out = pa.table(
        {
            "caption_id": ids,  # one prediction per input row, in input order
            "country_code": preds["country_code"],
            "confidence": preds["confidence"],
            "evidence": preds["mention"],
            "method": method,
        }
    )
    if keep is not None:
        out = out.filter(keep)
    ments = ments.drop_columns(["r"]).add_column(0, "caption_id", ids.take(ments["r"]))
    ments = ments.append_column("method", pa.array([cfg["method"]] * len(ments), pa.string()))
    errors = [(ids[r].as_py(), "TextTooLong", msg) for r, msg in errs]
    return BatchResult({"geo_predictions": out, "geo_mentions": ments}, errors=errors)


@registry.udf(
    "geoparse",
    ["VARCHAR"],
    "STRUCT(country_code VARCHAR, confidence DOUBLE, mention VARCHAR)",
    factory=True,
    type="arrow",
)
def _geoparse_udf_factory(con):
    """geoparse(text) -> {country_code, confidence, mention}: the offline geoparser in SQL.

    Uses the gazetteer cached beside the warehouse (built by `geosql init` or a geoparse run).
    Texts longer than MAX_CHARS give NULL.
    """
    import threading

    path = warehouse_path(con)
    try:
        index: Path | None = _index_path(con, path)
    except Exception:  # tables missing (read-only old file...): fail at call time instead
        index = None
    state: dict[str, Engine] = {}
    lock = threading.Lock()

    def geoparse(texts: pa.Array) -> pa.Array:
        with lock:
            if "engine" not in state:
                if index is None or not index.exists():
                    raise RuntimeError(
                        "geoparse(): no gazetteer for this warehouse yet; run `geosql init` first"
                    )
                state["engine"] = Engine(index)
            arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
            preds, _, _ = parse_bounded(state["engine"], arr.cast(pa.string()))
        return pa.StructArray.from_arrays(
            [
                preds["country_code"].combine_chunks(),
                preds["confidence"].combine_chunks(),
                preds["mention"].combine_chunks(),
            ],
            names=["country_code", "confidence", "mention"],
        )

    return geoparse


STAGE = registry.stage(
    Stage(
        name="geoparse",
        description="Offline geoparser: caption -> country over GeoNames (method 'offline').",
        inputs=INPUTS,
        outputs=("geo_predictions", "geo_mentions"),
        scope="method",
        prepare=prepare,
        open=open_engine,
        process=process,
        close=close_engine,
        defaults={
            "method": "offline",
            "threshold": default_threshold(),
            "fuzzy": False,
            "source": "captions",
            "max_chars": MAX_CHARS,
            "max_mentions": MAX_MENTIONS,
            "parallel": 0,
        },
        runtime_keys=("parallel",),
        version=f"{GAZETTEER_VERSION}-{source_digest()}-{model_digest()}",  # an edit reruns
        batch_size=250_000,  # >= 2 DuckDB row groups, so both cores work
    )
)
