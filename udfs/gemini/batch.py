"""The Gemini Batch API (half price): submit, poll, collect; resume jobs of earlier runs.

Jobs go inline up to `inline_max` requests, otherwise as a JSONL file uploaded with the Files
API. A job is recorded (journal + `llm_batch_jobs` / `llm_batch_requests` rows for the runner)
right after submission, so a later run resumes polling it instead of submitting again; its end
is recorded in `llm_batch_done`. Requests of a job still running after `batch_wait_s` come back
transient (the stage leaves their items pending: run again to collect). API errors are one
line (`GeosqlError`); an unreachable endpoint leaves the items pending.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geosql.errors import GeosqlError, require
from udfs.gemini.online import contents, gen_config_json, gen_config_obj, make_client
from udfs.gemini.online import text_and_usage as _text_and_usage
from udfs.gemini.transport import Call, Request, RetryPolicy, brief, classify, is_outage

TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}

Sink = Callable[[str, list[dict[str, Any]]], None]  # (table, rows) -> journal + appends


class Outage(Exception):
    """The Batch API endpoint did not answer after every retry."""


def job_state(job: Any) -> str:
    s = job.state
    return getattr(s, "name", None) or str(s)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class BatchClient:
    """Answers requests through batch jobs. `live`: job name -> {prompt hash: prompt}."""

    def __init__(
        self,
        model: str,
        gen: dict[str, Any],
        config: str,
        settings: dict[str, Any],
        live: dict[str, dict[str, str]],
        sink: Sink,
        log: Callable[[str], None],
    ):
        self.model, self.gen, self.config, self.s = model, gen, config, settings
        self.live = {k: dict(v) for k, v in live.items()}
        self.sink, self.log = sink, log
        self.policy = RetryPolicy(
            int(settings["max_retries"]),
            float(settings["retry_base_s"]),
            float(settings["retry_max_s"]),
        )
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(float(self.s["timeout_s"]))
        return self._client

    def _api(self, what: str, fn: Callable[[], Any]) -> Any:
        """Call the API with retries; fatal and permanent errors become one line."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except GeosqlError:
                raise
            except Exception as e:
                kind = classify(e)
                if kind == "retry" and attempt <= self.policy.max_retries:
                    time.sleep(self.policy.delay(e, attempt))
                    continue
                if kind == "retry" and is_outage(e):
                    raise Outage(f"Gemini Batch API {what}: {brief(e)}") from e
                raise GeosqlError(f"Gemini Batch API {what} failed: {brief(e)}") from None

    def answer(self, todo: dict[str, Request], phase: str) -> dict[str, Call]:
        """hash -> Call for every request: answered, failed, or transient (still running)."""
        covering = {job: hs for job, hs in self.live.items() if set(hs) & set(todo)}
        for job, hs in covering.items():
            self.log(f"resuming batch job {job} ({len(set(hs) & set(todo))} of our requests)")
        covered = set().union(*(set(h) for h in covering.values())) if covering else set()
        new = [(h, r) for h, r in todo.items() if h not in covered]
        chunk = max(1, int(self.s["batch_max_requests"]))
        try:
            for i in range(0, len(new), chunk):
                part = dict(new[i : i + chunk])
                name = self._submit(part, phase)
                self.live[name] = {h: r.text for h, r in part.items()}
                covering[name] = self.live[name]
            results, running = self._wait(list(covering))
        except Outage as e:
            self.log(f"{e}: leaving the requests pending; run again later")
            return {
                h: Call(h, r.text, error=str(e), mode="batch", transient=True)
                for h, r in todo.items()
            }
        out: dict[str, Call] = {}
        for h, r in todo.items():
            job = next((j for j in running if h in self.live.get(j, {})), None)
            if h in results:
                out[h] = results[h]
            elif job is not None:
                out[h] = Call(
                    h,
                    r.text,
                    error=f"batch job {job} still running",
                    mode="batch",
                    batch_job=job,
                    transient=True,
                )
            else:
                out[h] = Call(
                    h, r.text, error="no result from the batch job", mode="batch", attempts=1
                )
        return out

    def _submit(self, prompts: dict[str, Request], phase: str) -> str:
        types = require("google.genai.types", "gemini")
        display = f"geosql-{phase}-{len(prompts)}"
        if len(prompts) <= int(self.s["inline_max"]):
            config = gen_config_obj(self.gen)
            src: Any = [
                types.InlinedRequest(contents=contents(r), metadata={"key": h}, config=config)
                for h, r in prompts.items()
            ]
            source = "inline"
        else:
            gen = gen_config_json(self.gen)
            with tempfile.NamedTemporaryFile(
                "w", suffix=".jsonl", delete=False, encoding="utf-8"
            ) as f:
                for h, r in prompts.items():
                    req = {
                        "contents": [{"role": "user", "parts": r.rest_parts()}],
                        "generationConfig": gen,
                    }
                    f.write(json.dumps({"key": h, "request": req}, ensure_ascii=False) + "\n")
            try:
                up = self._api(
                    "file upload",
                    lambda: self.client.files.upload(
                        file=f.name,
                        config=types.UploadFileConfig(mime_type="jsonl", display_name=display),
                    ),
                )
            finally:
                Path(f.name).unlink(missing_ok=True)
            src = source = up.name
        job = self._api(
            "job creation",
            lambda: self.client.batches.create(
                model=self.model, src=src, config={"display_name": display}
            ),
        )
        state = job_state(job)
        now = _now()
        job_row = {
            "job_name": job.name,
            "model": self.model,
            "config": self.config,
            "phase": phase,
            "source": source,
            "n_requests": len(prompts),
            "state": state,
            "ingested": False,
            "error": None,
            "created": now,
            "updated": now,
        }
        self.sink("llm_batch_jobs", [job_row])
        self.sink(
            "llm_batch_requests",
            [
                {
                    "request_key": f"{job.name}:{h}",
                    "job_name": job.name,
                    "prompt_hash": h,
                    "prompt": r.text,
                }
                for h, r in prompts.items()
            ],
        )
        self.log(
            f"submitted batch job {job.name}: {len(prompts)} {phase} requests ({source}), {state}"
        )
        return job.name

    def _wait(self, names: list[str]) -> tuple[dict[str, Call], list[str]]:
        """Poll until every job ends or `batch_wait_s` passes: (results, jobs still running)."""
        results: dict[str, Call] = {}
        pending = list(names)
        t0 = time.monotonic()
        last: dict[str, str] = {}
        wait_max = float(self.s["batch_wait_s"])
        while pending:
            for name in list(pending):
                job = self._api(f"get {name}", lambda n=name: self.client.batches.get(name=n))
                state = job_state(job)
                if last.get(name) != state:
                    self.log(f"batch job {name}: {state} ({time.monotonic() - t0:.0f}s)")
                    last[name] = state
                if state in TERMINAL:
                    results.update(self._collect(job, state))
                    pending.remove(name)
            if not pending:
                break
            if wait_max > 0 and time.monotonic() - t0 >= wait_max:
                self.log(
                    f"batch job(s) {', '.join(pending)} still running after {wait_max:.0f}s; "
                    "their captions stay pending: run the same command again to collect them "
                    "(nothing is submitted twice)"
                )
                break
            time.sleep(float(self.s["poll_s"]))
        return results, pending

    def _collect(self, job: Any, state: str) -> dict[str, Call]:
        prompts = self.live.pop(job.name, {})
        calls: dict[str, Call] = {}
        error = None
        if state == "JOB_STATE_SUCCEEDED":
            dest = job.dest
            if dest is not None and dest.inlined_responses is not None:
                keys = list(prompts)
                for i, r in enumerate(dest.inlined_responses):
                    h = (r.metadata or {}).get("key") or (keys[i] if i < len(keys) else None)
                    if h in prompts:
                        calls[h] = _batch_call(h, prompts[h], job.name, r.response, r.error)
            elif dest is not None and dest.file_name:
                data = self._api(
                    "download", lambda: self.client.files.download(file=dest.file_name)
                )
                for line in data.decode("utf-8").splitlines():
                    if line.strip():
                        rec = json.loads(line)
                        h = rec.get("key")
                        if h in prompts:
                            err = rec.get("error") or rec.get("status")
                            calls[h] = _batch_call(
                                h, prompts[h], job.name, rec.get("response"), err
                            )
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
                    attempts=1,
                ),
            )
        self.sink(
            "llm_batch_done",
            [{"job_name": job.name, "state": state, "error": error, "finished": _now()}],
        )
        return calls


def _batch_call(h: str, prompt: str, job: str, resp: Any, err: Any) -> Call:
    call = Call(h, prompt, mode="batch", batch_job=job, attempts=1)
    if resp is not None and not err:
        call.text, call.tokens_in, call.tokens_out = _text_and_usage(resp)
        call.fresh = True
    else:
        msg = err.get("message") if isinstance(err, dict) else getattr(err, "message", err)
        code = err.get("code") if isinstance(err, dict) else getattr(err, "code", None)
        call.error = f"{code or ''} {msg or 'no response'}".strip()
    return call
