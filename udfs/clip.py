"""CLIP image and text embeddings with open_clip: stage `clip-embed`, `geosql images link`.

Images come from `captions.image_path`, relative to the `image_root` setting (or absolute). A path
through a tar file (`shards/00012.tar/000120034.jpg`) reads that member of a WebDataset /
img2dataset shard; `geosql images link ROOT` fills `image_path` from an img2dataset output folder
(either output format) or plain WebDataset shards by matching URLs or keys.

Decoding and preprocessing run in DataLoader worker processes; on CUDA the model runs in fp16 with
pinned host memory, and a batch that runs out of GPU memory is split in half (and the smaller size
kept). An image that cannot be read (missing, corrupt, truncated, over `max_pixels`) becomes a
per-row error; CMYK, palette, grey and alpha images are converted to RGB and embedded.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
import pyarrow as pa

from geosql.bench import benchmark
from geosql.errors import GeosqlError, require
from geosql.registry import BatchResult, Stage, registry

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "openai"  # the OpenAI weights used by the geoprofiling paper
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
NO_WEIGHTS = ("", "none", "random")


def model_key(model: str, pretrained: str) -> str:
    """The key embeddings are stored under: '<model>/<pretrained>' exactly as configured."""
    return f"{model}/{pretrained}"


# --------------------------------------------------------------------------- model loading


@dataclass
class ClipModel:
    """A loaded open_clip model with what is needed to run it."""

    model: Any
    preprocess: Any
    tokenizer: Any
    device: Any
    dtype: Any
    dim: int
    key: str
    batch: int  # images/texts per forward pass; halved on CUDA out-of-memory
    stats: dict[str, float] = field(default_factory=dict)


def pick_device(name: str = "auto") -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'."""
    if name != "auto":
        return name
    torch = require("torch", "vision")
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_clip(
    model: str = DEFAULT_MODEL,
    pretrained: str = DEFAULT_PRETRAINED,
    device: str = "auto",
    batch: int = 0,
) -> ClipModel:
    """Build an open_clip model; `model` may be a JSON model config file (custom architectures).

    `pretrained` is an open_clip tag ('openai', 'laion2b_s34b_b79k'...), a local checkpoint path,
    or 'none' for random weights (tests, benchmarks). fp16 on CUDA, fp32 elsewhere.
    """
    torch = require("torch", "vision")
    open_clip = require("open_clip", "vision")
    name = model
    if model.endswith(".json"):
        path = Path(model)
        if not path.is_file():
            raise GeosqlError(f"model config {model} does not exist")
        open_clip.add_model_config(path)
        name = path.stem
    dev = torch.device(pick_device(device))
    precision = "fp16" if dev.type == "cuda" else "fp32"
    weights = None if pretrained.lower() in NO_WEIGHTS else pretrained
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net, _, preprocess = open_clip.create_model_and_transforms(
                name, pretrained=weights, precision=precision, device=dev
            )
    except RuntimeError as e:
        raise GeosqlError(f"cannot load open_clip model {name!r} / {pretrained!r}: {e}") from e
    net.eval()
    tokenizer = open_clip.get_tokenizer(name)
    dim = int(getattr(net, "embed_dim", 0) or net.text_projection.shape[-1])
    dtype = torch.float16 if precision == "fp16" else torch.float32
    return ClipModel(
        net,
        preprocess,
        tokenizer,
        dev,
        dtype,
        dim,
        model_key(model, pretrained),
        batch or (256 if dev.type == "cuda" else 32),
    )


def _is_oom(e: BaseException) -> bool:
    torch = require("torch", "vision")
    return isinstance(e, torch.cuda.OutOfMemoryError) or "out of memory" in str(e).lower()


