"""LLM geoparsing with Gemini: extract -> retrieve -> predict, online or through the Batch API.

Stage `llm-geoparse` (method `gemini`) asks the model for the primary location a caption names
(or "no"), retrieves the top-k GeoNames candidates for it from the FAISS place index
(`udfs.retrieval`), then asks for the country given "Location: X, geotag: Country" guidance.
The answer is normalized with `geosql.countries.normalize_country`; an answer it does not know
becomes NULL, its raw text kept in `llm_geoparse`.

Stage `hybrid-geoparse` (method `hybrid`) keeps the offline geoparser's answer where it is sure
and asks the LLM only for captions below a confidence threshold or with candidates in several
countries.

Never pay twice: every request is keyed by (sha256 of the prompt, model, generation config) in
`llm_calls`; an answered request is never sent again, whichever stage or mode asks. Answers
are written the moment they arrive, so a killed run loses nothing it paid for.

Modes (`--set mode=online|batch`, a runtime setting: both fill the same cache):
- online: async client, bounded concurrency, requests/tokens-per-minute limits, retries with
  exponential backoff on 408/429/5xx and network errors, honouring Retry-After and RetryInfo.
- batch: the Gemini Batch API (half price): inlined requests for small jobs, a JSONL file
  uploaded with the Files API for large ones; jobs are recorded in `llm_batch_jobs` before
  polling, so rerunning the command resumes a job still running instead of submitting again.

The process functions reach the warehouse only through the call cache kept in their state:
a paid answer must be on disk the moment it arrives, not at the end of the batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import click
import pyarrow as pa

from geosql.errors import GeosqlError, require
from geosql.registry import BatchResult, Stage, registry

DEFAULT_MODEL = "gemini-2.5-flash"
RETRYABLE = {408, 429, 500, 502, 503, 504}
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
NO_PLACE = {"no", "none", "n/a", "na", "null", "unknown", "no location", "no place", "nothing", ""}

EXTRACT_PROMPT = """You find the primary location named in an image caption.

Rules:
- Answer with the primary location as it is written in the caption, together with the larger \
places written with it (for example "Springfield, Illinois").
- No abbreviations: write an abbreviated place name in full (for example "NYC" -> "New York City").
- No guessing: if the caption names no location, answer no. Do not infer a location from \
languages, names of people, brands, food or styles.
- Continents and vague regions (for example "Europe", "Asia", "the Middle East", "the tropics", \
"the West") do not count as locations: answer no.
- Answer with the location only, or with the single word no.

Caption: {caption}
Location:"""

PREDICT_PROMPT = """An image caption names the location "{location}".
Places from the GeoNames gazetteer whose names match it (guidance only: they can be wrong):
{candidates}

Caption: {caption}

