"""Stage `clip-embed`: CLIP image/text embeddings of captions into `embeddings`.

Images come from `captions.image_path`, relative to the `image_root` setting (or absolute); a path
through a tar file reads that member of a WebDataset / img2dataset shard. Decoding runs in
DataLoader workers; on CUDA the model runs in fp16 and a batch that runs out of GPU memory is
split in half. An unreadable image (missing, not a regular file, corrupt, too large) is a per-row
error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from geosql.errors import GeosqlError
from geosql.registry import BatchResult, Stage, registry
from udfs.clip.model import (
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    ClipModel,
    default_workers,
    embed_images,
    embed_texts,
    load_clip,
    pick_device,
    vectors_array,
)


def _kinds(config: dict) -> list[str]:
    kinds = [k.strip() for k in str(config["kinds"]).split(",") if k.strip()]
    bad = set(kinds) - {"image", "text"}
    if not kinds or bad:
        raise GeosqlError(f"clip-embed: kinds must be image, text or image,text (got {kinds})")
    return kinds


def _prepare(con: Any, config: dict) -> dict[str, Any]:
    _kinds(config)
    return {k: config[k] for k in ("model", "pretrained", "device", "model_batch")}


def _open(spec: dict[str, Any], config: dict) -> ClipModel:
    return load_clip(spec["model"], spec["pretrained"], spec["device"], int(spec["model_batch"]))


def _process(clip: ClipModel, batch: pa.Table, config: dict) -> BatchResult:
    ids = batch["item_id"].to_pylist()
    out_ids: list[str] = []
    kinds_out: list[str] = []
    parts: list[np.ndarray] = []
    norm_parts: list[np.ndarray] = []
    errors: dict[int, tuple[str, str]] = {}
    for kind in _kinds(config):
        if kind == "image":
            workers = int(config["workers"])
            if workers < 0:
                workers = default_workers(clip.device.type)
            vecs, norms, errs = embed_images(
                clip,
                batch["image_path"].to_pylist(),
                root=config["image_root"],
                workers=workers,
                max_pixels=int(config["max_pixels"]),
                draft=bool(config["jpeg_draft"]),
            )
            errors.update(errs)
            good = [i for i in range(len(ids)) if i not in errs]
        else:
            texts = batch["text"].to_pylist()
            good = [i for i, t in enumerate(texts) if t and t.strip()]
            for i in set(range(len(ids))) - set(good):
                errors.setdefault(i, ("NoText", "caption has no text"))
            vecs = np.zeros((len(ids), clip.dim), dtype=np.float32)
            norms = np.zeros(len(ids), dtype=np.float32)
            vecs[good], norms[good] = embed_texts(clip, [texts[i] for i in good])
        out_ids += [ids[i] for i in good]
        kinds_out += [kind] * len(good)
        parts.append(vecs[good])
        norm_parts.append(norms[good])
    vectors = np.concatenate(parts) if parts else np.zeros((0, clip.dim), np.float32)
    rows = pa.table(
        {
            "item_id": pa.array(out_ids, pa.string()),
            "kind": pa.array(kinds_out, pa.string()),
            "model_key": pa.array([clip.key] * len(out_ids), pa.string()),
            "dim": pa.array([clip.dim] * len(out_ids), pa.int32()),
            "embedding": vectors_array(vectors),
            "norm": pa.array(np.concatenate(norm_parts) if norm_parts else [], pa.float32()),
        }
    )
    errs = [(ids[i], t, m) for i, (t, m) in sorted(errors.items())]
    return BatchResult(
        {"embeddings": rows}, errs, {"oom_halvings": clip.stats.pop("oom_halvings", 0)}
    )


_KINDS_SQL = "string_split(replace({kinds}, ' ', ''), ',')"
_KEY_SQL = "{model} || '/' || {pretrained}"

clip_embed = registry.stage(
    Stage(
        name="clip-embed",
        description="CLIP image/text embeddings (open_clip) into `embeddings`",
        inputs=(
            "SELECT caption_id AS item_id, image_path, text FROM captions"
            f" WHERE image_path IS NOT NULL OR NOT list_contains({_KINDS_SQL}, 'image')"
        ),
        outputs=("embeddings",),
        unique={"embeddings": ("item_id", "kind", "model_key")},  # one vector per model
        prepare=_prepare,
        open=_open,
        process=_process,
        defaults={
            "model": DEFAULT_MODEL,
            "pretrained": DEFAULT_PRETRAINED,
            "kinds": "image",
            "image_root": "",
            "max_pixels": 89_478_485,
            "jpeg_draft": True,
            "device": "auto",
            "model_batch": 0,
            "workers": -1,
        },
        key="item_id",
        batch_size=lambda cfg: 4096 if pick_device(cfg["device"]) == "cuda" else 512,
        runtime_keys=("image_root", "device", "model_batch", "workers"),
        extra="vision",
    )
)
