"""`geosql bench clip-embed`: images/s of the image path on this machine."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from geosql.bench import benchmark
from geosql.errors import GeosqlError, require
from udfs.clip.model import (
    DEFAULT_MODEL,
    _input_size,
    decode_image,
    default_workers,
    embed_images,
    load_clip,
    pick_device,
    write_model_config,
)


def _bench_images(workdir: Path, n: int) -> list[str]:
    """n JPEG paths: the shared photos when present (repeated), else generated 800x600 images."""
    from geosql.paths import shared_dir

    shared = shared_dir()
    src = sorted((shared / "data" / "images").glob("*.jpg")) if shared else []
    if not src:
        Image = require("PIL.Image", "vision")
        rng = np.random.default_rng(0)
        for i in range(8):
            arr = rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)
            arr[:, :, 0] = np.linspace(0, 255, 800, dtype=np.uint8)
            p = workdir / f"gen{i}.jpg"
            Image.fromarray(arr).save(p, quality=90)
            src.append(p)
    return [str(src[i % len(src)]) for i in range(n)]


@benchmark("clip-embed")
def bench_clip_embed(workdir: Path, scale: float) -> list[str]:
    """Images/s of the image path (decode + preprocess + model) on this machine."""
    try:
        torch = require("torch", "vision")
        require("open_clip", "vision")
    except GeosqlError as e:
        return [f"skipped: {e}"]
    device = pick_device()
    lines = [f"device {device}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}"]
    cases = [("tiny 64px ViT (random weights)", str(write_model_config(workdir)), 64, 0)]
    cases.append(("ViT-B-32 (random weights)", DEFAULT_MODEL, 32 if device == "cpu" else 256, 0))
    for label, model, bs, _ in cases:
        n = max(bs, int((256 if "tiny" in label else 64) * scale))
        if device == "cuda":
            n *= 16
        paths = _bench_images(workdir, n)
        clip = load_clip(model, "none", device, bs)
        workers = default_workers(device)
        embed_images(clip, paths[:bs], workers=0)  # warm-up
        t0 = time.perf_counter()
        _, _, errs = embed_images(clip, paths, workers=workers)
        dt = time.perf_counter() - t0
        lines.append(
            f"{label}: {n / dt:,.1f} images/s ({n} JPEGs, batch {bs}, {workers} workers,"
            f" {len(errs)} errors)"
        )
        t0 = time.perf_counter()
        for p in paths[: min(n, 64)]:
            with open(p, "rb") as fp:
                decode_image(fp, 89_478_485, _input_size(clip))
        dt = time.perf_counter() - t0
        lines.append(f"  decode only (1 process, draft): {min(n, 64) / dt:,.1f} images/s")
    if device != "cuda":
        lines.append("GPU figure (ViT-B-32 on an H100) not measured: no GPU on this machine")
    return lines
