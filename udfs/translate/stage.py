"""Stage `translate`: non-English captions -> English with NLLB-200 (`translations`).

Inputs are the captions whose language (view `caption_language`, filled by
`detect-language`) is known and not English; the language maps to its FLORES-200 code through
the shipped table (udfs/language/data/flores200.csv). Captions in a language NLLB does not
know become per-row errors; 'und' captions are not selected. Geoparse the result with
`geosql run geoparse --set source=translations --set method=offline+nllb`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from geosql.registry import BatchResult, Stage, registry
from udfs.language.codes import flores_code

DEFAULT_MODEL = "facebook/nllb-200-3.3B"
LIGHT_MODEL = "facebook/nllb-200-distilled-600M"

INPUTS = (
    "SELECT c.caption_id, c.text, l.language FROM captions c"
    " JOIN caption_language l USING (caption_id)"
    " WHERE l.language IS NOT NULL AND l.language NOT IN ('en', 'und')"
    " AND c.text IS NOT NULL AND trim(c.text) <> ''"
)


def prepare(con: Any, cfg: dict) -> dict:
    """Nothing to read from the warehouse: the spec is the model name or folder."""
    return {"model": cfg["model"]}


def open_translator(spec: dict, cfg: dict):
    from udfs.translate.nllb import Translator

    return Translator(
        spec["model"],
        device=cfg["device"],
        dtype=cfg["dtype"],
        max_length=cfg["max_length"],
        max_input_length=cfg["max_input_length"],
        num_beams=cfg["num_beams"],
        batch_size=cfg["gen_batch_size"],
    )


def close_translator(t: Any) -> None:
    t.close()


def process(translator: Any, batch: pa.Table, cfg: dict) -> BatchResult:
    ids = batch["caption_id"].to_pylist()
    texts = batch["text"].to_pylist()
    langs = batch["language"].to_pylist()
    errors: list[tuple[str, str, str]] = []
    rows, codes = [], []
    for i, lang in enumerate(langs):
        code = flores_code(lang)
        if code is None:
            errors.append((ids[i], "UnknownLanguage", f"no FLORES-200 code for {lang!r}"))
        else:
            rows.append(i)
            codes.append(code)
    res = translator.translate([texts[i] for i in rows], codes)
    out: dict[str, list] = {"caption_id": [], "model": [], "src_lang": [], "text_en": []}
    for j, i in enumerate(rows):
        if j in res.errors:
            errors.append((ids[i], *res.errors[j]))
            continue
        out["caption_id"].append(ids[i])
        out["model"].append(cfg["model"])
        out["src_lang"].append(codes[j])
        out["text_en"].append(res.texts[j])
    schema = pa.schema([(k, pa.string()) for k in out])
    return BatchResult(
        outputs={"translations": pa.table(out, schema=schema)},
        errors=errors,
        usage={
            "oom_halvings": float(res.oom_halvings),
            "generate_batches": float(res.batches),
            "tokens_out": float(res.tokens_out),
        },
    )


STAGE = registry.stage(
    Stage(
        name="translate",
        description="NLLB-200 translation of non-English captions to English (translations)",
        inputs=INPUTS,
        outputs=("translations",),
        prepare=prepare,
        open=open_translator,
        process=process,
        close=close_translator,
        defaults={
            "model": DEFAULT_MODEL,
            "max_length": 256,
            "max_input_length": 512,
            "num_beams": 1,
            "dtype": "auto",
            "device": "auto",
            "gen_batch_size": 16,
        },
        depends_on=("detect-language",),
        runtime_keys=("device", "gen_batch_size"),
        version="1",
        batch_size=512,
        extra="text",
    )
)