def _encode(clip: ClipModel, fn: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Run `fn` on `x` in chunks of clip.batch; on out-of-memory halve the chunk and retry.

    Returns the L2-normalised vectors and the norms they had before normalisation.
    """
    torch = require("torch", "vision")
    out: list[np.ndarray] = []
    norms: list[np.ndarray] = []
    i = 0
    while i < len(x):
        chunk = x[i : i + clip.batch]
        try:
            with torch.inference_mode():
                y = fn(chunk.to(clip.device, non_blocking=True)).float()
                norm = y.norm(dim=-1)
                y = torch.nn.functional.normalize(y, dim=-1)
            out.append(y.cpu().numpy())
            norms.append(norm.cpu().numpy())
            i += len(chunk)
        except (RuntimeError, torch.cuda.OutOfMemoryError) as e:
            if not _is_oom(e) or clip.batch == 1:
                raise
            clip.batch = max(1, clip.batch // 2)
            clip.stats["oom_halvings"] = clip.stats.get("oom_halvings", 0) + 1
            if clip.device.type == "cuda":
                torch.cuda.empty_cache()
    if not out:
        return np.zeros((0, clip.dim), dtype=np.float32), np.zeros(0, dtype=np.float32)
    return np.concatenate(out).astype(np.float32, copy=False), np.concatenate(norms)


def embed_texts(clip: ClipModel, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised text embeddings, one row per text, and their norms before normalising."""
    tokens = clip.tokenizer(list(texts) or [""])[: len(texts)]
    return _encode(clip, clip.model.encode_text, tokens)


# --------------------------------------------------------------------------- image reading


class ImageError(Exception):
    """An image that cannot be used (recorded as a per-row error)."""


class ImageTooLarge(ImageError):
    pass


def split_tar_path(path: str) -> tuple[str, str] | None:
    """'a/b.tar/c/d.jpg' -> ('a/b.tar', 'c/d.jpg'); None when no component ends in '.tar'."""
    parts = path.replace("\\", "/").split("/")
    for i, part in enumerate(parts[:-1]):
        if part.endswith(".tar"):
            return "/".join(parts[: i + 1]), "/".join(parts[i + 1 :])
    return None


class ImageSource:
    """Opens image bytes by path: plain files, or members of tar shards (indexes cached)."""

    def __init__(self, root: str | Path = "") -> None:
        self.root = Path(root) if root else None
        self._tars: dict[str, tarfile.TarFile] = {}

    def _full(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() or self.root is None else self.root / p

    def open(self, path: str) -> io.BufferedIOBase:
        tar_split = split_tar_path(path)
        if tar_split and not self._full(path).exists():
            tar_path, member = tar_split
            tf = self._tars.get(tar_path)
            if tf is None:
                full = self._full(tar_path)
                if not full.is_file():
                    raise FileNotFoundError(f"shard {full} does not exist")
                tf = self._tars[tar_path] = tarfile.open(full, "r:")  # noqa: SIM115 (cached)
            try:
                f = tf.extractfile(member)
            except KeyError:
                f = None
            if f is None:
                raise FileNotFoundError(f"{member} is not in shard {tar_path}")
            return io.BytesIO(f.read())
        return open(self._full(path), "rb")

    def close(self) -> None:
        for tf in self._tars.values():
            tf.close()
        self._tars.clear()


def decode_image(fp: Any, max_pixels: int, draft: int = 0) -> Any:
    """Decode to an RGB PIL image, refusing images over `max_pixels` before decoding them.

    `draft` > 0 lets the JPEG decoder scale down by 1/2..1/8 while keeping both sides >= draft
    (much faster for large photos; the CLIP resize follows).
    """
    Image = require("PIL.Image", "vision")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(fp)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ImageTooLarge(str(e)) from e
        w, h = img.size
        if w * h > max_pixels:
            raise ImageTooLarge(f"{w}x{h} = {w * h:,} pixels is over max_pixels={max_pixels:,}")
        if draft and img.format == "JPEG":
            img.draft("RGB", (draft, draft))
        img.load()  # raises on truncated or corrupt data
    if img.mode == "RGB":
        return img
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        bg = Image.new("RGB", img.size, (255, 255, 255))
        bg.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        return bg
    return img.convert("RGB")  # CMYK, YCbCr, L, P, I;16...


class _ImageDataset:
    """Map-style dataset for the DataLoader: index -> (index, tensor | None, error | None)."""

    def __init__(
        self, paths: list[str | None], root: str, preprocess: Any, max_pixels: int, draft: int
    ) -> None:
        self.paths, self.root, self.preprocess = paths, root, preprocess
        self.max_pixels, self.draft = max_pixels, draft
        self.source: ImageSource | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[int, Any, tuple[str, str] | None]:
        if self.source is None:  # one per worker process
            self.source = ImageSource(self.root)
        path = self.paths[i]
        try:
            if not path:
                raise ImageError("no image_path")
            with self.source.open(path) as fp:
                img = decode_image(fp, self.max_pixels, self.draft)
            return i, self.preprocess(img), None
        except Exception as e:  # every failure is a per-row error
            return i, None, (type(e).__name__, f"{path}: {e}")


def _collate(items: list[tuple[int, Any, Any]]) -> tuple[list[int], Any, list[tuple[int, Any]]]:
    torch = require("torch", "vision")
    ok = [(i, t) for i, t, e in items if e is None]
    errors = [(i, e) for i, t, e in items if e is not None]
    tensor = torch.stack([t for _, t in ok]) if ok else None
    return [i for i, _ in ok], tensor, errors


def embed_images(
    clip: ClipModel,
    paths: list[str | None],
    *,
    root: str = "",
    workers: int = 0,
    max_pixels: int = 89_478_485,
    draft: bool = True,
) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[str, str]]]:
    """Embed images: (n x dim unit vectors, NaN rows where failed), their norms before
    normalising, and {row: (error type, message)}."""
    torch = require("torch", "vision")
    size = _input_size(clip)
    ds = _ImageDataset(paths, root, clip.preprocess, max_pixels, size if draft else 0)
    loader = torch.utils.data.DataLoader(
        ds,
        batch_size=clip.batch,
        num_workers=workers,
        collate_fn=_collate,
        pin_memory=clip.device.type == "cuda",
        prefetch_factor=4 if workers else None,
    )
    out = np.full((len(paths), clip.dim), np.nan, dtype=np.float32)
    norms = np.full(len(paths), np.nan, dtype=np.float32)
    errors: dict[int, tuple[str, str]] = {}
    try:
        for idx, tensor, errs in loader:
            errors.update(errs)
            if tensor is not None:
                out[idx], norms[idx] = _encode(
                    clip, clip.model.encode_image, tensor.to(dtype=clip.dtype)
                )
    finally:
        if ds.source is not None:
            ds.source.close()
    return out, norms, errors