In which country is "{location}"? Use the caption and the candidates as guidance. Answer with \
the country's common English name only (for example "France"), or no if the location is not \
within a single country.
Country:"""


# -- prompts and parsing (pure functions) ---------------------------------------------------


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def extract_prompt(caption: str) -> str:
    return EXTRACT_PROMPT.format(caption=" ".join(str(caption).split()))


def predict_prompt(
    caption: str, location: str, candidates: list[dict], names: dict[str, str]
) -> str:
    lines, seen = [], set()
    for c in candidates:
        country = names.get(c.get("country_code") or "", c.get("country_code") or "unknown")
        line = f"Location: {c['name']}, geotag: {_title(country)}"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return PREDICT_PROMPT.format(
        location=location,
        candidates="\n".join(lines) if lines else "(none found)",
        caption=" ".join(str(caption).split()),
    )


def _title(name: str) -> str:
    small = {"and", "of", "the", "da", "de", "du"}
    words = name.split(" ")
    return " ".join(
        w if (i and w in small) or not w.islower() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def _clean(raw: str | None) -> str:
    if raw is None:
        return ""
    text = raw.strip().splitlines()[0].strip() if raw.strip() else ""
    text = re.sub(r"^(location|country|answer)\s*:\s*", "", text, flags=re.I)
    prev = None
    while prev != text:
        prev = text
        text = text.strip().strip("\"'`*").strip()
        if text.endswith(".") and not re.search(r"\b\w\.\w\.$", text):
            text = text[:-1]
    return text


def parse_location(raw: str | None) -> str | None:
    """The extracted location, or None for "no" and for answers that are not a place name."""
    text = _clean(raw)
    if text.lower() in NO_PLACE or len(text) > 150:
        return None
    return text


def parse_country(raw: str | None) -> str | None:
    """ISO2 code of the country answer; None for "no" and for answers the normalizer does not know."""
    text = _clean(raw)
    if text.lower() in NO_PLACE:
        return None
    return _normalize(text)


def _normalize(text: str) -> str | None:
    from geosql.countries import normalize_country  # lazy: the one country normalizer

    return normalize_country(text)


# -- call records and the cache ------------------------------------------------------------


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


class CallStore:
    """`llm_calls` and the batch job tables, through a cursor of the warehouse connection."""

    def __init__(self, con: Any, model: str, gen_config: dict[str, Any]):
        self.cur = con.cursor()
        self.model = model
        self.config = json.dumps(gen_config, sort_keys=True)

    def get(self, hashes: list[str]) -> dict[str, Call]:
        """Answered calls (response not NULL) among `hashes`."""
        if not hashes:
            return {}
        self.cur.register("_llm_keys", pa.table({"h": list(hashes)}))
        rows = self.cur.execute(
            "SELECT prompt_hash, prompt, response, tokens_in, tokens_out, latency_s, attempts,"
            " mode, batch_job FROM llm_calls WHERE model = ? AND config = ?"
            " AND response IS NOT NULL AND prompt_hash IN (SELECT h FROM _llm_keys)",
            [self.model, self.config],
        ).fetchall()
        self.cur.unregister("_llm_keys")
        return {
            r[0]: Call(r[0], r[1], r[2], r[3] or 0, r[4] or 0, r[5], r[6] or 0, None, r[7], r[8])
            for r in rows
        }

    def put(self, calls: list[Call]) -> None:
        """Record calls; a failure never overwrites an answer already stored."""
        if not calls:
            return
        t = pa.table(
            {
                "prompt_hash": [c.prompt_hash for c in calls],
                "prompt": [c.prompt for c in calls],
                "response": pa.array([c.text for c in calls], pa.string()),
                "tokens_in": pa.array([c.tokens_in for c in calls], pa.int64()),
                "tokens_out": pa.array([c.tokens_out for c in calls], pa.int64()),
                "latency_s": pa.array([c.latency_s for c in calls], pa.float64()),
                "mode": [c.mode for c in calls],
                "batch_job": pa.array([c.batch_job for c in calls], pa.string()),
                "attempts": pa.array([c.attempts for c in calls], pa.int32()),
                "error": pa.array([c.error for c in calls], pa.string()),
            }
        )
        self.cur.register("_llm_new", t)
        self.cur.execute(
            "INSERT INTO llm_calls (prompt_hash, model, config, prompt, response, tokens_in,"
            " tokens_out, latency_s, mode, batch_job, attempts, error, created)"
            " SELECT prompt_hash, ?, ?, prompt, response, tokens_in, tokens_out, latency_s, mode,"
            " batch_job, attempts, error, now() FROM _llm_new n"
            " WHERE NOT EXISTS (SELECT 1 FROM llm_calls c WHERE c.prompt_hash = n.prompt_hash"
            "   AND c.model = ? AND c.config = ? AND c.response IS NOT NULL)"
            " ON CONFLICT DO UPDATE SET response = excluded.response, tokens_in ="
            " excluded.tokens_in, tokens_out = excluded.tokens_out, latency_s ="
            " excluded.latency_s, mode = excluded.mode, batch_job = excluded.batch_job,"
            " attempts = excluded.attempts, error = excluded.error, created = excluded.created",
            [self.model, self.config, self.model, self.config],
        )
        self.cur.unregister("_llm_new")

    # batch jobs
    def live_jobs(self, hashes: list[str]) -> dict[str, set[str]]:
        """Jobs not yet ingested that hold any of `hashes`: job name -> its hashes among them."""
        if not hashes:
            return {}
        self.cur.register("_llm_keys", pa.table({"h": list(hashes)}))
        rows = self.cur.execute(
            "SELECT r.job_name, r.prompt_hash FROM llm_batch_requests r"
            " JOIN llm_batch_jobs j USING (job_name)"
            " WHERE NOT j.ingested AND j.model = ? AND j.config = ?"
            " AND r.prompt_hash IN (SELECT h FROM _llm_keys)",
            [self.model, self.config],
        ).fetchall()
        self.cur.unregister("_llm_keys")
        out: dict[str, set[str]] = {}
        for job, h in rows:
            out.setdefault(job, set()).add(h)
        return out

    def add_job(
        self, name: str, phase: str, source: str, state: str, prompts: dict[str, str]
    ) -> None:
        self.cur.begin()
        self.cur.execute(
            "INSERT INTO llm_batch_jobs (job_name, model, config, phase, source, n_requests,"
            " state, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, now(), now())",
            [name, self.model, self.config, phase, source, len(prompts), state],
        )
        self.cur.register("_llm_req", pa.table({"h": list(prompts), "p": list(prompts.values())}))
        self.cur.execute("INSERT INTO llm_batch_requests SELECT ?, h, p FROM _llm_req", [name])
        self.cur.unregister("_llm_req")
        self.cur.commit()

    def job_prompts(self, name: str) -> dict[str, str]:
        rows = self.cur.execute(
            "SELECT prompt_hash, prompt FROM llm_batch_requests WHERE job_name = ?", [name]
        ).fetchall()
        return dict(rows)

    def update_job(
        self, name: str, state: str, *, ingested: bool = False, error: str | None = None
    ) -> None:
        self.cur.execute(
            "UPDATE llm_batch_jobs SET state = ?, ingested = ingested OR ?, error = coalesce(?, error),"
            " updated = now() WHERE job_name = ?",
            [state, ingested, error, name],
        )


# -- talking to Gemini ---------------------------------------------------------------------


def check_credentials(mode: str = "online") -> None:
    """Fail before any work when no credentials are configured (the SDK's standard env)."""
    env = os.environ
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
    if mode not in {"online", "batch"}:
        raise GeosqlError(f"mode must be online or batch, not {mode!r}")


def make_client(timeout_s: float = 120.0) -> Any:
    """A google-genai client from the standard environment; SDK retries off (we retry)."""
    genai = require("google.genai", "gemini")
    types = require("google.genai.types", "gemini")
    opts = types.HttpOptions(timeout=int(timeout_s * 1000))
    base = os.environ.get("GOOGLE_GEMINI_BASE_URL")
    if base:
        opts.base_url = base
    try:
        return genai.Client(http_options=opts)
    except ValueError as e:
        raise GeosqlError(f"cannot create the Gemini client: {e}") from e


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


def _text_and_usage(resp: Any) -> tuple[str, int, int]:
    """Answer text (thought parts skipped) and token counts of an SDK response or its JSON."""

    def g(obj: Any, *names: str) -> Any:
        for n in names:
            if obj is None:
                return None
            obj = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        return obj

    parts = g(g(resp, "candidates") and g(resp, "candidates")[0], "content", "parts") or []
    text = "".join(g(p, "text") or "" for p in parts if not g(p, "thought"))
    um = g(resp, "usageMetadata") if isinstance(resp, dict) else g(resp, "usage_metadata")
    if isinstance(resp, dict):
        t_in = g(um, "promptTokenCount") or 0
        t_out = (g(um, "candidatesTokenCount") or 0) + (g(um, "thoughtsTokenCount") or 0)
    else:
        t_in = g(um, "prompt_token_count") or 0
        t_out = (g(um, "candidates_token_count") or 0) + (g(um, "thoughts_token_count") or 0)
    return text, int(t_in), int(t_out)


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


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def _is_transient(exc: BaseException) -> bool:
    code = _status(exc)
    if code is not None:
        return code in RETRYABLE
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, TimeoutError | ConnectionError)


