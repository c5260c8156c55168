"""The vision family: CLIP embeddings (open_clip), entity-presence SVMs on them, and CLIP
relabelling with continent domains. Heavy libraries load lazily inside functions."""

from udfs.clip import relabel, stage, svm  # noqa: F401  (register the stages)
from udfs.clip.model import (  # noqa: F401  (the public API)
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    TINY_CONFIG,
    ClipModel,
    embed_images,
    embed_texts,
    load_clip,
    model_key,
    pick_device,
    write_model_config,
)
