"""One self-contained HTML page: vega, vega-lite and vega-embed inlined, every spec embedded.

The page fetches nothing: no CDN, no web fonts (system fonts only), no images. Each chart is a
`<div data-figure=KEY>` that vega-embed renders as SVG; it gets `data-rendered="1"` when done
(or `"error"`, logged to the console), which the browser tests wait for.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt

from geosql.report.model import Figure, Section

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 margin:0;color:#222;background:#fafafa}
header{background:#23395b;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:24px} header p{margin:0;opacity:.85;font-size:14px}
main{max-width:1000px;margin:0 auto;padding:8px 32px 48px}
nav{font-size:13px;margin:12px 0} nav a{margin-right:12px;color:#23395b}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px 20px 16px;
 margin:18px 0}
h2{font-size:19px;margin:12px 0 6px} h3{font-size:15px;margin:14px 0 6px}
figure{margin:8px 0 18px} figcaption{font-size:13px;color:#555;margin:6px 0}
.chart{min-height:40px}
details{font-size:12px;margin:4px 0} summary{cursor:pointer;color:#23395b}
pre{background:#f4f4f4;padding:8px;overflow-x:auto;font-size:12px;border-radius:4px}
.tbl{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left} th{background:#f2f2f2}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{background:#f3f6fa;border-radius:6px;padding:10px 16px;min-width:120px}
.num{font-size:22px;font-weight:600;color:#23395b} .lbl{font-size:12px;color:#555}
.skipped{font-size:13px;color:#555}
"""

EMBED = """
(function () {
  const specs = JSON.parse(document.getElementById('geosql-specs').textContent);
  const opts = {actions: {export: true, source: false, compiled: false, editor: false},
                renderer: 'svg'};
  for (const el of document.querySelectorAll('[data-figure]')) {
    vegaEmbed(el, specs[el.dataset.figure], opts)
      .then(() => { el.dataset.rendered = '1'; })
      .catch((e) => {
        el.dataset.rendered = 'error';
        console.error('figure', el.dataset.figure, e);
      });
  }
})();
"""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "geosql"


@lru_cache(maxsize=2)
def vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script (vl-convert; ~10 s, then cached on disk)."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    ver = vl_version_for_vl_convert()
    tag = hashlib.sha1(f"{vlc.__version__}|{ver}".encode()).hexdigest()[:12]
    f = _cache_dir() / f"vega-bundle-{tag}.js"
    try:
        return f.read_text(encoding="utf-8")
    except OSError:
        pass
    js = vlc.javascript_bundle(vl_version=ver)
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(js, encoding="utf-8")
        tmp.replace(f)
    except OSError:
        pass  # no writable cache: bundle again next time
    return js


def chart_spec(chart: Any) -> dict[str, Any]:
    """The Vega-Lite spec of an Altair chart, with no row limit."""
    from geosql.report.charts import with_world

    with alt.data_transformers.enable("default", max_rows=None):
        return with_world(chart.to_dict())


def _fmt(col: str, v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if any(w in col for w in ("share", "accuracy", "rate", "pct")) and abs(v) <= 1:
            return f"{100 * v:.1f}%"
        return f"{v:,.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


def table_html(rows: list[dict[str, Any]], limit: int = 200) -> str:
    if not rows:
        return "<p><em>no rows</em></p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c, r.get(c)))}</td>" for c in cols) + "</tr>"
        for r in rows[:limit]
    )
    more = f"<p><em>{len(rows) - limit} more rows</em></p>" if len(rows) > limit else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="tbl">{table}</div>{more}'


def _figure_html(f: Figure, specs: dict[str, Any]) -> str:
    parts = [f'<figure id="fig-{html.escape(f.key)}">', f"<h3>{html.escape(f.title)}</h3>"]
    if f.chart is not None:
        specs[f.key] = chart_spec(f.chart)
        parts.append(f'<div class="chart" data-figure="{html.escape(f.key)}"></div>')
    if f.table is not None:
        parts.append(table_html(f.table))
    if f.caption:
        parts.append(f"<figcaption>{html.escape(f.caption)}</figcaption>")
    for i, sql in enumerate(f.sql):
        label = "SQL" if len(f.sql) == 1 else f"SQL {i + 1}"
        parts.append(
            f'<details class="sql"><summary>{label} (rerun with geosql sql)</summary>'
            f'<pre class="sql">{html.escape(sql)}</pre></details>'
        )
    parts.append("</figure>")
    return "\n".join(parts)


def render_page(
    title: str, subtitle: str, sections: list[Section], skipped: list[tuple[str, str]]
) -> str:
    """The whole HTML document."""
    specs: dict[str, Any] = {}
    body = []
    for s in sections:
        inner = [f'<section id="{html.escape(s.key)}"><h2>{html.escape(s.title)}</h2>']
        if s.intro:
            inner.append(f"<p>{html.escape(s.intro)}</p>")
        inner.append(s.html)
        inner += [_figure_html(f, specs) for f in s.figures]
        inner.append("</section>")
        body.append("\n".join(inner))
    nav = " ".join(f'<a href="#{html.escape(s.key)}">{html.escape(s.title)}</a>' for s in sections)
    if skipped:
        items = "".join(
            f"<li><b>{html.escape(t)}</b>: {html.escape(why)}</li>" for t, why in skipped
        )
        body.append(
            '<section id="not-shown" class="skipped"><h2>Not in this report</h2>'
            f"<ul>{items}</ul></section>"
        )
    bundle = vega_bundle().replace("</script", "<\\/script")
    data = json.dumps(specs, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
<script>{bundle}</script>
</head>
<body>
<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>
<main>
<nav>{nav}</nav>
{"".join(body)}
</main>
<script type="application/json" id="geosql-specs">{data}</script>
<script>{EMBED}</script>
</body>
</html>
"""
