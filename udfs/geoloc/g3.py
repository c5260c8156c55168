"""Method `g3` (after Jia et al., G3, NeurIPS 2024): retrieval-augmented LMM candidates, verified.

1. Retrieval: the `n_positives` most similar reference images (their coordinates are positive
   context) and the `n_negatives` least similar ones (a FAISS search for -query: negatives).
2. Generation: Gemini gets the image and both lists and answers `n_candidates` coordinates
   as JSON. The call goes through the Gemini family's engine (`udfs.gemini.engine`: the
   `llm_calls` cache, retries, rate limits, cost accounting, pending on an outage).
3. Verification (`verify`): every candidate (the LLM's plus the retrieval prediction and the
   top neighbour) is scored and the best one wins:
   - `retrieval`: mean of the 3 best embedding similarities between the image and the
     reference images within `verify_km` of the candidate, missing ones counting 0 (a lone
     mislabelled look-alike does not outweigh a place many similar photos come from);
   - `geoclip`: cosine of GeoCLIP's image feature and its location embedding of the candidate.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.errors import GeosqlError, require
from geosql.registry import BatchResult

PROMPT = """You are an expert in image geolocation. Where was this photo taken?

Photos that look most like it were taken at these coordinates (latitude, longitude):
{positives}
Photos that look least like it were taken at these coordinates (unlikely places):
{negatives}

Use the visual clues in the photo (landscape, architecture, vegetation, signs, vehicles,
people) together with the references. Answer with JSON only, no other text:
{{"candidates": [{{"lat": <degrees>, "lon": <degrees>, "place": "<city, country>"}}, ...]}}
with {n} candidates, most likely first."""

_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def prepare_g3(con: Any, cfg: dict) -> dict[str, Any]:
    """The Gemini engine's spec (credentials checked, cache exported, prices resolved)."""
    from udfs.gemini.engine import TRANSPORT_SETTINGS, llm_spec
    from udfs.gemini.online import generation

    gen = generation(str(cfg["llm_model"]), float(cfg["temperature_llm"]),
                     int(cfg["max_output_tokens"]), 0)  # fmt: skip
    llm_cfg = {"model": cfg["llm_model"], **{k: cfg[k] for k in TRANSPORT_SETTINGS if k in cfg}}
    return {"llm": llm_spec(con, llm_cfg, gen)}


def open_g3(spec: dict[str, Any], cfg: dict) -> Any:
    from udfs.gemini.engine import Engine

    return Engine(spec["llm"])


def close_g3(engine: Any) -> None:
    engine.close()


def image_bytes(path: Path, max_px: int) -> tuple[bytes, str]:
    """The file's bytes, or a JPEG re-encoding when a side exceeds max_px (fewer tokens)."""
    image = require("PIL.Image", "geo")
    with image.open(path) as im:
        if max(im.size) <= max_px and path.suffix.lower() in _MIME:
            return path.read_bytes(), _MIME[path.suffix.lower()]
        im = im.convert("RGB")
        im.thumbnail((max_px, max_px))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        return buf.getvalue(), "image/jpeg"


def _coords(lat: np.ndarray, lon: np.ndarray) -> str:
    pts = [f"({a:.4f}, {b:.4f})" for a, b in zip(lat, lon, strict=True) if np.isfinite(a)]
    return "\n".join(pts) or "(none)"


def parse_candidates(text: str | None, n: int) -> list[tuple[float, float]]:
    """Coordinates from the model's answer (JSON, possibly fenced; else 'lat, lon' pairs)."""
    if not text:
        return []
    out: list[tuple[float, float]] = []
    m = re.search(r"\{.*\}", text, re.S)
    if m:
        try:
            data = json.loads(m.group(0))
            items = data.get("candidates", []) if isinstance(data, dict) else []
            for c in items:
                if isinstance(c, dict):
                    out.append((float(c.get("lat", c.get("latitude"))),
                                float(c.get("lon", c.get("longitude")))))  # fmt: skip
        except (ValueError, TypeError, AttributeError):
            out = []
    if not out:
        for a, b in re.findall(r"(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)", text):
            out.append((float(a), float(b)))
    ok = [(a, b) for a, b in out if -90 <= a <= 90 and -180 <= b <= 180]
    return ok[:n]


def _verify_retrieval(ref: Any, q: np.ndarray, cands: list[tuple[float, float]], km: float):
    if ref.vectors is None:
        raise GeosqlError("g3 verify=retrieval needs the reference vectors (prepare_reference)")
    scores = []
    for a, b in cands:
        j = ref.near(a, b, km)
        if len(j) == 0:
            scores.append(0.0)
            continue
        sims = np.sort(np.asarray(ref.vectors[np.sort(j)], np.float32) @ q)[::-1][:3]
        scores.append(float(np.sum(sims) / 3))  # fewer than 3 images near it count as 0
    return np.asarray(scores)


