"""A local HTTP server on 127.0.0.1 speaking the Gemini Developer API REST protocol.

It answers what google-genai calls through `GOOGLE_GEMINI_BASE_URL`: generateContent,
batchGenerateContent (inlined requests or an uploaded JSONL file), batches get/cancel, the
two-step resumable file upload and file download. Answers come from a `reply(prompt, n, batch)`
function given by the test (n = how many times this prompt has been seen, from 1; batch = asked
inside a batch job): it returns the answer text, an int HTTP status for an error, or
(status, headers, body) for a custom error. A reply function with a fourth parameter also gets
the request's images as [(mime_type, bytes)] (inline image parts, decoded).
Every request is counted so tests can assert what was (not) sent; `images` counts image parts
by mime type and `generate_images` lists the image count of each generateContent request.

Use from any test folder (tests/ is on sys.path through the root conftest):
    from gemini.gemini_server import GeminiServer, dead_url
`dead_url()` is a base URL on 127.0.0.1 with nothing listening (a server that is down).
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | int | tuple[int, dict[str, str], dict[str, Any]]

_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error_body(code: int, message: str = "test error", details: list | None = None) -> dict:
    err: dict[str, Any] = {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}
    if details:
        err["details"] = details
    return {"error": err}


def prompt_text(request: dict) -> str:
    """The text of a generateContent request body."""
    return "".join(
        p.get("text", "") for c in request.get("contents", []) for p in c.get("parts", [])
    )


def request_images(request: dict) -> list[tuple[str, bytes]]:
    """The inline image parts of a request body: [(mime_type, bytes)]."""
    out = []
    for c in request.get("contents", []):
        for p in c.get("parts", []):
            inline = p.get("inlineData") or p.get("inline_data")
            if inline:
                mime = inline.get("mimeType") or inline.get("mime_type") or ""
                data = str(inline.get("data", ""))  # the SDK sends url-safe base64, unpadded
                data = data.replace("-", "+").replace("_", "/") + "=" * (-len(data) % 4)
                out.append((mime, base64.b64decode(data)))
    return out


def dead_url() -> str:
    """http://127.0.0.1:PORT where PORT was free a moment ago: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a cancelled request) is not an error worth a
    traceback on stderr (which CliRunner would mix into the command's output)."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class GeminiServer:
    """Start with `with GeminiServer(reply) as srv:`; `srv.base_url` goes in the environment."""

    def __init__(self, reply: Callable[..., Reply]):
        self.reply = reply
        self.counts: Counter[str] = Counter()  # by kind: generate, batch_create, batch_get, ...
        self.seen: Counter[str] = Counter()  # by prompt (generateContent and batch requests)
        self.generate_prompts: list[str] = []
        self.generate_images: list[int] = []
        self.images: Counter[str] = Counter()  # image parts received, by mime type
        self.batches: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.auto_complete = True  # batches succeed on the first get; False keeps them running
        self.lock = threading.Lock()
        self._with_images = len(inspect.signature(reply).parameters) >= 4
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> GeminiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- model behaviour -------------------------------------------------------------------
    def answer(self, request: dict, batch: bool = False) -> tuple[int, dict[str, str], dict]:
        prompt = prompt_text(request)
        images = request_images(request)
        with self.lock:
            self.seen[prompt] += 1
            n = self.seen[prompt]
            for mime, _ in images:
                self.images[mime] += 1
        out = (
            self.reply(prompt, n, batch, images)
            if self._with_images
            else self.reply(prompt, n, batch)
        )
        if isinstance(out, int):
            return out, {}, error_body(out)
        if isinstance(out, tuple):
            return out
        usage = {
            "promptTokenCount": len(prompt.split()) + 258 * len(images),
            "candidatesTokenCount": len(out.split()),
            "totalTokenCount": len(prompt.split()) + 258 * len(images) + len(out.split()),
        }
        return (
            200,
            {},
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": out}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": usage,
                "modelVersion": "test-model",
            },
        )

    def complete(self, name: str) -> None:
        """Run a batch job: answer each request, store results inline or as a JSONL file."""
        job = self.batches[name]
        if job["state"] != "BATCH_STATE_RUNNING" and job["state"] != "BATCH_STATE_PENDING":
            return
        results = []
        for key, req in job["requests"]:
            code, _, body = self.answer(req, batch=True)
            item: dict[str, Any] = {"response": body} if code == 200 else {"error": body["error"]}
            results.append((key, item))
        if job["file_input"]:
            fid = "files/out" + uuid.uuid4().hex[:10]
            lines = [json.dumps({"key": k, **item}) for k, item in results]
            self.files[fid] = ("\n".join(lines) + "\n").encode()
            job["output"] = {"responsesFile": fid}
        else:
            job["output"] = {
                "inlinedResponses": {
                    "inlinedResponses": [{**item, "metadata": {"key": k}} for k, item in results]
                }
            }
        job["state"] = "BATCH_STATE_SUCCEEDED"

    def _batch_json(self, name: str) -> dict:
        job = self.batches[name]
        meta: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": job["model"],
            "displayName": job["display_name"],
            "state": job["state"],
            "createTime": "2026-11-01T00:00:00Z",
            "updateTime": "2026-11-01T00:00:01Z",
        }
        if "output" in job:
            meta["output"] = job["output"]
        return {"name": name, "metadata": meta, "done": job["state"] != "BATCH_STATE_RUNNING"}

    # -- HTTP --------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, code: int, body: dict | bytes, headers: dict | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_POST(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                raw = self._body()
                if m := re.fullmatch(r"/v1(?:beta)?/models/([^/:]+):generateContent", path):
                    srv.counts["generate"] += 1
                    req = json.loads(raw)
                    srv.generate_prompts.append(prompt_text(req))
                    srv.generate_images.append(len(request_images(req)))
                    code, headers, body = srv.answer(req)
                    return self._send(code, body, headers)
                if m := re.fullmatch(r"/v1(?:beta)?/models/([^/:]+):batchGenerateContent", path):
                    srv.counts["batch_create"] += 1
                    return self._create_batch(m.group(1), json.loads(raw))
                if m := re.fullmatch(r"/v1(?:beta)?/(batches/[^/:]+):cancel", path):
                    srv.counts["batch_cancel"] += 1
                    job = srv.batches.get(m.group(1))
                    if job is None:
                        return self._send(404, error_body(404))
                    if job["state"] in ("BATCH_STATE_RUNNING", "BATCH_STATE_PENDING"):
                        job["state"] = "BATCH_STATE_CANCELLED"
                    return self._send(200, {})
                if path.startswith("/upload/") and path.endswith("/files"):
                    srv.counts["upload_start"] += 1
                    uid = uuid.uuid4().hex[:10]
                    srv.uploads[uid] = json.loads(raw or b"{}").get("file", {})
                    url = f"{srv.base_url}/upload-session/{uid}"
                    return self._send(200, {}, {"x-goog-upload-url": url})
                if m := re.fullmatch(r"/upload-session/(\w+)", path):
                    srv.counts["upload_bytes"] += 1
                    fid = "files/in" + m.group(1)
                    srv.files[fid] = raw
                    info = {
                        "name": fid,
                        "mimeType": "application/jsonl",
                        "sizeBytes": str(len(raw)),
                        "state": "ACTIVE",
                        "uri": f"{srv.base_url}/v1/{fid}",
                    }
                    return self._send(200, {"file": info}, {"x-goog-upload-status": "final"})
                return self._send(404, error_body(404, f"no route {path}"))

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                if m := re.fullmatch(r"/v1(?:beta)?/(batches/[^/:]+)", path):
                    srv.counts["batch_get"] += 1
                    if m.group(1) not in srv.batches:
                        return self._send(404, error_body(404))
                    if srv.auto_complete:
                        srv.complete(m.group(1))
                    return self._send(200, srv._batch_json(m.group(1)))
                if m := re.fullmatch(r"/v1(?:beta)?/(files/[^/:]+):download", path):
                    srv.counts["file_download"] += 1
                    data = srv.files.get(m.group(1))
                    if data is None:
                        return self._send(404, error_body(404))
                    return self._send(200, data)
                return self._send(404, error_body(404, f"no route {path}"))

            def _create_batch(self, model: str, body: dict) -> None:
                batch = body.get("batch", {})
                cfg = batch.get("inputConfig", {})
                if "fileName" in cfg:
                    lines = srv.files[cfg["fileName"]].decode().splitlines()
                    reqs = [(r["key"], r["request"]) for r in map(json.loads, lines) if r]
                    file_input = True
                else:
                    items = cfg.get("requests", {})
                    items = items.get("requests", items) if isinstance(items, dict) else items
                    reqs = [
                        (r.get("metadata", {}).get("key", str(i)), r["request"])
                        for i, r in enumerate(items)
                    ]
                    file_input = False
                name = "batches/" + uuid.uuid4().hex[:12]
                srv.batches[name] = {
                    "model": f"models/{model}",
                    "requests": reqs,
                    "file_input": file_input,
                    "state": "BATCH_STATE_RUNNING",
                    "display_name": batch.get("displayName", ""),
                }
                return self._send(200, srv._batch_json(name))

        return Handler
