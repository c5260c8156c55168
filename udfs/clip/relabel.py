"""CLIP-GeoYFCC relabelling: zero-shot labels, continent domains, balanced subsets.

- `labels` holds the vocabulary; stage `clip-relabel` scores every stored image embedding
  against the CLIP text embeddings of the prompts and keeps the top-k labels per image.
- Image GPS lives in `image_locations` (`geosql images locations FILE`); images with GPS but no
  country get the country of the nearest GeoNames place (`geosql images geocode`, SQL only: a
  1-degree then 10-degree grid prefilter and the `haversine_km` macro).
- Domains are continents (countries.continent_code). `geosql relabel subset` materialises the
  SQL table macro `balanced_subset(...)` as a table and exports it to Parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.db import ident, literal
from geosql.errors import GeosqlError
from geosql.registry import BatchResult, Stage, registry
from udfs.clip.model import DEFAULT_MODEL, DEFAULT_PRETRAINED, embed_texts, load_clip

VOCAB_SQL = (
    "(SELECT coalesce(md5(string_agg(label_id || chr(31) || prompt, chr(30) ORDER BY label_id)),"
    " '') FROM labels)"
)


# --------------------------------------------------------------------------- labels


def load_labels(
    con: Any, path: Path, template: str = "a photo of a {}.", replace: bool = True
) -> int:
    """Load a vocabulary CSV (name, optional label_id and prompt) into `labels`."""
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv(?, header = true))",
            [str(path)],
        ).fetchall()
    ]
    if "name" not in cols:
        raise GeosqlError(f"{path}: needs a 'name' column (and optionally label_id, prompt)")
    label_id = "label_id::VARCHAR" if "label_id" in cols else "name"
    prompt = "prompt" if "prompt" in cols else "NULL"
    con.begin()
    try:
        if replace:
            con.execute("DELETE FROM labels")
        con.execute(
            f"""INSERT OR REPLACE INTO labels (label_id, name, prompt)
                SELECT {label_id}, name, coalesce({prompt}, replace($template, '{{}}', name))
                FROM read_csv($path, header = true) WHERE name IS NOT NULL""",
            {"template": template, "path": str(path)},
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    return con.execute("SELECT count(*) FROM labels").fetchone()[0]


# --------------------------------------------------------------------------- the stage


def top_labels(images: np.ndarray, prompts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of the k best prompts per image (unit vectors in)."""
    sims = images @ prompts.T
    k = min(k, prompts.shape[0])
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(sims, idx, axis=1)


def _prepare(con: Any, config: dict) -> dict[str, Any]:
    rows = con.execute("SELECT label_id, prompt FROM labels ORDER BY label_id").fetchall()
    if not rows:
        raise GeosqlError(
            "the labels table is empty: load a vocabulary with `geosql relabel labels`"
        )
    clip = load_clip(config["model"], config["pretrained"], config["device"])
    prompts, _ = embed_texts(clip, [r[1] for r in rows])
    vocab = con.execute(f"SELECT {VOCAB_SQL}").fetchone()[0]
    return {"ids": [r[0] for r in rows], "prompts": prompts, "key": clip.key, "vocab": vocab}


def _process(state: dict[str, Any], batch: pa.Table, config: dict) -> BatchResult:
    x = np.array(batch["embedding"].to_pylist(), dtype=np.float32)
    if x.shape[1] != state["prompts"].shape[1]:
        raise GeosqlError(
            f"image embeddings have {x.shape[1]} dims, the text model {state['prompts'].shape[1]}"
        )
    idx, sims = top_labels(x, state["prompts"], int(config["top_k"]))
    n, k = idx.shape
    ids = np.asarray(state["ids"], dtype=object)
    rows = pa.table(
        {
            "caption_id": pa.array(
                np.repeat(batch["caption_id"].to_numpy(zero_copy_only=False), k)
            ),
            "model_key": pa.array([state["key"]] * (n * k), pa.string()),
            "rank": pa.array(np.tile(np.arange(1, k + 1, dtype=np.int32), n)),
            "label_id": pa.array(ids[idx.reshape(-1)].tolist(), pa.string()),
            "similarity": pa.array(sims.reshape(-1).astype(np.float64)),
            "vocab": pa.array([state["vocab"]] * (n * k), pa.string()),
        }
    )
    return BatchResult({"clip_labels": rows})


_KEY_SQL = "{model} || '/' || {pretrained}"

registry.stage(
    Stage(
        name="clip-relabel",
        description="zero-shot labels per image from the `labels` vocabulary (CLIP-GeoYFCC)",
        inputs=(
            f"SELECT item_id AS caption_id, embedding, {VOCAB_SQL} AS vocab FROM embeddings"
            f" WHERE kind = 'image' AND model_key = {_KEY_SQL}"
        ),
        outputs=("clip_labels",),  # the vocabulary is an input column: a new one reruns
        unique={"clip_labels": ("caption_id", "model_key")},
        prepare=_prepare,
        process=_process,
        depends_on=("clip-embed",),
        defaults={
            "model": DEFAULT_MODEL,
            "pretrained": DEFAULT_PRETRAINED,
            "top_k": 5,
            "device": "auto",
        },
        batch_size=8192,
        runtime_keys=("device",),
        extra="vision",
    )
)


# --------------------------------------------------------------------------- GPS and countries


