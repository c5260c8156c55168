"""Gemini through google-genai: credentials, the client, generation configs, online sends.

`gemini_sender(model, gen, timeout_s)` is the provider half of `udfs.gemini.transport`: an
async context manager giving `send(request) -> (text, tokens_in, tokens_out)`, text and image
parts alike. `generate(requests, ...)` is the one-call helper (no cache) for scripts and tests.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from geosql.errors import GeosqlError, require
from udfs.gemini.transport import Call, Request, RetryPolicy, Sender, Transport

DEFAULT_MODEL = "gemini-2.5-flash"


def check_credentials(mode: str = "online") -> None:
    """Fail before any work when no credentials are configured (the SDK's standard env)."""
    env = os.environ
    if mode not in {"online", "batch"}:
        raise GeosqlError(f"mode must be online or batch, not {mode!r} (--set mode=online)")
    vertex = (
        env.get("GOOGLE_GENAI_USE_VERTEXAI", "") or env.get("GOOGLE_GENAI_USE_ENTERPRISE", "")
    ).lower() in {"1", "true", "yes"}
    if vertex:
        if not (env.get("GOOGLE_CLOUD_PROJECT") or env.get("GOOGLE_API_KEY")):
            raise GeosqlError(
                "Vertex AI is selected (GOOGLE_GENAI_USE_VERTEXAI) but GOOGLE_CLOUD_PROJECT "
                "(with GOOGLE_CLOUD_LOCATION and application default credentials) is not set"
            )
        if mode == "batch":
            raise GeosqlError(
                "batch mode uses the Gemini Developer API Batch API (inlined requests / Files "
                "API); on Vertex AI use --set mode=online"
            )
    elif not (env.get("GEMINI_API_KEY") or env.get("GOOGLE_API_KEY")):
        raise GeosqlError(
            "no Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or use Vertex AI with "
            "GOOGLE_GENAI_USE_VERTEXAI=true, GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION"
        )


def make_client(timeout_s: float = 120.0) -> Any:
    """A google-genai client from the standard environment; SDK retries off (we retry)."""
    genai = require("google.genai", "gemini")
    types = require("google.genai.types", "gemini")
    opts = types.HttpOptions(timeout=int(float(timeout_s) * 1000))
    base = os.environ.get("GOOGLE_GEMINI_BASE_URL")
    if base:
        opts.base_url = base
    try:
        return genai.Client(http_options=opts)
    except ValueError as e:
        raise GeosqlError(f"cannot create the Gemini client: {e}") from e


def generation(model: str, temperature: float, max_output_tokens: int, thinking: int) -> dict:
    """The generation config that keys the cache (2.5 Pro cannot switch thinking off: >= 128)."""
    if "pro" in model and 0 <= thinking < 128:
        thinking = 128
    return {
        "temperature": float(temperature),
        "max_output_tokens": int(max_output_tokens),
        "thinking_budget": int(thinking),
    }


def gen_config_obj(gen: dict[str, Any]) -> Any:
    types = require("google.genai.types", "gemini")
    kw: dict[str, Any] = {
        "temperature": gen["temperature"],
        "max_output_tokens": gen["max_output_tokens"],
    }
    if gen.get("thinking_budget") is not None and gen["thinking_budget"] >= 0:
        kw["thinking_config"] = types.ThinkingConfig(thinking_budget=gen["thinking_budget"])
    return types.GenerateContentConfig(**kw)


def gen_config_json(gen: dict[str, Any]) -> dict[str, Any]:
    """The same generation config in REST (camelCase) form, for JSONL batch requests."""
    out: dict[str, Any] = {
        "temperature": gen["temperature"],
        "maxOutputTokens": gen["max_output_tokens"],
    }
    if gen.get("thinking_budget") is not None and gen["thinking_budget"] >= 0:
        out["thinkingConfig"] = {"thinkingBudget": gen["thinking_budget"]}
    return out


def contents(request: Request) -> Any:
    """SDK contents: the plain string for a text-only request, else a list of parts."""
    if not request.n_images:
        return request.text
    types = require("google.genai.types", "gemini")
    return [
        types.Part.from_text(text=p.text)
        if p.text is not None
        else types.Part.from_bytes(data=p.data, mime_type=p.mime_type)
        for p in request.parts
    ]


def text_and_usage(resp: Any) -> tuple[str, int, int]:
    """Answer text (thought parts skipped) and token counts of an SDK response or its JSON."""

    def g(obj: Any, *names: str) -> Any:
        for n in names:
            if obj is None:
                return None
            obj = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        return obj

    parts = g(g(resp, "candidates") and g(resp, "candidates")[0], "content", "parts") or []
    text = "".join(g(p, "text") or "" for p in parts if not g(p, "thought"))
    if isinstance(resp, dict):
        um = g(resp, "usageMetadata")
        t_in = g(um, "promptTokenCount") or 0
        t_out = (g(um, "candidatesTokenCount") or 0) + (g(um, "thoughtsTokenCount") or 0)
    else:
        um = g(resp, "usage_metadata")
        t_in = g(um, "prompt_token_count") or 0
        t_out = (g(um, "candidates_token_count") or 0) + (g(um, "thoughts_token_count") or 0)
    return text, int(t_in), int(t_out)


def gemini_sender(model: str, gen: dict[str, Any], timeout_s: float = 120.0):
    """A factory of async context managers yielding `send(request)` on a fresh aio client."""

    @asynccontextmanager
    async def open_sender() -> AsyncIterator[Sender]:
        client = make_client(timeout_s)
        config = gen_config_obj(gen)

        async def send(request: Request) -> tuple[str, int, int]:
            resp = await client.aio.models.generate_content(
                model=model, contents=contents(request), config=config
            )
            return text_and_usage(resp)

        try:
            yield send
        finally:
            await client.aio.aclose()

    return open_sender


def generate(
    requests: Iterable[Request],
    *,
    model: str = DEFAULT_MODEL,
    gen: dict[str, Any] | None = None,
    transport: Transport | None = None,
    timeout_s: float = 120.0,
) -> dict[str, Call]:
    """Send requests online (no cache): prompt_hash -> Call. For scripts and tests."""
    gen = gen or generation(model, 0.0, 1024, 0)
    transport = transport or Transport(RetryPolicy(), concurrency=8)
    return transport.run(gemini_sender(model, gen, timeout_s), requests)
