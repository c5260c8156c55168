"""Provider-neutral LLM transport, shared by every LLM and LMM stage.

- `Request`: ordered parts, text and/or inline images (bytes + mime type); `prompt_hash` keys it
  (sha256 of the text for a text-only request, so text caches stay valid).
- `Call`: one request's outcome (answer text and tokens, or an error; `transient` errors leave
  the item pending instead of failed).
- `Transport`: async calls with bounded concurrency, retries with exponential backoff and
  jitter honouring Retry-After / google.rpc.RetryInfo, requests- and tokens-per-minute limits,
  and an outage breaker: once the endpoint is unreachable after every retry, the remaining
  requests of the run are not sent (they come back transient, hence pending).
- `cost_usd` / `usage`: cost accounting from a (input, output, batch discount) price triple.

A provider plugs in a `send(request) -> (text, tokens_in, tokens_out)` coroutine (see
`udfs.gemini.online.gemini_sender`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from geosql.errors import GeosqlError

RETRYABLE = {408, 429, 500, 502, 503, 504}
OUTAGE = {408, 429, 502, 503, 504}  # still failing after every retry: transient (pending)
FATAL = {401, 403, 404}  # would fail every request alike: stop the run
IMAGE_TOKENS = 258  # Gemini's count for an image up to 384 px a side (estimate for rate limits)


@dataclass(frozen=True)
class Part:
    """A text part (`text`) or an inline binary part (`data` with `mime_type`)."""

    text: str | None = None
    data: bytes | None = None
    mime_type: str | None = None

    def describe(self) -> str:
        if self.text is not None:
            return self.text
        digest = hashlib.sha256(self.data or b"").hexdigest()[:16]
        return f"[{self.mime_type} {len(self.data or b'')} bytes sha256:{digest}]"


def text_part(text: str) -> Part:
    return Part(text=str(text))


def image_part(data: bytes, mime_type: str = "image/jpeg") -> Part:
    """An inline image (JPEG, PNG, WebP...) sent with the request."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise GeosqlError("image_part needs the image file's bytes")
    if not str(mime_type).startswith("image/"):
        raise GeosqlError(f"image_part: mime type must be image/..., not {mime_type!r}")
    return Part(data=bytes(data), mime_type=mime_type)


@dataclass(frozen=True)
class Request:
    """One generation request: parts in order (text and images)."""

    parts: tuple[Part, ...]

    @classmethod
    def of(cls, *parts: str | Part) -> Request:
        """`Request.of("prompt")` or `Request.of(image_part(b, "image/png"), "Where is this?")`."""
        return cls(tuple(p if isinstance(p, Part) else text_part(p) for p in parts))

    @property
    def text(self) -> str:
        """The prompt as stored in `llm_calls.prompt` (images as a short placeholder)."""
        return "".join(p.describe() for p in self.parts)

    @property
    def n_images(self) -> int:
        return sum(1 for p in self.parts if p.data is not None)

    @property
    def prompt_hash(self) -> str:
        if not self.n_images:
            return hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        canon = [
            {"text": p.text}
            if p.text is not None
            else {"mime": p.mime_type, "sha256": hashlib.sha256(p.data or b"").hexdigest()}
            for p in self.parts
        ]
        return hashlib.sha256(json.dumps(canon, ensure_ascii=False).encode()).hexdigest()

    def estimate_tokens(self) -> int:
        n_text = sum(len(p.text) for p in self.parts if p.text is not None)
        return n_text // 4 + 32 + IMAGE_TOKENS * self.n_images

    def rest_parts(self) -> list[dict[str, Any]]:
        """REST (JSON) form of the parts: `{"text"}` / `{"inlineData": {mimeType, data}}`."""
        return [
            {"text": p.text}
            if p.text is not None
            else {
                "inlineData": {
                    "mimeType": p.mime_type,
                    "data": base64.b64encode(p.data or b"").decode(),
                }
            }
            for p in self.parts
        ]


@dataclass
class Call:
    """One request and its outcome. `text` None means the call failed (see `error`)."""

    prompt_hash: str
    prompt: str
    text: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float | None = None
    attempts: int = 0
    error: str | None = None
    mode: str = "online"
    batch_job: str | None = None
    fresh: bool = False  # sent (and paid for) in this run
    transient: bool = False  # the error is an outage: leave the item pending, not failed


