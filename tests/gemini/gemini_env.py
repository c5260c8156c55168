"""Point google-genai at a local test server (imported by the Gemini tests and their conftest)."""

from __future__ import annotations


def point_at(monkeypatch, base_url: str) -> None:
    """Make google-genai talk to `base_url` with a test key (no other credentials)."""
    for var in ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", base_url)