def _is_fatal(exc: BaseException) -> bool:
    """Errors that would fail every request alike (key, permission, model): stop the run."""
    code = _status(exc)
    msg = str(getattr(exc, "message", "") or exc).lower()
    return code in {401, 403, 404} or (code == 400 and "api key" in msg)


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


@dataclass
class Engine:
    """Answers prompts from the cache, else online or through batch jobs; records every call."""

    store: CallStore
    cfg: dict[str, Any]
    gen: dict[str, Any]
    prices: tuple[float, float, float] | None
    client: Any = None
    limiter: RateLimiter | None = None
    log: Any = field(default=lambda msg: click.echo(msg, err=True))

    @property
    def model(self) -> str:
        return self.cfg["model"]

    def answer(self, prompts: dict[str, str], phase: str) -> dict[str, Call]:
        """hash -> Call for every prompt (failed calls carry `error`)."""
        done = self.store.get(list(prompts))
        todo = {h: p for h, p in prompts.items() if h not in done}
        if todo:
            if self.cfg["mode"] == "batch":
                done.update(self._batch(todo, phase))
            else:
                done.update(_run_async(self._online(todo)))
        return done

    def usage(self, calls: list[Call]) -> dict[str, float]:
        fresh = [c for c in calls if c.fresh]
        t_in = sum(c.tokens_in for c in fresh)
        t_out = sum(c.tokens_out for c in fresh)
        cost = 0.0
        if self.prices:
            p_in, p_out, disc = self.prices
            cost = (t_in * p_in + t_out * p_out) / 1e6
            if self.cfg["mode"] == "batch":
                cost *= 1.0 - disc
        return {
            "tokens_in": t_in,
            "tokens_out": t_out,
            "cost_usd": cost,
            "llm_requests": len(fresh),
            "llm_cache_hits": sum(1 for c in calls if not c.fresh and c.text is not None),
        }

    # online
    async def _online(self, todo: dict[str, str]) -> dict[str, Call]:
        client = make_client(self.cfg["timeout_s"])
        config = gen_config_obj(self.gen)
        sem = asyncio.Semaphore(max(1, int(self.cfg["concurrency"])))
        if self.limiter is None:
            self.limiter = RateLimiter(int(self.cfg["rpm"]), int(self.cfg["tpm"]))

        async def one(h: str, prompt: str) -> Call:
            async with sem:
                call = await self._call(client, config, h, prompt)
            self.store.put([call])  # on disk before anything else can go wrong
            return call

        try:
            calls = await asyncio.gather(*(one(h, p) for h, p in todo.items()))
        finally:
            await client.aio.aclose()
        return {c.prompt_hash: c for c in calls}

    async def _call(self, client: Any, config: Any, h: str, prompt: str) -> Call:
        call = Call(h, prompt, mode="online")
        estimate = len(prompt) // 4 + 32
        t0 = time.perf_counter()
        max_retries = int(self.cfg["max_retries"])
        while True:
            call.attempts += 1
            assert self.limiter is not None
            await self.limiter.acquire(estimate)
            try:
                resp = await client.aio.models.generate_content(
                    model=self.model, contents=prompt, config=config
                )
            except Exception as e:
                if _is_fatal(e):
                    raise GeosqlError(f"Gemini refused the request ({_brief(e)}); stopping") from e
                if _is_transient(e) and call.attempts <= max_retries:
                    await asyncio.sleep(self._backoff(e, call.attempts))
                    continue
                call.error = _brief(e)
                call.latency_s = time.perf_counter() - t0
                return call
            text, call.tokens_in, call.tokens_out = _text_and_usage(resp)
            self.limiter.settle(estimate, call.tokens_in + call.tokens_out)
            call.text, call.fresh = text, True
            call.latency_s = time.perf_counter() - t0
            return call

    def _backoff(self, exc: BaseException, attempt: int) -> float:
        cap = float(self.cfg["retry_max_s"])
        hint = retry_hint(exc)
        if hint is not None:
            return min(hint, cap)
        base = float(self.cfg["retry_base_s"])
        return min(cap, base * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)

    # batch
    def _batch(self, todo: dict[str, str], phase: str) -> dict[str, Call]:
        if self.client is None:
            self.client = make_client(self.cfg["timeout_s"])
        live = self.store.live_jobs(list(todo))
        covered = set().union(*live.values()) if live else set()
        for job in live:
            self.log(f"resuming batch job {job} ({len(live[job])} of our requests)")
        new = {h: p for h, p in todo.items() if h not in covered}
        chunk = max(1, int(self.cfg["batch_max_requests"]))
        items = list(new.items())
        for i in range(0, len(items), chunk):
            name = self._submit(dict(items[i : i + chunk]), phase)
            live[name] = set(dict(items[i : i + chunk]))
        results = self._wait(list(live))
        out: dict[str, Call] = {}
        for h, p in todo.items():
            out[h] = results.get(h) or Call(
                h, p, error="no result from the batch job", mode="batch"
            )
        return out

    def _submit(self, prompts: dict[str, str], phase: str) -> str:
        types = require("google.genai.types", "gemini")
        display = f"geosql-{phase}-{len(prompts)}"
        if len(prompts) <= int(self.cfg["inline_max"]):
            config = gen_config_obj(self.gen)
            src: Any = [
                types.InlinedRequest(contents=p, metadata={"key": h}, config=config)
                for h, p in prompts.items()
            ]
            source = "inline"
        else:
            gen = gen_config_json(self.gen)
            with tempfile.NamedTemporaryFile(
                "w", suffix=".jsonl", delete=False, encoding="utf-8"
            ) as f:
                for h, p in prompts.items():
                    req = {
                        "contents": [{"role": "user", "parts": [{"text": p}]}],
                        "generationConfig": gen,
                    }
                    f.write(json.dumps({"key": h, "request": req}, ensure_ascii=False) + "\n")
            try:
                up = self.client.files.upload(
                    file=f.name,
                    config=types.UploadFileConfig(mime_type="jsonl", display_name=display),
                )
            finally:
                Path(f.name).unlink(missing_ok=True)
            src = source = up.name
        job = self.client.batches.create(
            model=self.model, src=src, config={"display_name": display}
        )
        state = _state(job)
        self.store.add_job(job.name, phase, source, state, prompts)
        self.log(
            f"submitted batch job {job.name}: {len(prompts)} {phase} requests ({source}), {state}"
        )
        return job.name

    def _wait(self, names: list[str]) -> dict[str, Call]:
        results: dict[str, Call] = {}
        pending = list(names)
        t0 = time.monotonic()
        last: dict[str, str] = {}
        while pending:
            for name in list(pending):
                job = self.client.batches.get(name=name)
                state = _state(job)
                if last.get(name) != state:
                    self.log(f"batch job {name}: {state} ({time.monotonic() - t0:.0f}s)")
                    last[name] = state
                if state in TERMINAL:
                    results.update(self._ingest(job, state))
                    pending.remove(name)
                else:
                    self.store.update_job(name, state)
            if not pending:
                break
            wait_max = float(self.cfg["batch_wait_s"])
            if wait_max > 0 and time.monotonic() - t0 >= wait_max:
                raise BatchStillRunning(
                    f"batch job(s) {', '.join(pending)} still running after {wait_max:.0f}s; "
                    "run the same command again to resume them (nothing is submitted twice)"
                )
            time.sleep(float(self.cfg["poll_s"]))
        return results

    def _ingest(self, job: Any, state: str) -> dict[str, Call]:
        prompts = self.store.job_prompts(job.name)
        calls: dict[str, Call] = {}
        if state == "JOB_STATE_SUCCEEDED":
            dest = job.dest
            if dest is not None and dest.inlined_responses is not None:
                keys = list(prompts)
                for i, r in enumerate(dest.inlined_responses):
                    h = (r.metadata or {}).get("key") or (keys[i] if i < len(keys) else None)
                    if h in prompts:
                        calls[h] = self._batch_call(h, prompts[h], job.name, r.response, r.error)
            elif dest is not None and dest.file_name:
                data = self.client.files.download(file=dest.file_name)
                for line in data.decode("utf-8").splitlines():
                    if not line.strip():
                        continue
                    rec = json.loads(line)
                    h = rec.get("key")
                    if h in prompts:
                        err = rec.get("error") or rec.get("status")
                        calls[h] = self._batch_call(
                            h, prompts[h], job.name, rec.get("response"), err
                        )
            error = None
        else:
            error = f"batch job ended {state}: {getattr(job.error, 'message', None) or ''}".strip()
        for h, p in prompts.items():
            calls.setdefault(
                h,
                Call(
                    h,
                    p,
                    error=error or "missing from batch results",
                    mode="batch",
                    batch_job=job.name,
                ),
            )
        self.store.put(list(calls.values()))
        self.store.update_job(job.name, state, ingested=True, error=error)
        return calls

    def _batch_call(self, h: str, prompt: str, job: str, resp: Any, err: Any) -> Call:
        call = Call(h, prompt, mode="batch", batch_job=job, attempts=1)
        if resp is not None and not err:
            call.text, call.tokens_in, call.tokens_out = _text_and_usage(resp)
            call.fresh = True
        else:
            msg = err.get("message") if isinstance(err, dict) else getattr(err, "message", err)
            code = err.get("code") if isinstance(err, dict) else getattr(err, "code", None)
            call.error = f"{code or ''} {msg or 'no response'}".strip()
        return call


