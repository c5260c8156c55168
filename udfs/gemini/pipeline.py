"""Extract -> retrieve -> predict for a batch of captions, and the two stages' `process`.

Pure: the worker state holds the engine (cache + transport), the place index and the country
names; nothing here touches the warehouse. Captions whose calls hit an outage (or a batch job
still running) are returned as `pending`; permanent call failures as row errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from geosql.registry import BatchResult
from udfs.gemini.engine import Engine
from udfs.gemini.prompts import (
    clean,
    extract_prompt,
    parse_country,
    parse_location,
    predict_prompt,
    send_to_llm,
)
from udfs.gemini.transport import Call, Request


@dataclass
class LlmState:
    engine: Engine
    index: Any  # udfs.retrieval.PlaceIndex, or None when top_k = 0
    names: dict[str, str]  # iso2 -> English country name
    thresholds: dict[str, float] | None = None  # hybrid with a budget: per dataset


@dataclass
class Parsed:
    location: str | None = None
    extract_raw: str | None = None
    candidates: list[dict] = field(default_factory=list)
    answer_raw: str | None = None
    country_code: str | None = None
    error: tuple[str, str] | None = None
    pending: bool = False


def _failed(p: Parsed, phase: str, c: Call) -> bool:
    """Mark `p` pending (transient) or failed when call `c` has no answer."""
    if c.text is not None:
        return False
    if c.transient:
        p.pending = True
    else:
        p.error = ("LlmCallError", f"{phase}: {c.error}")
    return True


def geoparse_texts(
    state: LlmState, texts: dict[str, str], top_k: int
) -> tuple[dict[str, Parsed], list[Call]]:
    """Extract -> retrieve -> predict for captions {id: text}; every call involved."""
    eng = state.engine
    out = {cid: Parsed() for cid in texts}
    calls: list[Call] = []

    p1 = {cid: Request.of(extract_prompt(t)) for cid, t in texts.items()}
    r1 = eng.answer(list(p1.values()), "extract")
    calls += r1.values()
    located: dict[str, str] = {}
    for cid, req in p1.items():
        c = r1[req.prompt_hash]
        if _failed(out[cid], "extract", c):
            continue
        out[cid].extract_raw = c.text
        loc = parse_location(c.text)
        out[cid].location = loc
        if loc is not None:
            located[cid] = loc

    uniq = sorted(set(located.values()))
    cands: dict[str, list[dict]] = {loc: [] for loc in uniq}
    if state.index is not None and uniq and top_k > 0:
        for loc, found in zip(uniq, state.index.search(uniq, top_k), strict=True):
            cands[loc] = [c.as_dict() for c in found]

    p2 = {
        cid: Request.of(predict_prompt(texts[cid], loc, cands[loc], state.names))
        for cid, loc in located.items()
    }
    r2 = eng.answer(list(p2.values()), "predict") if p2 else {}
    calls += r2.values()
    for cid, req in p2.items():
        c = r2[req.prompt_hash]
        out[cid].candidates = cands[located[cid]]
        if _failed(out[cid], "predict", c):
            continue
        out[cid].answer_raw = c.text
        out[cid].country_code = parse_country(c.text)
    return out, calls


def _rows(method: str, model: str, route: str, cid: str, r: Parsed) -> tuple[dict, dict]:
    evidence = (
        f"location: {r.location}; answer: {clean(r.answer_raw)}" if r.location else "no location"
    )
    pred = {
        "caption_id": cid,
        "method": method,
        "country_code": r.country_code,
        "confidence": None,
        "evidence": evidence,
    }
    detail = {
        "caption_id": cid,
        "method": method,
        "model": model,
        "route": route,
        "location": r.location,
        "extract_raw": r.extract_raw,
        "candidates": json.dumps(r.candidates, ensure_ascii=False),
        "answer_raw": r.answer_raw,
        "country_code": r.country_code,
    }
    return pred, detail


PRED_SCHEMA = pa.schema(
    [
        ("caption_id", pa.string()),
        ("method", pa.string()),
        ("country_code", pa.string()),
        ("confidence", pa.float64()),
        ("evidence", pa.string()),
    ]
)
DETAIL_SCHEMA = pa.schema(
    [
        ("caption_id", pa.string()),
        ("method", pa.string()),
        ("model", pa.string()),
        ("route", pa.string()),
        ("location", pa.string()),
        ("extract_raw", pa.string()),
        ("candidates", pa.string()),
        ("answer_raw", pa.string()),
        ("country_code", pa.string()),
    ]
)


def _result(
    state: LlmState,
    preds: list[dict],
    details: list[dict],
    errors: list,
    pending: list[str],
    calls: list[Call],
) -> BatchResult:
    return BatchResult(
        outputs={
            "geo_predictions": pa.Table.from_pylist(preds, PRED_SCHEMA),
            "llm_geoparse": pa.Table.from_pylist(details, DETAIL_SCHEMA),
        },
        errors=errors,
        usage=state.engine.usage(calls),
        appends=state.engine.take_appends(),
        pending=pending,
    )


def process_llm(state: LlmState, batch: pa.Table, cfg: dict[str, Any]) -> BatchResult:
    """`llm-geoparse`: every caption through extract -> retrieve -> predict."""
    texts = dict(zip(batch["caption_id"].to_pylist(), batch["text"].to_pylist(), strict=True))
    parsed, calls = geoparse_texts(state, texts, int(cfg["top_k"]))
    preds, details, errors, pending = [], [], [], []
    for cid, r in parsed.items():
        if r.pending:
            pending.append(cid)
        elif r.error:
            errors.append((cid, *r.error))
        else:
            p, d = _rows(cfg["method"], cfg["model"], "llm", cid, r)
            preds.append(p)
            details.append(d)
    return _result(state, preds, details, errors, pending, calls)


def process_hybrid(state: LlmState, batch: pa.Table, cfg: dict[str, Any]) -> BatchResult:
    """`hybrid-geoparse`: the offline answer where it is sure, the LLM's elsewhere."""
    rows = batch.to_pylist()
    ts = state.thresholds

    def threshold(r: dict) -> float:  # a budget's threshold for the dataset, else `threshold`
        return ts.get(r["dataset"], 0.0) if ts is not None else float(cfg["threshold"])

    ask = {
        r["caption_id"]: r["text"]
        for r in rows
        if send_to_llm(
            r["offline_confidence"],
            r["offline_countries"],
            threshold(r),
            bool(cfg["multi_country"]),
        )
    }
    parsed, calls = geoparse_texts(state, ask, int(cfg["top_k"])) if ask else ({}, [])
    preds, details, errors, pending = [], [], [], []
    for r in rows:
        cid = r["caption_id"]
        off = f"offline: {r['offline_country'] or 'no place'} @ {r['offline_confidence']}"
        if cid in parsed:
            p = parsed[cid]
            if p.pending:
                pending.append(cid)
                continue
            if p.error:
                errors.append((cid, *p.error))
                continue
            pred, det = _rows(cfg["method"], cfg["model"], "llm", cid, p)
            pred["evidence"] = (
                f"{off} (n_countries={r['offline_countries']}) -> llm {pred['evidence']}"
            )
        else:
            pred = {
                "caption_id": cid,
                "method": cfg["method"],
                "country_code": r["offline_country"],
                "confidence": r["offline_confidence"],
                "evidence": off,
            }
            det = {
                "caption_id": cid,
                "method": cfg["method"],
                "model": None,
                "route": "offline",
                "location": None,
                "extract_raw": None,
                "candidates": None,
                "answer_raw": None,
                "country_code": r["offline_country"],
            }
        preds.append(pred)
        details.append(det)
    return _result(state, preds, details, errors, pending, calls)
