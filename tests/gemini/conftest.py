"""Fixtures of the Gemini family tests: the local REST server and a small caption warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from gemini_env import point_at

import geosql


@pytest.fixture
def server(monkeypatch):
    """The scripted model of gemini_stage_data.reply behind a real HTTP server."""
    pytest.importorskip("google.genai")
    from gemini_server import GeminiServer
    from gemini_stage_data import reply

    with GeminiServer(reply) as srv:
        point_at(monkeypatch, srv.base_url)
        yield srv


@pytest.fixture
def cwh(wh: Path) -> Path:
    """A warehouse with six captions and a small places table."""
    from gemini_stage_data import CAPTIONS, PLACES

    with geosql.connect(wh) as con:
        con.executemany(
            "INSERT INTO captions (caption_id, dataset, text) VALUES (?, 't', ?)",
            list(CAPTIONS.items()),
        )
        con.executemany(
            "INSERT INTO places (geonameid, name, country_code, population) VALUES (?, ?, ?, ?)",
            PLACES,
        )
    return wh
