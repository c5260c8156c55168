"""Fixtures of the image-geolocation tests (data helpers live in geoloc_data.py)."""

from __future__ import annotations

import numpy as np
import pytest
from geoloc_data import CITIES, add_places

import geosql


@pytest.fixture
def geo_wh(wh):
    """An empty warehouse plus the hand-made places, countries and aliases of geoloc_data."""
    with geosql.connect(wh) as con:
        add_places(con)
    return wh


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory):
    """A tiny random-weight transformers CLIP (projection 768, as GeoCLIP's MLP expects)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    d = tmp_path_factory.mktemp("tiny-hf-clip")
    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    cfg = CLIPConfig(
        projection_dim=768,
        text_config=dict(small, vocab_size=100, max_position_embeddings=16, projection_dim=768,
                         bos_token_id=0, eos_token_id=2),
        vision_config=dict(small, image_size=32, patch_size=8, projection_dim=768),
    )  # fmt: skip
    torch.manual_seed(0)
    CLIPModel(cfg).save_pretrained(d)
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(d)
    return d


@pytest.fixture(scope="session")
def gallery(tmp_path_factory):
    """A small GPS gallery: the test cities plus random points."""
    p = tmp_path_factory.mktemp("gallery") / "gallery.csv"
    rng = np.random.default_rng(0)
    pts = [(c[2], c[3]) for c in CITIES] + list(
        zip(rng.uniform(-60, 70, 48), rng.uniform(-180, 180, 48), strict=True)
    )
    p.write_text("LAT,LON\n" + "\n".join(f"{a},{b}" for a, b in pts) + "\n")
    return p