def load_locations(con: Any, path: Path) -> int:
    """Upsert image GPS (caption_id, lat, lon, optional country_code) from CSV/Parquet/JSONL."""
    reader = {".parquet": "read_parquet", ".jsonl": "read_json", ".json": "read_json"}.get(
        path.suffix.lower(), "read_csv"
    )
    src = f"{reader}({literal(str(path))})"
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    if not {"caption_id", "lat", "lon"} <= cols:
        raise GeosqlError(f"{path}: needs caption_id, lat, lon (and optionally country_code)")
    cc = "upper(country_code::VARCHAR)" if "country_code" in cols else "NULL"
    con.execute(
        f"""INSERT OR REPLACE INTO image_locations
            SELECT caption_id::VARCHAR, lat::DOUBLE, lon::DOUBLE, {cc},
                   CASE WHEN {cc} IS NULL THEN NULL ELSE 'given' END, NULL, NULL
            FROM {src}"""
    )
    return con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]


def reverse_geocode(con: Any, cells: tuple[float, ...] = (1.0, 10.0), max_km: float = 500.0) -> int:
    """Give images with GPS but no country the country of the nearest GeoNames place.

    For each cell size, images and places are binned on a lat/lon grid and each image is compared
    with the places of its 3x3 neighbouring cells (longitude wraps at 180). A match closer than one
    cell height is exact; farther ones may miss a nearer place in the next ring. Populated places
    (feature class P) are used when there are any. Returns how many images got a country.
    """
    has_p = con.execute("SELECT count(*) FROM places WHERE feature_class = 'P'").fetchone()[0]
    pclass = "feature_class = 'P'" if has_p else "TRUE"
    total = 0
    for cell in cells:
        k = int(round(180 / cell))
        n = con.execute(
            f"""UPDATE image_locations t
                SET country_code = m.country_code, country_source = 'nearest_place',
                    geonameid = m.geonameid, distance_km = m.d
                FROM (
                    WITH q AS (
                        SELECT caption_id, lat, lon, floor(lat / {cell})::BIGINT AS cy,
                               floor(lon / {cell})::BIGINT AS cx
                        FROM image_locations
                        WHERE country_code IS NULL AND lat IS NOT NULL AND lon IS NOT NULL
                    ),
                    p AS (
                        SELECT geonameid, lat, lon, country_code,
                               floor(lat / {cell})::BIGINT AS cy, floor(lon / {cell})::BIGINT AS cx
                        FROM places
                        WHERE {pclass} AND country_code IS NOT NULL AND lat IS NOT NULL
                    ),
                    probe AS (
                        SELECT q.*, q.cy + o.dy AS py, ((q.cx + o.dx + {k}) % {2 * k} + {2 * k})
                               % {2 * k} - {k} AS px
                        FROM q, (SELECT unnest([-1, -1, -1, 0, 0, 0, 1, 1, 1]) AS dy,
                                        unnest([-1, 0, 1, -1, 0, 1, -1, 0, 1]) AS dx) o
                    )
                    SELECT caption_id,
                           arg_min(p.geonameid, haversine_km(probe.lat, probe.lon, p.lat, p.lon)) AS geonameid,
                           arg_min(p.country_code, haversine_km(probe.lat, probe.lon, p.lat, p.lon)) AS country_code,
                           min(haversine_km(probe.lat, probe.lon, p.lat, p.lon)) AS d
                    FROM probe JOIN p ON p.cy = probe.py AND p.cx = probe.px
                    GROUP BY caption_id
                ) m
                WHERE t.caption_id = m.caption_id AND m.d <= {float(max_km)}"""
        ).fetchone()[0]
        total += int(n)
    return total


# --------------------------------------------------------------------------- subsets


def pick_label_model(con: Any, key: str | None) -> str:
    keys = [
        r[0]
        for r in con.execute("SELECT DISTINCT model_key FROM clip_labels ORDER BY 1").fetchall()
    ]
    if key:
        if key not in keys:
            raise GeosqlError(f"no clip_labels for {key!r} (have: {', '.join(keys) or 'none'})")
        return key
    if len(keys) != 1:
        raise GeosqlError(
            f"choose --model-key among: {', '.join(keys)}"
            if keys
            else "no clip_labels yet: run `geosql run clip-relabel` first"
        )
    return keys[0]


def build_subset(
    con: Any,
    *,
    key: str | None = None,
    top: int = 1_000_000,
    min_domain_share: float = 0.04,
    min_class: int = 450,
    cap: int = 2000,
    seed: int = 0,
    per_domain_min: bool = True,
    table: str = "relabel_subset",
    out: Path | None = None,
) -> dict[str, Any]:
    """Materialise balanced_subset(...) as `table` (with label names, image paths); export it."""
    table = ident(table)
    key = pick_label_model(con, key)
    args = ", ".join(
        literal(v)
        for v in (
            key,
            int(top),
            float(min_domain_share),
            int(min_class),
            int(cap),
            int(seed),
            bool(per_domain_min),
        )
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
            SELECT s.caption_id, s.label_id, l.name AS label, s.similarity, s.country_code,
                   s.domain, c.image_path
            FROM balanced_subset({args}) s
            LEFT JOIN labels l USING (label_id)
            LEFT JOIN captions c USING (caption_id)
            ORDER BY s.label_id, s.domain, s.caption_id"""
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY {table} TO {literal(str(out))} (FORMAT parquet)")
    summary = con.execute(
        f"SELECT count(*), count(DISTINCT label_id), count(DISTINCT domain) FROM {table}"
    ).fetchone()
    domains = con.execute(
        f"SELECT domain, count(*) FROM {table} GROUP BY domain ORDER BY domain"
    ).fetchall()
    return {"rows": summary[0], "classes": summary[1], "domains": dict(domains), "model_key": key}