def _run_async(coro: Any) -> Any:
    """asyncio.run, also from code already inside an event loop (e.g. a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class BatchStillRunning(GeosqlError):
    """Raised when `batch_wait_s` passes with jobs still running; rerun to resume."""


def _state(job: Any) -> str:
    s = job.state
    return getattr(s, "name", None) or str(s)


def _brief(exc: BaseException) -> str:
    code = _status(exc)
    msg = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__} {code}: {msg}" if code else f"{type(exc).__name__}: {msg}"


# -- the pipeline ----------------------------------------------------------------------------


@dataclass
class LlmState:
    engine: Engine
    index: Any  # udfs.retrieval.PlaceIndex, or None when top_k = 0
    names: dict[str, str]  # iso2 -> English country name


def _setup(con: Any, cfg: dict[str, Any]) -> LlmState:
    """Check credentials first, then prices, country names and the place index."""
    check_credentials(cfg["mode"])
    require("google.genai", "gemini")
    model = cfg["model"]
    gen = {
        "temperature": float(cfg["temperature"]),
        "max_output_tokens": int(cfg["max_output_tokens"]),
        "thinking_budget": _thinking_budget(model, int(cfg["thinking_budget"])),
    }
    price = con.execute(
        "SELECT usd_per_1m_input, usd_per_1m_output, coalesce(batch_discount, 0)"
        " FROM llm_prices WHERE model = ?",
        [model.removeprefix("models/")],
    ).fetchall()
    if not price:
        click.echo(f"note: no price for {model} in llm_prices; cost is recorded as 0", err=True)
    names = dict(con.execute("SELECT iso2, name FROM countries WHERE name IS NOT NULL").fetchall())
    if not names:
        from geosql.countries import country_names

        names = country_names()
    index = None
    if int(cfg["top_k"]) > 0:
        from udfs.retrieval import PlaceIndex

        index = PlaceIndex.open(
            con,
            model=cfg["retrieval_model"] or None,
            min_population=int(cfg["min_population"]),
            log=True,
        )
    engine = Engine(CallStore(con, model, gen), cfg, gen, tuple(price[0]) if price else None)
    return LlmState(engine, index, names)


def _thinking_budget(model: str, budget: int) -> int:
    """2.5 Pro cannot switch thinking off: its smallest budget is 128."""
    return 128 if "pro" in model and 0 <= budget < 128 else budget


@dataclass
class Parsed:
    location: str | None = None
    extract_raw: str | None = None
    candidates: list[dict] = field(default_factory=list)
    answer_raw: str | None = None
    country_code: str | None = None
    error: tuple[str, str] | None = None


def geoparse_texts(
    state: LlmState, texts: dict[str, str]
) -> tuple[dict[str, Parsed], dict[str, float]]:
    """Extract -> retrieve -> predict for captions {id: text}; usage of the calls made."""
    eng = state.engine
    out = {cid: Parsed() for cid in texts}
    calls: list[Call] = []

    p1 = {cid: extract_prompt(t) for cid, t in texts.items()}
    r1 = eng.answer({prompt_hash(p): p for p in p1.values()}, "extract")
    calls += r1.values()
    located: dict[str, str] = {}
    for cid, p in p1.items():
        c = r1[prompt_hash(p)]
        if c.text is None:
            out[cid].error = ("LlmCallError", f"extract: {c.error}")
            continue
        out[cid].extract_raw = c.text
        loc = parse_location(c.text)
        out[cid].location = loc
        if loc is not None:
            located[cid] = loc

    uniq = sorted(set(located.values()))
    cands: dict[str, list[dict]] = {loc: [] for loc in uniq}
    if state.index is not None and uniq:
        k = int(eng.cfg["top_k"])
        for loc, found in zip(uniq, state.index.search(uniq, k), strict=True):
            cands[loc] = [c.as_dict() for c in found]

    p2 = {
        cid: predict_prompt(texts[cid], loc, cands[loc], state.names)
        for cid, loc in located.items()
    }
    r2 = eng.answer({prompt_hash(p): p for p in p2.values()}, "predict") if p2 else {}
    calls += r2.values()
    for cid, p in p2.items():
        c = r2[prompt_hash(p)]
        out[cid].candidates = cands[located[cid]]
        if c.text is None:
            out[cid].error = ("LlmCallError", f"predict: {c.error}")
            continue
        out[cid].answer_raw = c.text
        out[cid].country_code = parse_country(c.text)
    return out, eng.usage(calls)


def _rows(method: str, model: str, route: str, cid: str, r: Parsed) -> tuple[dict, dict]:
    evidence = (
        f"location: {r.location}; answer: {_clean(r.answer_raw)}" if r.location else "no location"
    )
    pred = {
        "caption_id": cid,
        "method": method,
        "country_code": r.country_code,
        "confidence": None,
        "evidence": evidence,
    }
    detail = {
        "caption_id": cid,
        "method": method,
        "model": model,
        "route": route,
        "location": r.location,
        "extract_raw": r.extract_raw,
        "candidates": json.dumps(r.candidates, ensure_ascii=False),
        "answer_raw": r.answer_raw,
        "country_code": r.country_code,
    }
    return pred, detail


PRED_SCHEMA = pa.schema(
    [
        ("caption_id", pa.string()),
        ("method", pa.string()),
        ("country_code", pa.string()),
        ("confidence", pa.float64()),
        ("evidence", pa.string()),
    ]
)
DETAIL_SCHEMA = pa.schema(
    [
        ("caption_id", pa.string()),
        ("method", pa.string()),
        ("model", pa.string()),
        ("route", pa.string()),
        ("location", pa.string()),
        ("extract_raw", pa.string()),
        ("candidates", pa.string()),
        ("answer_raw", pa.string()),
        ("country_code", pa.string()),
    ]
)


def _result(preds: list[dict], details: list[dict], errors: list, usage: dict) -> BatchResult:
    return BatchResult(
        outputs={
            "geo_predictions": pa.Table.from_pylist(preds, PRED_SCHEMA),
            "llm_geoparse": pa.Table.from_pylist(details, DETAIL_SCHEMA),
        },
        errors=errors,
        usage=usage,
    )


def process_llm(state: LlmState, batch: pa.Table, cfg: dict[str, Any]) -> BatchResult:
    texts = dict(zip(batch["caption_id"].to_pylist(), batch["text"].to_pylist(), strict=True))
    parsed, usage = geoparse_texts(state, texts)
    preds, details, errors = [], [], []
    for cid, r in parsed.items():
        if r.error:
            errors.append((cid, *r.error))
            continue
        p, d = _rows(cfg["method"], cfg["model"], "llm", cid, r)
        preds.append(p)
        details.append(d)
    return _result(preds, details, errors, usage)


def send_to_llm(
    confidence: float | None, n_countries: int | None, threshold: float, multi: bool
) -> bool:
    """The hybrid's routing rule: unsure offline answers (or multi-country candidates) go to the LLM."""
    if confidence is None or confidence < threshold:
        return True
    return bool(multi and (n_countries or 0) > 1)