Sender = Callable[[Request], Awaitable[tuple[str, int, int]]]


class FatalError(GeosqlError):
    """The provider refused in a way that fails every request alike (key, permission, model)."""


# -- errors --------------------------------------------------------------------------------


def status_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    if not isinstance(code, int):
        code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


# Transport-level failures of the HTTP clients the SDKs use (httpx, httpx2, aiohttp, requests).
NETWORK_ERRORS = {
    "TransportError",
    "NetworkError",
    "TimeoutException",
    "ClientConnectionError",
    "ServerTimeoutError",
    "ConnectionError",
    "Timeout",
}


def is_network(exc: BaseException) -> bool:
    """Connection refused, reset, DNS, timeouts: the endpoint did not answer."""
    if isinstance(exc, TimeoutError | ConnectionError | asyncio.TimeoutError):
        return True
    return any(k.__name__ in NETWORK_ERRORS for k in type(exc).__mro__)


def classify(exc: BaseException) -> str:
    """'fatal' (stop the run), 'retry' (transient: try again) or 'permanent' (this request)."""
    code = status_code(exc)
    msg = str(getattr(exc, "message", "") or exc).lower()
    if code in FATAL or (code == 400 and "api key" in msg):
        return "fatal"
    if code is not None:
        return "retry" if code in RETRYABLE else "permanent"
    return "retry" if is_network(exc) else "permanent"


def is_outage(exc: BaseException) -> bool:
    """After all retries: is this still a transient condition (leave pending)?"""
    code = status_code(exc)
    return code in OUTAGE if code is not None else is_network(exc)


def brief(exc: BaseException) -> str:
    """One line: exception type, HTTP code, message."""
    code = status_code(exc)
    msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    msg = " ".join(str(msg).split())[:300]
    return f"{type(exc).__name__} {code}: {msg}" if code else f"{type(exc).__name__}: {msg}"


def retry_hint(exc: BaseException) -> float | None:
    """Seconds the server asks us to wait: Retry-After header, else google.rpc.RetryInfo."""
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    details = getattr(exc, "details", None)
    if isinstance(details, dict):
        for d in (details.get("error") or details).get("details") or []:
            if isinstance(d, dict) and str(d.get("@type", "")).endswith("RetryInfo"):
                m = re.fullmatch(r"\s*([\d.]+)s\s*", str(d.get("retryDelay", "")))
                if m:
                    return float(m.group(1))
    return None


