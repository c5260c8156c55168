"""NLLB-200 (transformers seq2seq) translation to English, batched and OOM-safe.

`Translator.translate(texts, src_codes)` groups rows by source language, sorts each group by
length (less padding), generates in batches of `batch_size`, halves the batch on a CUDA
out-of-memory error (counted in `oom_halvings`) and reports per-row errors for rows that fail
even alone. Works on CPU (float32) and CUDA (float16 by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geosql.errors import GeosqlError, require

TARGET = "eng_Latn"


def is_oom(e: BaseException) -> bool:
    """A CUDA (or other accelerator) out-of-memory error."""
    name = type(e).__name__
    return name == "OutOfMemoryError" or "out of memory" in str(e).lower()


@dataclass
class Outcome:
    texts: list[str | None]
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)  # row -> (type, message)
    oom_halvings: int = 0
    batches: int = 0
    tokens_out: int = 0


class Translator:
    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        max_length: int = 256,
        max_input_length: int = 512,
        num_beams: int = 1,
        batch_size: int = 16,
    ) -> None:
        torch = require("torch", "text")
        transformers = require("transformers", "text")
        self.torch = torch
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        if dtype == "auto":
            dtype = "float16" if device.startswith("cuda") else "float32"
        self.dtype = getattr(torch, dtype)
        transformers.utils.logging.disable_progress_bar()
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
            self.model = transformers.AutoModelForSeq2SeqLM.from_pretrained(model, dtype=self.dtype)
        except OSError as e:
            raise GeosqlError(
                f"translate: cannot load model {model!r} ({str(e).splitlines()[0]}); give a "
                "local folder with --set model=PATH or download it to the Hugging Face cache"
            ) from e
        self.model.to(device).eval()
        self.max_length = max_length
        self.max_input_length = max_input_length
        self.num_beams = num_beams
        self.batch_size = max(1, batch_size)
        self.bos = self.tokenizer.convert_tokens_to_ids(TARGET)

    def _generate(self, texts: list[str], src: str) -> tuple[list[str], int]:
        tok = self.tokenizer
        tok.src_lang = src
        enc = tok(
            texts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_input_length,
        ).to(self.device)
        with self.torch.inference_mode():
            out = self.model.generate(
                **enc,
                forced_bos_token_id=self.bos,
                max_length=self.max_length,
                num_beams=self.num_beams,
            )
        n_tokens = int((out != tok.pad_token_id).sum())
        return tok.batch_decode(out, skip_special_tokens=True), n_tokens

    def translate(self, texts: list[str], src_codes: list[str]) -> Outcome:
        res = Outcome(texts=[None] * len(texts))
        groups: dict[str, list[int]] = {}
        for i, code in enumerate(src_codes):
            groups.setdefault(code, []).append(i)
        for code in sorted(groups):
            rows = sorted(groups[code], key=lambda i: (len(texts[i]), i))
            self._run(rows, texts, code, res)
        return res

    def _run(self, rows: list[int], texts: list[str], code: str, res: Outcome) -> None:
        size = self.batch_size
        start = 0
        while start < len(rows):
            chunk = rows[start : start + size]
            try:
                decoded, n = self._generate([texts[i] for i in chunk], code)
            except Exception as e:
                if is_oom(e) and size > 1:
                    self._free()
                    size = max(1, size // 2)
                    res.oom_halvings += 1
                    continue
                if len(chunk) > 1:  # find the failing rows one by one
                    self._free()
                    for i in chunk:
                        self._run_one(i, texts, code, res)
                    start += len(chunk)
                    continue
                res.errors[chunk[0]] = (type(e).__name__, str(e).splitlines()[0][:500])
                start += 1
                continue
            res.batches += 1
            res.tokens_out += n
            for i, t in zip(chunk, decoded, strict=True):
                res.texts[i] = t
            start += len(chunk)

    def _run_one(self, i: int, texts: list[str], code: str, res: Outcome) -> None:
        try:
            decoded, n = self._generate([texts[i]], code)
            res.texts[i] = decoded[0]
            res.batches += 1
            res.tokens_out += n
        except Exception as e:
            self._free()
            res.errors[i] = (type(e).__name__, str(e).splitlines()[0][:500])

    def _free(self) -> None:
        if self.device.startswith("cuda"):
            self.torch.cuda.empty_cache()

    def close(self) -> None:
        self.model = None
        self._free()


def describe(t: Any) -> str:
    return f"{type(t).__name__}(device={t.device}, dtype={t.dtype}, batch_size={t.batch_size})"