def process_hybrid(state: LlmState, batch: pa.Table, cfg: dict[str, Any]) -> BatchResult:
    rows = batch.to_pylist()
    ask = {
        r["caption_id"]: r["text"]
        for r in rows
        if send_to_llm(
            r["offline_confidence"],
            r["offline_countries"],
            float(cfg["threshold"]),
            bool(cfg["multi_country"]),
        )
    }
    parsed, usage = geoparse_texts(state, ask) if ask else ({}, {})
    preds, details, errors = [], [], []
    for r in rows:
        cid = r["caption_id"]
        off = f"offline: {r['offline_country'] or 'no place'} @ {r['offline_confidence']}"
        if cid in parsed:
            p = parsed[cid]
            if p.error:
                errors.append((cid, *p.error))
                continue
            pred, det = _rows(cfg["method"], cfg["model"], "llm", cid, p)
            pred["evidence"] = (
                f"{off} (n_countries={r['offline_countries']}) -> llm {pred['evidence']}"
            )
        else:
            pred = {
                "caption_id": cid,
                "method": cfg["method"],
                "country_code": r["offline_country"],
                "confidence": r["offline_confidence"],
                "evidence": off,
            }
            det = {
                "caption_id": cid,
                "method": cfg["method"],
                "model": None,
                "route": "offline",
                "location": None,
                "extract_raw": None,
                "candidates": None,
                "answer_raw": None,
                "country_code": r["offline_country"],
            }
        preds.append(pred)
        details.append(det)
    return _result(preds, details, errors, usage)


