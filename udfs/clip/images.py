"""Link captions to images already downloaded (img2dataset output, WebDataset shards)."""

from __future__ import annotations

import contextlib
import tarfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from geosql.errors import GeosqlError
from udfs.clip.model import IMAGE_EXTENSIONS


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
