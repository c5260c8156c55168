"""Method `geoclip`: GeoCLIP (Vivanco Cepeda et al., NeurIPS 2023) over a GPS gallery.

The `geoclip` wheel ships the location encoder, the image MLP and a 100k-point GPS gallery; its
image tower is CLIP ViT-L/14 (`clip_path`, default the hub id `openai/clip-vit-large-patch14`,
downloaded once by transformers on a user's machine; tests pass a tiny random-weight folder).
`prepare` encodes the gallery once (location encoder only) into `<warehouse>.models/geoloc/`;
the worker encodes images, scores them against the gallery (softmax of scaled cosine) and keeps
the top-k points with their probabilities; the prediction is the top-1 point.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geosql.errors import GeosqlError, require

DEFAULT_CLIP = "openai/clip-vit-large-patch14"


def builtin_gallery() -> Path:
    geoclip = require("geoclip", "geo")
    return Path(geoclip.__file__).parent / "model" / "gps_gallery" / "coordinates_100K.csv"


def read_gallery(path: str | Path) -> np.ndarray:
    """A CSV of GPS points (columns LAT/LON or lat/lon, any case) -> (n, 2) float32."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise GeosqlError(f"{path}: the GPS gallery is empty")
    head = [h.strip().lower() for h in rows[0]]
    try:
        ia = next(i for i, h in enumerate(head) if h in ("lat", "latitude", "gps_lat"))
        io = next(i for i, h in enumerate(head) if h in ("lon", "lng", "longitude", "gps_lon"))
    except StopIteration:
        raise GeosqlError(f"{path} line 1: the GPS gallery needs lat and lon columns") from None
    out = np.asarray([[float(r[ia]), float(r[io])] for r in rows[1:] if r], np.float32)
    if not len(out):
        raise GeosqlError(f"{path}: the GPS gallery has no points")
    return out


def gallery_features(gallery: str, cache_dir: Path) -> dict[str, str]:
    """Encode the gallery with GeoCLIP's location encoder once; returns the cached file paths."""
    path = Path(gallery) if gallery else builtin_gallery()
    if not path.is_file():
        raise GeosqlError(f"GPS gallery {path} does not exist")
    geoclip = require("geoclip", "geo")
    ver = getattr(geoclip, "__version__", "1.3")
    h = hashlib.sha1(path.read_bytes() + ver.encode()).hexdigest()[:16]
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"geoclip-gallery-{h}.npz"
    if not out.is_file():
        torch = require("torch", "geo")
        from geoclip import LocationEncoder

        gps = read_gallery(path)
        enc = LocationEncoder().eval()
        feats = []
        with torch.inference_mode():
            for i in range(0, len(gps), 4096):
                f = enc(torch.from_numpy(gps[i : i + 4096]))
                feats.append(torch.nn.functional.normalize(f, dim=-1).numpy())
        tmp = cache_dir / f".tmp-{out.name}"
        np.savez(tmp, gps=gps, features=np.concatenate(feats).astype(np.float16))
        tmp.replace(out)
    return {"gallery": str(out)}


@dataclass
class GeoClipState:
    model: Any  # geoclip.GeoCLIP (image encoder used; location encoder not needed at run time)
    gps: np.ndarray  # (m, 2)
    features: Any  # torch (m, 512) unit vectors
    scale: float
    device: Any


def open_geoclip(spec: dict[str, Any], cfg: dict) -> GeoClipState:
    torch = require("torch", "geo")
    require("geoclip", "geo")
    from geoclip import GeoCLIP

    dev = cfg.get("device", "auto")
    dev = torch.device("cuda" if dev == "auto" and torch.cuda.is_available() else
                       ("cpu" if dev == "auto" else dev))  # fmt: skip
    try:
        model = GeoCLIP(from_pretrained=True, clip_path=cfg.get("clip_path") or DEFAULT_CLIP)
    except OSError as e:
        raise GeosqlError(
            f"cannot load GeoCLIP's CLIP image tower {cfg.get('clip_path') or DEFAULT_CLIP!r}: "
            f"{str(e).splitlines()[0]} (set clip_path=FOLDER for a local copy)"
        ) from e
    model = model.to(dev).eval()
    with np.load(spec["gallery"], allow_pickle=False) as z:
        gps, feats = z["gps"], z["features"]
    f = torch.from_numpy(feats.astype(np.float32)).to(dev)
    return GeoClipState(model, gps, f, float(model.logit_scale.exp().item()), dev)


def image_features(state: GeoClipState, images: list[Any]) -> Any:
    """PIL images -> GeoCLIP image features (torch, unit vectors)."""
    torch = require("torch", "geo")
    enc = state.model.image_encoder
    with torch.inference_mode():
        x = enc.preprocess_image(images).to(state.device)
        return torch.nn.functional.normalize(enc(x).float(), dim=-1)


def predict_images(
    state: GeoClipState, images: list[Any], top_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """PIL images -> top-k gallery indices and probabilities, each (n, k)."""
    torch = require("torch", "geo")
    f = image_features(state, images)
    with torch.inference_mode():
        probs = (state.scale * f @ state.features.T).softmax(dim=-1)
        k = max(1, min(int(top_k), probs.shape[1]))
        top = torch.topk(probs, k, dim=1)
    return top.indices.cpu().numpy(), top.values.cpu().numpy().astype(float)


def location_similarity(state: GeoClipState, feature: Any, lat, lon) -> np.ndarray:
    """Cosine similarity of one image feature and GeoCLIP's embeddings of the given points."""
    torch = require("torch", "geo")
    gps = torch.tensor(np.stack([lat, lon], axis=1), dtype=torch.float32, device=state.device)
    with torch.inference_mode():
        loc = torch.nn.functional.normalize(state.model.location_encoder(gps).float(), dim=-1)
        return (loc @ feature.reshape(-1)).cpu().numpy().astype(float)