# -- stages ----------------------------------------------------------------------------------

COMMON = {
    "model": DEFAULT_MODEL,
    "mode": "online",
    "top_k": 10,
    "min_population": 10_000,
    "retrieval_model": "",
    "temperature": 0.0,
    "max_output_tokens": 1024,
    "thinking_budget": 0,
    "concurrency": 8,
    "rpm": 1000,
    "tpm": 1_000_000,
    "max_retries": 6,
    "retry_base_s": 2.0,
    "retry_max_s": 120.0,
    "timeout_s": 120.0,
    "poll_s": 30.0,
    "batch_wait_s": 0.0,
    "inline_max": 1000,
    "batch_max_requests": 50_000,
}
RUNTIME = (
    "mode",
    "concurrency",
    "rpm",
    "tpm",
    "max_retries",
    "retry_base_s",
    "retry_max_s",
    "timeout_s",
    "poll_s",
    "batch_wait_s",
    "inline_max",
    "batch_max_requests",
)


def _batch_size(cfg: dict[str, Any]) -> int:
    """Rows per runner batch: small online (frequent commits), large for Batch API jobs."""
    return 50_000 if cfg.get("mode") == "batch" else 200


registry.stage(
    Stage(
        name="llm-geoparse",
        description="Gemini extract -> GeoNames retrieval -> country (method gemini), cached",
        inputs="SELECT caption_id, text FROM captions WHERE text IS NOT NULL",
        done="SELECT caption_id FROM geo_predictions WHERE method = {method}"
        " AND config_key = $config_key",
        outputs={"geo_predictions": "method = {method}", "llm_geoparse": "method = {method}"},
        process=process_llm,
        setup=_setup,
        defaults={"method": "gemini", **COMMON},
        batch_size=_batch_size,
        runtime_keys=RUNTIME,
        extra="gemini",
    )
)