def _input_size(clip: ClipModel) -> int:
    size = getattr(clip.model.visual, "image_size", 224)
    return int(size[0] if isinstance(size, tuple | list) else size)


def default_workers(device: str) -> int:
    """All cores feed a GPU; on the CPU half of them decode while the model uses the rest."""
    n = os.cpu_count() or 1
    return n if device == "cuda" else n // 2


def vectors_array(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """n x dim float32 -> Arrow fixed-size lists (DuckDB FLOAT[dim])."""
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), v.shape[1])


# --------------------------------------------------------------------------- the stage


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


# --------------------------------------------------------------------------- images link


def scan_image_folder(root: Path) -> pa.Table:
    """Images under `root` (files and tar shard members) with their WebDataset key and URL.

    Reads img2dataset output in either format ('files': NNNNN/KEY.jpg + KEY.json; 'webdataset':
    NNNNN.tar with KEY.jpg + KEY.json) and plain WebDataset shards. The URL comes from the
    sidecar JSON (`url`) when present. image_path is relative to `root`.
    """
    import json

    rows: dict[str, dict[str, Any]] = {}

    def add(base: str, name: str, read: Any) -> None:
        folder, _, fname = name.rpartition("/")
        stem, _, ext = fname.partition(".")  # WebDataset: the key ends at the first dot
        r = rows.setdefault(
            f"{base}|{folder}|{stem}", {"key": stem, "image_path": None, "url": None}
        )
        if "." + ext.lower() in IMAGE_EXTENSIONS and r["image_path"] is None:
            r["image_path"] = f"{base}/{name}" if base else name
        elif ext.lower() == "json":
            with contextlib.suppress(ValueError, AttributeError):
                r["url"] = json.loads(read()).get("url")

    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and p.suffix == ".tar":
            with tarfile.open(p, "r:") as tf:
                for m in tf:
                    if m.isfile():
                        add(rel, m.name, lambda m=m, tf=tf: tf.extractfile(m).read())
        elif p.is_file():
            parent = p.parent.relative_to(root).as_posix()
            add("" if parent == "." else parent, p.name, p.read_bytes)
    found = [r for r in rows.values() if r["image_path"]]
    return pa.table(
        {
            "key": pa.array([r["key"] for r in found], pa.string()),
            "image_path": pa.array([r["image_path"] for r in found], pa.string()),
            "url": pa.array([r["url"] for r in found], pa.string()),
        }
    )


def link_images(con: Any, root: Path, by: str = "url", dataset: str | None = None) -> int:
    """Set captions.image_path for captions matched to images under `root`; returns how many."""
    if by not in ("url", "key"):
        raise GeosqlError("--by must be url or key")
    found = scan_image_folder(root)
    con.register("_found_images", found)
    on = (
        "c.url = f.url"
        if by == "url"
        else "substr(c.caption_id, strpos(c.caption_id, ':') + 1) = f.key"
    )
    scope = "" if dataset is None else "AND c.dataset = $dataset"
    params = {} if dataset is None else {"dataset": dataset}
    try:
        n = con.execute(
            f"""UPDATE captions c SET image_path = m.image_path
                FROM (SELECT c.caption_id, min(f.image_path) AS image_path
                      FROM captions c JOIN _found_images f ON {on} {scope}
                      GROUP BY c.caption_id) m
                WHERE c.caption_id = m.caption_id""",
            params,
        ).fetchone()[0]
    finally:
        con.unregister("_found_images")
    return int(n)


@registry.command
@click.group("images")
def images_cmd() -> None:
    """Images of captions: link downloaded shards, GPS locations, reverse geocoding."""


@images_cmd.command("link")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--by",
    type=click.Choice(["url", "key"]),
    default="url",
    show_default=True,
    help="Match captions.url to the sidecar JSON url, or the caption's source id to the key.",
)
@click.option("--dataset", default=None, help="Only captions of this dataset.")
@click.pass_context
def link_cmd(ctx: click.Context, root: Path, by: str, dataset: str | None) -> None:
    """Point captions at images already downloaded under ROOT (img2dataset or WebDataset)."""
    from geosql.cli.context import open_warehouse

    with open_warehouse(ctx) as con:
        n = link_images(con, root, by, dataset)
    click.echo(f"linked {n} captions to images under {root}")
    click.echo(f"embed them with: geosql run clip-embed --set image_root={root.resolve()}")


# --------------------------------------------------------------------------- benchmark

TINY_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def write_model_config(folder: Path, name: str = "geosql-tiny", config: dict | None = None) -> Path:
    """Write an open_clip model config JSON (for `--set model=FILE.json`)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(config or TINY_CONFIG), encoding="utf-8")
    return path


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