@dataclass
class RetryPolicy:
    max_retries: int = 6
    base_s: float = 2.0
    max_s: float = 120.0

    def delay(self, exc: BaseException, attempt: int) -> float:
        """The server's hint if any, else exponential backoff with jitter; capped at max_s."""
        hint = retry_hint(exc)
        if hint is not None:
            return min(hint, self.max_s)
        return min(self.max_s, self.base_s * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


class RateLimiter:
    """Requests-per-minute and tokens-per-minute over a sliding 60 s window (asyncio)."""

    def __init__(self, rpm: int, tpm: int):
        self.rpm, self.tpm = rpm, tpm
        self.events: deque[tuple[float, int]] = deque()
        self.tokens = 0

    async def acquire(self, tokens: int) -> None:
        while True:
            now = time.monotonic()
            while self.events and now - self.events[0][0] >= 60.0:
                self.tokens -= self.events.popleft()[1]
            ok_r = self.rpm <= 0 or len(self.events) < self.rpm
            ok_t = self.tpm <= 0 or not self.events or self.tokens + tokens <= self.tpm
            if ok_r and ok_t:
                self.events.append((now, tokens))
                self.tokens += tokens
                return
            await asyncio.sleep(max(0.01, self.events[0][0] + 60.0 - now))

    def settle(self, estimated: int, actual: int) -> None:
        """Replace a request's estimated tokens by what it really used."""
        for i in range(len(self.events) - 1, -1, -1):
            if self.events[i][1] == estimated:
                t, _ = self.events[i]
                self.events[i] = (t, actual)
                self.tokens += actual - estimated
                return


# -- the transport -------------------------------------------------------------------------


@dataclass
class Transport:
    """Sends requests with retries, limits and the outage breaker. Keep one per worker/run."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    rpm: int = 0
    tpm: int = 0
    concurrency: int = 8
    down: str | None = None  # why the endpoint is considered unreachable for the rest of the run
    limiter: RateLimiter | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = RateLimiter(self.rpm, self.tpm)

    async def call(self, send: Sender, request: Request, mode: str = "online") -> Call:
        """One request until answered, failed for good, or the endpoint is down."""
        call = Call(request.prompt_hash, request.text, mode=mode)
        estimate = request.estimate_tokens()
        t0 = time.perf_counter()
        while True:
            if self.down is not None:
                call.error, call.transient = f"not sent: {self.down}", True
                return call
            call.attempts += 1
            assert self.limiter is not None
            await self.limiter.acquire(estimate)
            try:
                text, t_in, t_out = await send(request)
            except Exception as e:
                kind = classify(e)
                if kind == "fatal":
                    raise FatalError(f"the LLM endpoint refused the request ({brief(e)})") from e
                if kind == "retry" and call.attempts <= self.policy.max_retries:
                    await asyncio.sleep(self.policy.delay(e, call.attempts))
                    continue
                call.error = brief(e)
                call.latency_s = time.perf_counter() - t0
                if kind == "retry" and is_outage(e):
                    call.transient = True
                    if is_network(e):
                        self.down = (
                            f"endpoint unreachable after {call.attempts} tries ({call.error})"
                        )
                return call
            self.limiter.settle(estimate, t_in + t_out)
            call.text, call.tokens_in, call.tokens_out, call.fresh = text, t_in, t_out, True
            call.latency_s = time.perf_counter() - t0
            return call

    async def gather(
        self,
        open_sender: Callable[[], AbstractAsyncContextManager[Sender]],
        requests: Iterable[Request],
        on_call: Callable[[Call], None] | None = None,
    ) -> dict[str, Call]:
        """prompt_hash -> Call for every request; `on_call` sees each call as it completes."""
        sem = asyncio.Semaphore(max(1, int(self.concurrency)))
        uniq = {r.prompt_hash: r for r in requests}

        async with open_sender() as send:

            async def one(r: Request) -> Call:
                async with sem:
                    c = await self.call(send, r)
                if on_call is not None:
                    on_call(c)
                return c

            calls = await asyncio.gather(*(one(r) for r in uniq.values()))
        return {c.prompt_hash: c for c in calls}

    def run(
        self,
        open_sender: Callable[[], AbstractAsyncContextManager[Sender]],
        requests: Iterable[Request],
        on_call: Callable[[Call], None] | None = None,
    ) -> dict[str, Call]:
        """`gather` from synchronous code (also from inside a running event loop)."""
        return run_async(self.gather(open_sender, list(requests), on_call))


def run_async(coro: Any) -> Any:
    """asyncio.run, also from code already inside an event loop (e.g. a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# -- cost accounting -----------------------------------------------------------------------

Prices = tuple[float, float, float]  # USD per 1M input tokens, per 1M output tokens, batch discount


def cost_usd(tokens_in: int, tokens_out: int, prices: Prices | None, batch: bool = False) -> float:
    if not prices:
        return 0.0
    p_in, p_out, disc = prices
    cost = (tokens_in * p_in + tokens_out * p_out) / 1e6
    return cost * (1.0 - (disc or 0.0)) if batch else cost


def usage(calls: Iterable[Call], prices: Prices | None) -> dict[str, float]:
    """Counters for `BatchResult.usage`: what was sent and paid for, cache hits, retries."""
    calls = list(calls)
    sent = [c for c in calls if c.fresh or c.text is None]
    fresh = [c for c in calls if c.fresh]
    return {
        "tokens_in": sum(c.tokens_in for c in fresh),
        "tokens_out": sum(c.tokens_out for c in fresh),
        "cost_usd": sum(
            cost_usd(c.tokens_in, c.tokens_out, prices, c.mode == "batch") for c in fresh
        ),
        "llm_requests": len(fresh),
        "cache_hits": sum(1 for c in calls if not c.fresh and c.text is not None),
        "retries": sum(max(0, c.attempts - 1) for c in sent if c.mode == "online"),
        "llm_failed": sum(1 for c in calls if c.text is None and not c.transient),
        "llm_pending": sum(1 for c in calls if c.text is None and c.transient),
    }