registry.stage(
    Stage(
        name="hybrid-geoparse",
        description="offline geoparser, asking Gemini only where it is unsure (method hybrid)",
        inputs=(
            "SELECT c.caption_id, c.text, o.country_code AS offline_country,"
            " o.confidence AS offline_confidence, coalesce(m.n, 0) AS offline_countries"
            " FROM captions c JOIN geo_predictions o"
            "   ON o.caption_id = c.caption_id AND o.method = {offline_method}"
            " LEFT JOIN (SELECT caption_id, count(DISTINCT country_code) AS n FROM geo_mentions"
            "   WHERE method = {offline_method} AND score >= {multi_min_score}"
            "   GROUP BY caption_id) m"
            "   ON m.caption_id = c.caption_id"
            " WHERE c.text IS NOT NULL"
        ),
        done="SELECT caption_id FROM geo_predictions WHERE method = {method}"
        " AND config_key = $config_key",
        outputs={"geo_predictions": "method = {method}", "llm_geoparse": "method = {method}"},
        process=process_hybrid,
        setup=_setup,
        defaults={
            "method": "hybrid",
            "offline_method": "offline",
            "threshold": 0.8,
            "multi_country": True,
            "multi_min_score": 0.5,
            **COMMON,
        },
        batch_size=_batch_size,
        runtime_keys=RUNTIME,
        extra="gemini",
    )
)