def process_g3(state: dict[str, Any], batch: pa.Table, cfg: dict) -> BatchResult:
    """Neighbours -> one Gemini request per image -> candidates -> verified prediction."""
    from udfs.gemini.transport import Request, image_part
    from udfs.geoloc.index import vectors
    from udfs.geoloc.sphere import aggregate
    from udfs.geoloc.stage import _CAND, _PRED, load_images, neighbours, predictions

    engine, ref = state["g3"], state["ref"]
    errors: list[tuple[str, str, str]] = []
    has = np.asarray(batch["embedding"].is_valid())
    for i, ok in zip(batch["image_id"].to_pylist(), has, strict=True):
        if not ok:
            errors.append((i, "no_embedding", f"no image embedding of model {cfg['model_key']!r}"))
    batch = batch.filter(pa.array(has))
    ids, images, bad = load_images(batch, cfg)
    errors += bad
    keep = pa.array([i in set(ids) for i in batch["image_id"].to_pylist()])
    batch = batch.filter(keep)
    empty = BatchResult({"image_geo_predictions": _PRED.empty_table()}, errors=errors)
    if not ids:
        return empty
    q = vectors(batch["embedding"])
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    npos, nneg = int(cfg["n_positives"]), int(cfg["n_negatives"])
    sims, lat, lon, _ = neighbours(state, ids, q, {**cfg, "k": max(int(cfg["k"]), npos)})
    _, far = ref.search(-q, max(1, nneg))
    rlat, rlon, _ = aggregate(lat, lon, sims, cfg["aggregate"], float(cfg["temperature"]),
                              float(cfg["cluster_km"]))  # fmt: skip
    root = cfg.get("image_root") or ""
    reqs: list[Request] = []
    for r, p in enumerate(batch["image_path"].to_pylist()):
        full = Path(root) / p if root and not Path(p).is_absolute() else Path(p)
        data, mime = image_bytes(full, int(cfg.get("max_image_px", 768)))
        j = far[r][far[r] >= 0]
        text = PROMPT.format(positives=_coords(lat[r, :npos], lon[r, :npos]),
                             negatives=_coords(ref.lat[j], ref.lon[j]),
                             n=int(cfg["n_candidates"]))  # fmt: skip
        reqs.append(Request.of(image_part(data, mime), text))
    calls = engine.answer({x.prompt_hash: x for x in reqs}, phase="g3")
    gfeat = None
    if cfg["verify"] == "geoclip":
        from udfs.geoloc.geoclip_method import image_features

        gfeat = image_features(state["geoclip"], images)
    out_ids, plat, plon, pscore, detail, pending = [], [], [], [], [], []
    cand: dict[str, list] = {f.name: [] for f in _CAND}
    for r, image_id in enumerate(ids):
        call = calls.get(reqs[r].prompt_hash)
        if call is None or call.text is None:
            if call is not None and call.transient:
                pending.append(image_id)
            else:
                why = call.error if call is not None else "no answer"
                errors.append((image_id, "llm_error", str(why)))
            continue
        llm = parse_candidates(call.text, int(cfg["n_candidates"]))
        cands = [(a, b, "llm") for a, b in llm] + [
            (float(rlat[r]), float(rlon[r]), "retrieval"),
            (float(lat[r, 0]), float(lon[r, 0]), "neighbour"),
        ]
        pts = [(a, b) for a, b, _ in cands]
        if gfeat is not None:
            from udfs.geoloc.geoclip_method import location_similarity

            score = location_similarity(state["geoclip"], gfeat[r], *np.array(pts).T)
        else:
            score = _verify_retrieval(ref, q[r], pts, float(cfg["verify_km"]))
        best = int(np.argmax(score))  # ties: the LLM's order first
        out_ids.append(image_id)
        plat.append(pts[best][0])
        plon.append(pts[best][1])
        pscore.append(float(score[best]))
        detail.append(f"{cands[best][2]} candidate {best + 1} of {len(cands)}"
                      + ("" if llm else "; the answer had no coordinates"))  # fmt: skip
        for rank, ((a, b, kind), s) in enumerate(zip(cands, score, strict=True), 1):
            for k, v in (("image_id", image_id), ("method", "g3"), ("rank", rank),
                         ("kind", kind), ("ref_id", None), ("lat", a), ("lon", b),
                         ("score", float(s))):  # fmt: skip
                cand[k].append(v)
    preds = predictions(state, out_ids, plat, plon, pscore, detail, cfg)
    return BatchResult(
        {"image_geo_predictions": preds, "image_geo_candidates": pa.table(cand, schema=_CAND)},
        errors=errors,
        usage=engine.usage(calls.values()),
        appends=engine.take_appends(),
        pending=pending,
    )
