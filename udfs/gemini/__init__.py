"""LLM geoparsing with Gemini: extract -> retrieve -> predict, online or through the Batch API.

Stage `llm-geoparse` (method `gemini`) asks the model for the primary location a caption names
(or "no"), retrieves the top-k GeoNames candidates for it from the FAISS place index
(`udfs.retrieval`), then asks for the country given "Location: X, geotag: Country" guidance.
Stage `hybrid-geoparse` (method `hybrid`) keeps the offline geoparser's answer where it is sure.

Never pay twice: every request is keyed by (prompt hash, model, generation config) in
`llm_calls`; an answered request is never sent again, whichever stage or mode asks.

Modules: `prompts` (prompts, answer parsing), `transport` (provider-neutral requests with text
and image parts, retries, rate limits, costs), `online` (google-genai client and sends),
`batch` (Batch API jobs), `cache` (the call cache and worker journals), `engine` (cache first,
then online or batch), `pipeline` (the stages' pure `process`), `stages`, `cli`.
Imports stay light: google-genai, faiss and torch load on first use.
"""

from udfs.gemini import stages  # noqa: F401  (registers llm-geoparse, hybrid-geoparse)
from udfs.gemini.online import check_credentials, make_client
from udfs.gemini.prompts import (
    budget_threshold,
    budget_thresholds,
    extract_prompt,
    parse_country,
    parse_location,
    predict_prompt,
    prompt_hash,
    send_to_llm,
)
from udfs.gemini.transport import Call, Request, image_part, retry_hint, text_part

__all__ = [
    "Call",
    "Request",
    "check_credentials",
    "extract_prompt",
    "image_part",
    "make_client",
    "parse_country",
    "parse_location",
    "predict_prompt",
    "prompt_hash",
    "retry_hint",
    "budget_threshold",
    "budget_thresholds",
    "send_to_llm",
    "text_part",
]