# -- CLI: geosql gemini ... -------------------------------------------------------------------


@click.group("gemini")
def gemini_cmd() -> None:
    """Gemini calls, batch jobs and prices (stages: llm-geoparse, hybrid-geoparse)."""


@gemini_cmd.command("jobs")
@click.option("--refresh", is_flag=True, help="Ask the API for the state of unfinished jobs.")
@click.pass_context
def jobs_cmd(ctx: click.Context, refresh: bool) -> None:
    """List Batch API jobs recorded in the warehouse."""
    from geosql.cli import _table, open_warehouse

    with open_warehouse(ctx, read_only=not refresh) as con:
        if refresh:
            open_jobs = con.execute(
                "SELECT job_name FROM llm_batch_jobs WHERE NOT ingested"
            ).fetchall()
            if open_jobs:
                check_credentials("batch")
                client = make_client()
                for (name,) in open_jobs:
                    con.execute(
                        "UPDATE llm_batch_jobs SET state = ?, updated = now() WHERE job_name = ?",
                        [_state(client.batches.get(name=name)), name],
                    )
        df = con.sql(
            "SELECT job_name, model, phase, source, n_requests, state, ingested, created, updated,"
            " error FROM llm_batch_jobs ORDER BY created"
        ).pl()
    click.echo(_table(df) if df.height else "no batch jobs")


@gemini_cmd.command("cancel")
@click.argument("job_name")
@click.pass_context
def cancel_cmd(ctx: click.Context, job_name: str) -> None:
    """Cancel a running batch job (its requests are sent again by the next run)."""
    from geosql.cli import open_warehouse

    check_credentials("batch")
    client = make_client()
    client.batches.cancel(name=job_name)
    state = _state(client.batches.get(name=job_name))
    with open_warehouse(ctx) as con:
        con.execute(
            "UPDATE llm_batch_jobs SET state = ?, ingested = ? , updated = now() WHERE job_name = ?",
            [state, state in TERMINAL, job_name],
        )
    click.echo(f"{job_name}: {state}")


@gemini_cmd.command("prices")
@click.option(
    "--set",
    "set_",
    nargs=3,
    type=(str, float, float),
    default=None,
    metavar="MODEL IN OUT",
    help="Set USD per 1M input and output tokens for MODEL.",
)
@click.option("--batch-discount", type=float, default=None, help="With --set: share off for batch.")
@click.pass_context
def prices_cmd(ctx: click.Context, set_: tuple | None, batch_discount: float | None) -> None:
    """Show (or edit) the price table used for cost estimates."""
    from geosql.cli import _table, open_warehouse

    with open_warehouse(ctx, read_only=set_ is None) as con:
        if set_:
            model, p_in, p_out = set_
            con.execute(
                "INSERT INTO llm_prices VALUES (?, ?, ?, coalesce(?, 0.5), 'set by user')"
                " ON CONFLICT DO UPDATE SET usd_per_1m_input = excluded.usd_per_1m_input,"
                " usd_per_1m_output = excluded.usd_per_1m_output,"
                " batch_discount = coalesce(?, llm_prices.batch_discount), note = 'set by user'",
                [model, p_in, p_out, batch_discount, batch_discount],
            )
        click.echo(_table(con.sql("SELECT * FROM llm_prices ORDER BY model").pl()))


@gemini_cmd.command("usage")
@click.pass_context
def usage_cmd(ctx: click.Context) -> None:
    """Calls, failures, tokens and estimated cost per model and mode (from llm_calls)."""
    from geosql.cli import _table, open_warehouse

    with open_warehouse(ctx, read_only=True) as con:
        df = con.sql(
            "SELECT c.model, c.mode, count(*) AS calls, count(*) FILTER (response IS NULL)"
            " AS failed, sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out,"
            " round(sum((tokens_in * p.usd_per_1m_input + tokens_out * p.usd_per_1m_output)"
            "   / 1e6 * CASE WHEN c.mode = 'batch' THEN 1 - coalesce(p.batch_discount, 0)"
            "   ELSE 1 END), 4) AS est_cost_usd"
            " FROM llm_calls c LEFT JOIN llm_prices p ON p.model = c.model"
            " GROUP BY ALL ORDER BY ALL"
        ).pl()
    click.echo(_table(df) if df.height else "no LLM calls yet")


registry.command(gemini_cmd)

if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `geosql run llm-geoparse` or `geosql gemini ...`")
