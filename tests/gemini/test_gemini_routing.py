"""The hybrid's routing rules (no model, no server: they run on the core install)."""

from __future__ import annotations

import random

from udfs import gemini


def test_budget_threshold() -> None:
    rows = [(0.9, 1), (0.2, 1), (0.5, 1), (0.7, 3), (None, 0), (0.99, 1)]
    # 6 rows * 0.5 = 3: the unknown and the multi-country one, then the least confident (0.2)
    t = gemini.budget_threshold(rows, 0.5, True)
    assert t == 0.5
    assert sum(gemini.send_to_llm(c, n, t, True) for c, n in rows) == 3
    assert gemini.budget_threshold(rows, 0.5, False) == 0.7  # 0.2 and 0.5 (and the unknown)
    assert gemini.budget_threshold(rows, 0.2, True) == 0.0  # the forced ones fill it
    assert gemini.budget_threshold(rows, 1.0, True) == 1.01
    assert gemini.budget_threshold([], 0.2, True) == 0.0
    # distinct confidences: exactly the always-sent ones, then the least confident up to
    # the budget; with ties (two decimals) never more than that
    rng = random.Random(1)
    for _ in range(200):
        n, b, multi = rng.randint(1, 30), rng.random(), rng.random() < 0.5
        for digits in (12, 2):
            rows = [
                (None if rng.random() < 0.1 else round(rng.random(), digits), rng.randint(0, 3))
                for _ in range(n)
            ]
            t = gemini.budget_threshold(rows, b, multi)
            sent = sum(gemini.send_to_llm(c, k, t, multi) for c, k in rows)
            forced = sum(c is None or (multi and k > 1) for c, k in rows)
            want = forced + min(max(int(b * n + 1e-9) - forced, 0), n - forced)
            assert sent == want if digits == 12 else sent <= want


def test_threshold_changes_routing() -> None:
    assert gemini.send_to_llm(0.4, 1, 0.5, True)
    assert not gemini.send_to_llm(0.6, 1, 0.5, True)
    assert gemini.send_to_llm(0.6, 2, 0.5, True)
    assert not gemini.send_to_llm(0.6, 2, 0.5, False)
    assert gemini.send_to_llm(None, 0, 0.5, False)
