"""The report in a real headless Chromium (Debian's, via Playwright; `make setup-browser`).

Asserts no console errors, no request but the file itself, and every chart drawn; saves a
screenshot (path printed; set GEOSQL_ARTIFACTS=DIR to keep it) to look at. GEOSQL_CHROMIUM
overrides the browser path (default /usr/bin/chromium).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("altair", reason="the report needs the extra 'report'")
pytest.importorskip("vl_convert", reason="the report needs the extra 'report'")

from report_helpers import add_gold, add_presence, make_warehouse

import geosql
from geosql.report import build_report

CHROMIUM = os.environ.get("GEOSQL_CHROMIUM", "/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is missing: run `make setup-browser` (Debian chromium) for the browser tests",
        allow_module_level=True,
    )


def _open(page_path: Path, screenshot: Path, select: str | None = None) -> dict:
    """Load the report; collect console errors and requests; wait for every chart."""
    seen: dict = {"errors": [], "requests": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            page.on("requestfailed", lambda r: seen["errors"].append(f"failed: {r.url}"))
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function(
                "[...document.querySelectorAll('[data-figure]')].every(e => e.dataset.rendered)",
                timeout=90_000,
            )
            seen["figures"] = page.evaluate(
                """[...document.querySelectorAll('[data-figure]')].map(e => ({
                     key: e.dataset.figure, rendered: e.dataset.rendered,
                     marks: e.querySelectorAll('svg g.role-mark path, svg g.role-mark text').length,
                     geo: e.querySelectorAll('svg g.mark-shape path').length}))"""
            )
            seen["tables"] = page.locator("table").count()
            seen["sql"] = page.locator("pre.sql").count()
            shapes = page.locator('[data-figure="map"] g.layer_1_marks path')
            seen["coloured"] = shapes.count()
            shapes.nth(0).hover(force=True)  # vega-tooltip: country, code, n and share
            page.wait_for_timeout(300)
            seen["tooltip"] = page.evaluate(
                "(document.querySelector('#vg-tooltip-element') || {}).innerText || ''"
            )
            if select is not None:
                before = page.inner_html('[data-figure="map"] svg')
                page.select_option('[data-figure="map"] select', select)
                page.wait_for_timeout(500)
                seen["map_changed"] = page.inner_html('[data-figure="map"] svg') != before
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


def _keep(shot: Path) -> Path:
    dest = os.environ.get("GEOSQL_ARTIFACTS")
    if dest:
        Path(dest).mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(shot, Path(dest) / shot.name))
    return shot


def test_report_in_chromium(tmp_path):
    wh = make_warehouse(tmp_path / "wh.duckdb")
    add_presence(wh)
    add_gold(wh)
    out = tmp_path / "report.html"
    with geosql.connect(wh, read_only=True) as con:
        res = build_report(con, out=out)
    shot = tmp_path / "report-screenshot.png"
    seen = _open(out, shot, select="car")
    print(f"\nscreenshot: {_keep(shot)}")
    assert seen["errors"] == []
    assert seen["requests"] == [out.resolve().as_uri()]  # nothing but the file itself
    figs = {f["key"]: f for f in seen["figures"]}
    expected = {
        "map",
        "continents",
        "unlocated",
        "us_uk_ca",
        "gdp",
        "population",
        "presence_house",
        "evaluation",
    }
    assert expected <= set(figs)
    for f in figs.values():
        assert f["rendered"] == "1", f
        assert f["marks"] > 0, f
    assert figs["map"]["geo"] >= 173  # every outline drawn (base layer + choropleth)
    assert figs["gdp"]["marks"] >= 20  # one point per country with a GDP, labels, line
    assert seen["coloured"] == 23  # countries of all captions with an outline (not HU, SG, XK)
    assert "United States" in seen["tooltip"] and "36.54%" in seen["tooltip"]  # 95 / 260
    assert seen["map_changed"]  # the entity menu redraws the map
    assert seen["tables"] >= 4 and seen["sql"] >= 10
    assert shot.stat().st_size > 50_000
    assert "presence" in res.sections
