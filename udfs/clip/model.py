"""CLIP with open_clip: loading (real weights or a config file with random weights),
text and image embedding with OOM halving, image decoding from files and tar shards."""

from __future__ import annotations

import io
import os
import tarfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.errors import GeosqlError, require

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
        full = self._full(path)
        if full.exists() and not full.is_file():  # a FIFO or device would block forever
            raise ImageError(f"{full} is not a regular file")
        return open(full, "rb")

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


def tiny_random_clip(folder: Path, seed: int = 0) -> dict[str, str]:
    """A tiny open_clip config and a seeded random-weight checkpoint for it, as clip-embed
    settings (`model`, `pretrained`): what tests and benchmarks use where no weights ship."""
    torch = require("torch", "vision")
    open_clip = require("open_clip", "vision")
    cfg = write_model_config(folder)
    torch.manual_seed(seed)
    open_clip.add_model_config(cfg)
    model = open_clip.create_model(cfg.stem, pretrained=None)
    ckpt = folder / "tiny-random.pt"
    torch.save(model.state_dict(), ckpt)
    return {"model": str(cfg), "pretrained": str(ckpt)}
