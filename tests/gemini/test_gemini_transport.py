"""The provider-neutral transport and the engine: images, retries, the outage breaker, costs."""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import geosql
from udfs.gemini import transport
from udfs.gemini.prompts import prompt_hash
from udfs.gemini.transport import Call, Request, RetryPolicy, Transport, image_part, text_part

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101002118d0a70000000049454e44ae426082"
)
JPEG = b"\xff\xd8\xff\xe0" + b"fake jpeg body" * 10 + b"\xff\xd9"


def test_request_keys() -> None:
    text = Request.of("Where is Paris?")
    assert text.prompt_hash == prompt_hash("Where is Paris?")  # text caches stay valid
    with_img = Request.of(image_part(PNG, "image/png"), "Where is this?")
    other_img = Request.of(image_part(JPEG), "Where is this?")
    assert with_img.prompt_hash != other_img.prompt_hash != text.prompt_hash
    assert (
        with_img.prompt_hash
        == Request.of(image_part(PNG, "image/png"), "Where is this?").prompt_hash
    )
    assert with_img.n_images == 1 and "image/png" in with_img.text
    assert with_img.estimate_tokens() > text.estimate_tokens()
    rest = with_img.rest_parts()
    assert rest[0]["inlineData"]["mimeType"] == "image/png" and rest[1] == {
        "text": "Where is this?"
    }
    with pytest.raises(geosql.errors.GeosqlError, match="mime"):
        image_part(PNG, "text/plain")
    assert text_part("x") == transport.Part(text="x")


class _Http(Exception):
    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.code, self.message = code, message


class TransportError(Exception):  # named like httpx's: a network failure
    pass


@pytest.mark.parametrize(
    ("exc", "kind", "outage"),
    [
        (_Http(429), "retry", True),
        (_Http(503), "retry", True),
        (_Http(500), "retry", False),
        (_Http(400, "bad request"), "permanent", False),
        (_Http(400, "API key not valid"), "fatal", False),
        (_Http(403), "fatal", False),
        (_Http(404), "fatal", False),
        (TransportError("refused"), "retry", True),
        (TimeoutError(), "retry", True),
        (ValueError("x"), "permanent", False),
    ],
)
def test_classify(exc: Exception, kind: str, outage: bool) -> None:
    assert transport.classify(exc) == kind
    assert transport.is_outage(exc) == outage


def _fake_sender(script: dict[str, list]):
    """open_sender whose send pops the next outcome for the prompt (exception or text)."""
    sent: list[str] = []

    @asynccontextmanager
    async def open_sender():
        async def send(req: Request):
            sent.append(req.text)
            out = script[req.text].pop(0)
            if isinstance(out, Exception):
                raise out
            return out, 10, 2

        yield send

    return open_sender, sent


def test_retries_then_answer_and_permanent_failure() -> None:
    opener, sent = _fake_sender(
        {"a": [_Http(503), _Http(429), "yes"], "b": [_Http(400, "bad")], "c": [_Http(500)] * 3}
    )
    t = Transport(RetryPolicy(max_retries=2, base_s=0.001, max_s=0.01), concurrency=1)
    calls = t.run(opener, [Request.of("a"), Request.of("b"), Request.of("c")])
    a, b, c = (calls[prompt_hash(x)] for x in "abc")
    assert (a.text, a.attempts, a.fresh, a.tokens_in) == ("yes", 3, True, 10)
    assert (b.text, b.attempts, b.transient) == (None, 1, False) and "400" in b.error
    assert (c.text, c.attempts, c.transient) == (None, 3, False)  # 500: failed, not pending
    assert t.down is None
    u = transport.usage(calls.values(), (1.0, 10.0, 0.5))
    assert u["retries"] == 2 + 0 + 2 and u["llm_failed"] == 2 and u["llm_requests"] == 1
    assert u["cost_usd"] == pytest.approx((10 * 1.0 + 2 * 10.0) / 1e6)


def test_outage_breaker_stops_sending() -> None:
    opener, sent = _fake_sender({k: [TransportError("refused")] * 9 for k in "abcd"})
    t = Transport(RetryPolicy(max_retries=2, base_s=0.001, max_s=0.01), concurrency=1)
    calls = t.run(opener, [Request.of(k) for k in "abcd"])
    assert len(sent) == 3  # the first request: 1 + 2 retries, then nothing else is sent
    assert all(c.transient and c.text is None for c in calls.values())
    assert sum(c.attempts for c in calls.values()) == 3
    assert t.down is not None and "unreachable" in t.down


def test_fatal_error_raises() -> None:
    opener, _ = _fake_sender({"a": [_Http(401, "no key")]})
    with pytest.raises(transport.FatalError, match="401"):
        Transport(RetryPolicy(0, 0.001, 0.01)).run(opener, [Request.of("a")])


def test_rate_limiter_window() -> None:
    lim = transport.RateLimiter(rpm=2, tpm=0)

    async def two():
        await lim.acquire(5)
        await lim.acquire(5)

    asyncio.run(two())
    assert len(lim.events) == 2 and lim.tokens == 10
    lim.settle(5, 50)
    assert lim.tokens == 55


def test_cost() -> None:
    assert transport.cost_usd(1_000_000, 1_000_000, (0.3, 2.5, 0.5)) == pytest.approx(2.8)
    assert transport.cost_usd(1_000_000, 0, (0.3, 2.5, 0.5), batch=True) == pytest.approx(0.15)
    assert transport.cost_usd(5, 5, None) == 0.0
    assert Call("h", "p").fresh is False


# -- against the local REST server -------------------------------------------------------

pytest.importorskip("google.genai")


def _image_reply(seen: list):
    def reply(prompt: str, n: int, batch: bool, images: list):
        seen.append((prompt, [(m, hashlib.sha256(b).hexdigest()) for m, b in images], batch))
        return f"{len(images)} image(s); lat 48.85 lon 2.35"

    return reply


def test_images_online(monkeypatch) -> None:
    from gemini_env import point_at
    from gemini_server import GeminiServer

    from udfs.gemini.online import generate

    seen: list = []
    with GeminiServer(_image_reply(seen)) as srv:
        point_at(monkeypatch, srv.base_url)
        reqs = [
            Request.of(image_part(PNG, "image/png"), "Where was this taken?"),
            Request.of(image_part(JPEG), image_part(PNG, "image/png"), "And these?"),
            Request.of("text only"),
        ]
        calls = generate(reqs, model="gemini-2.5-flash")
    assert [calls[r.prompt_hash].text.split(";")[0] for r in reqs] == [
        "1 image(s)",
        "2 image(s)",
        "0 image(s)",
    ]
    assert srv.images == {"image/png": 2, "image/jpeg": 1}
    assert sorted(srv.generate_images) == [0, 1, 2]
    got = {p: imgs for p, imgs, _ in seen}
    assert got["And these?"] == [
        ("image/jpeg", hashlib.sha256(JPEG).hexdigest()),
        ("image/png", hashlib.sha256(PNG).hexdigest()),
    ]
    assert calls[reqs[0].prompt_hash].tokens_in > 258  # the server bills an image as 258 tokens


@pytest.mark.parametrize("inline_max", [1000, 0])  # inline requests / uploaded JSONL
def test_engine_with_images_batch_and_cache(wh: Path, monkeypatch, inline_max: int) -> None:
    """The engine as another stage (e.g. g3) uses it: spec in prepare, Engine in open."""
    from gemini_env import point_at
    from gemini_server import GeminiServer

    from udfs.gemini.engine import Engine, llm_spec
    from udfs.gemini.online import generation

    seen: list = []
    reqs = [
        Request.of(image_part(PNG, "image/png"), "Where was this taken?"),
        Request.of(image_part(JPEG), "Where was this taken?"),
    ]
    with GeminiServer(_image_reply(seen)) as srv:
        point_at(monkeypatch, srv.base_url)
        cfg = {"model": "gemini-2.5-flash", "mode": "batch", "poll_s": 0.01,
               "inline_max": inline_max}  # fmt: skip
        gen = generation("gemini-2.5-flash", 0.0, 256, 0)
        with geosql.connect(wh) as con:
            spec = llm_spec(con, cfg, gen)
        eng = Engine(spec)
        calls = eng.answer(reqs, phase="g3")
        assert all(c.fresh and c.mode == "batch" for c in calls.values())
        assert srv.images == {"image/png": 1, "image/jpeg": 1}
        assert all(b for _, _, b in seen)  # answered inside a batch job
        appends = eng.take_appends()
        assert set(appends) == {"llm_calls", "llm_batch_jobs", "llm_batch_requests",
                                "llm_batch_done"}  # fmt: skip
        assert appends["llm_calls"].num_rows == 2
        assert (
            "image/png"
            in appends["llm_calls"]["prompt"][0].as_py() + appends["llm_calls"]["prompt"][1].as_py()
        )
        assert eng.usage(calls.values())["cost_usd"] > 0
        # the same requests again: answered by the engine's cache, nothing sent
        again = eng.answer(reqs)
        assert not any(c.fresh for c in again.values())
        assert srv.counts["batch_create"] == 1
        eng.close()
