"""Sections that appear only when their analysis has run (the view exists and has rows).

Each function returns a Section or raises Skip(reason). The views of the later analyses are
read by column name, so a view with extra columns still renders; missing key columns fall back
to a plain table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import duckdb

from geosql.errors import GeosqlError
from geosql.report import charts
from geosql.report import queries as q
from geosql.report.model import Figure, Section, Skip, fetch

# Published image-geolocation accuracy on IM2GPS3K (% within 1 / 25 / 200 / 750 / 2,500 km).
PUBLISHED = {
    "G3 (published, IM2GPS3K)": (16.65, 40.94, 55.56, 71.24, 84.68),
    "GeoCLIP (published, IM2GPS3K)": (14.11, 34.47, 50.65, 69.67, 83.82),
}
KM = (1, 25, 200, 750, 2500)


def _need(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    if not q.relation_exists(con, name):
        raise Skip(f"view {name} does not exist")
    if not q.has_rows(con, name):
        raise Skip(f"{name} has no rows")
    return q.columns(con, name)


def _filters(cols: list[str], s: q.Scope, alias: str = "") -> list[str]:
    """Conditions restricting a view to the report's dataset, method and entity (if it has them)."""
    a = f"{alias}." if alias else ""
    w = [
        f"{a}{c} = {q.lit(v)}"
        for c, v in (("dataset", s.dataset), ("method", s.method), ("entity", s.entity))
        if v is not None and c in cols
    ]
    return w


def _where(conds: list[str]) -> str:
    return ("WHERE " + " AND ".join(conds)) if conds else ""


def presence(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    """All captions of an entity vs those whose image shows it (entity-presence classifiers)."""
    _need(con, "country_distribution_present")
    w = s.where()
    sql = (
        "WITH present AS (\n"
        "    SELECT entity, country_code, sum(n) AS n FROM country_distribution_present\n"
        f"    WHERE {w} GROUP BY ALL\n"
        "), allc AS (\n"
        f"    SELECT entity, country_code, n FROM country_counts\n    WHERE {w}\n"
        "      AND entity IN (SELECT entity FROM present)\n"
        ")\n"
        "SELECT a.entity, a.country_code, co.name AS country, a.n AS n_all,\n"
        "       a.n / sum(a.n) OVER (PARTITION BY a.entity) AS share_all,\n"
        "       coalesce(p.n, 0) AS n_present,\n"
        "       coalesce(p.n, 0) / sum(p.n) OVER (PARTITION BY a.entity) AS share_present\n"
        "FROM allc a LEFT JOIN present p USING (entity, country_code)\n"
        "LEFT JOIN countries co ON co.iso2 = a.country_code\n"
        "ORDER BY a.entity, a.n DESC, a.country_code"
    )
    rows = fetch(con, sql)
    if not rows:
        raise Skip("no entity of this dataset and method has presence verdicts")
    codes = ", ".join(q.lit(c) for c in q.US_UK_CA)
    summary_sql = (
        f"WITH d AS (\n{q._indent(sql)}\n)\n"
        "SELECT entity, sum(n_all) AS n_all, sum(n_present) AS n_present,\n"
        f"       sum(share_all) FILTER (WHERE country_code IN ({codes})) AS us_uk_ca_share_all,\n"
        f"       sum(share_present) FILTER (WHERE country_code IN ({codes}))"
        " AS us_uk_ca_share_present\n"
        "FROM d GROUP BY entity ORDER BY entity"
    )
    figs = [
        Figure(
            "presence_summary",
            "Filtering effect per entity",
            [summary_sql],
            table=fetch(con, summary_sql),
            caption="Located captions of each entity, all of them vs those whose image "
            "shows the entity (view country_distribution_present).",
        )
    ]
    for ent in dict.fromkeys(r["entity"] for r in rows):
        top = [r for r in rows if r["entity"] == ent][:15]
        long = []
        for r in top:
            name = charts.display_name(r["country"], r["country_code"])
            long.append({"entity": name, "which": "all captions", "share": r["share_all"]})
            long.append({"entity": name, "which": "image shows it", "share": r["share_present"]})
        figs.append(
            Figure(
                f"presence_{ent}",
                f"{ent}: share per country, all captions vs image shows the entity",
                [sql],
                chart=charts.grouped_bars(
                    long, "entity", "share", "which", title="share of located"
                ),
                caption="The 15 countries with most located captions of the entity.",
            )
        )
    return Section("presence", "Entity presence: what filtering by the image changes", figures=figs)


def evaluation(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    """prediction_accuracy: each method against the gold labels."""
    cols = _need(con, "prediction_accuracy")
    sql = "SELECT * FROM prediction_accuracy ORDER BY method"
    rows = fetch(con, sql)
    metrics = [c for c in ("accuracy", "located_accuracy", "false_positive_rate") if c in cols]
    long = [
        {"method": r["method"], "metric": m, "value": r[m]}
        for r in rows
        for m in metrics
        if r.get(m) is not None
    ]
    fig = Figure(
        "evaluation",
        "Geoparsing against gold labels",
        [sql],
        chart=charts.grouped_bars(long, "method", "value", "metric", title="rate", domain=[0, 1])
        if long
        else None,
        table=rows,
        caption="Over captions with a gold label (gold_countries): accuracy, accuracy "
        "on captions that name a country, and the false-positive rate on captions "
        "that name none.",
    )
    return Section("evaluation", "Evaluation against gold data", figures=[fig])


def geolocation(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    """geo_accuracy: share of image predictions within each km threshold, beside published ones."""
    cols = _need(con, "geo_accuracy")
    sql = "SELECT * FROM geo_accuracy ORDER BY ALL"
    rows = fetch(con, sql)
    own, published = {}, {}
    for c in cols:
        m = re.fullmatch(r"(?:published_(\d+)km|km_(\d+)_published)", c)
        if m:
            published[c] = int(m.group(1) or m.group(2))
            continue
        m = re.search(r"(\d+)_?km", c)
        if m and not re.search(r"median|mean|error", c):
            own[c] = int(m.group(1))
    long: list[dict[str, Any]] = []
    seen_published = False
    for r in rows:
        label = " / ".join(str(r[k]) for k in ("dataset", "method") if k in r)
        for kind, km_cols in (("", own), (" (published)", published)):
            vals = [r[c] for c in km_cols if r[c] is not None]
            if not vals:
                continue
            pct = any(c.startswith(("pct", "published")) for c in km_cols) or max(vals) > 1.0
            seen_published |= bool(kind)
            for c, km in km_cols.items():
                if r[c] is not None:
                    long.append(
                        {"run": label + kind, "km": km, "share": r[c] / (100 if pct else 1)}
                    )
    if long and not seen_published:
        for name, pcts in PUBLISHED.items():
            long += [
                {"run": name, "km": km, "share": p / 100} for km, p in zip(KM, pcts, strict=True)
            ]
    chart = charts.threshold_lines(long) if long else None
    fig = Figure(
        "geolocation",
        "Image geolocation: share within each distance",
        [sql],
        chart=chart,
        table=rows,
        caption="Share of images predicted within 1, 25, 200, 750 and 2,500 km of the "
        "truth (view geo_accuracy), beside the published G3 and GeoCLIP figures on "
        "IM2GPS3K.",
    )
    return Section("geolocation", "Image-geolocation accuracy", figures=[fig])


def diversity(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    """diversity_scores per country, and representation vs diversity."""
    cols = _need(con, "diversity_scores")

    def conds(alias: str = "") -> list[str]:
        w = _filters(cols, s, alias)
        if "config_key" in cols:  # the config in use, as representation_vs_diversity reads it
            a = f"{alias}." if alias else ""
            w.append(
                f"{a}config_key IN (SELECT config_key FROM stage_current WHERE stage = 'diversity')"
            )
        return w

    sql = f"SELECT * FROM diversity_scores\n{_where(conds())}\nORDER BY ALL"
    rows = fetch(con, sql)
    if not rows:
        raise Skip("diversity_scores has no rows for this dataset and method")
    figs = []
    if {"vendi", "country_code"} <= set(cols):
        if {"dataset", "method", "entity"} <= set(cols):
            dsql = (
                "SELECT d.*, k.share\nFROM diversity_scores d\n"
                "LEFT JOIN country_counts k ON k.dataset = d.dataset AND k.method = d.method\n"
                "  AND k.entity IS NOT DISTINCT FROM d.entity AND k.country_code = d.country_code\n"
                f"{_where([*conds('d'), 'd.vendi IS NOT NULL'])}\nORDER BY d.vendi DESC"
            )
        else:
            dsql = (
                "SELECT *, NULL AS share FROM diversity_scores\n"
                f"{_where([*conds(), 'vendi IS NOT NULL'])}\nORDER BY vendi DESC"
            )
        drows = fetch(con, dsql)
        group = "modality" if "modality" in cols else None
        bars = [
            {**r, "label": " / ".join(str(r[c]) for c in ("entity", "country_code") if c in r)}
            for r in drows[:40]
        ]
        figs.append(
            Figure(
                "diversity",
                "Diversity (Vendi score) per country",
                [dsql],
                chart=charts.grouped_bars(
                    bars, "label", "vendi", group, fmt=".1f", title="Vendi score"
                ),
                caption="Vendi score at a fixed sample size (higher = more diverse), the 40 "
                "highest; groups with too few items have no score.",
            )
        )
        pts = [r for r in drows if r.get("share")]
        if pts:
            figs.append(
                Figure(
                    "diversity_vs_share",
                    "Representation vs diversity",
                    [dsql],
                    chart=charts.share_vs_score(pts, group),
                    caption="Each point a (country, modality): share of located "
                    "captions against its Vendi score.",
                )
            )
    else:
        figs.append(Figure("diversity", "diversity_scores", [sql], table=rows))
    if q.has_rows(con, "representation_vs_diversity"):
        rcols = q.columns(con, "representation_vs_diversity")
        rsql = (
            f"SELECT * FROM representation_vs_diversity\n{_where(_filters(rcols, s))}\nORDER BY ALL"
        )
        figs.append(
            Figure(
                "representation_vs_diversity",
                "Does representation predict diversity? (view representation_vs_diversity)",
                [rsql],
                table=fetch(con, rsql),
            )
        )
    return Section("diversity", "Diversity per country", figures=figs)


def language_skew(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    """language_country_skew: do language subsets skew to where the language is spoken?"""
    cols = _need(con, "language_country_skew")
    sql = f"SELECT * FROM language_country_skew\n{_where(_filters(cols, s))}\nORDER BY ALL"
    rows = fetch(con, sql)
    if not rows:
        raise Skip("language_country_skew has no rows for this dataset and method")
    lang = next((c for c in cols if c in ("language", "lang", "subset")), None)
    shares = [c for c in cols if "share" in c]
    if {"share_in", "english_share_in"} <= set(cols):  # engineer C's view: the two to compare
        shares = ["share_in", "english_share_in"]
    chart = None
    if lang and shares:
        long = [
            {lang: str(r[lang]), "measure": c, "value": r[c]}
            for r in rows
            for c in shares
            if isinstance(r[c], int | float)
        ]
        if long:
            chart = charts.grouped_bars(long, lang, "value", "measure", title="share")
    fig = Figure(
        "language_skew",
        "Language subsets: share in countries where the language is spoken",
        [sql],
        chart=chart,
        table=rows,
        caption="Per language subset, the share of its located captions in countries "
        "where the language is widely spoken, beside the same share for English.",
    )
    return Section("language", "Language-subset skew", figures=[fig])


def similarity(con: duckdb.DuckDBPyConnection, s: q.Scope) -> Section:
    """Cross-country similarity heatmaps from udfs.similarity.plots, one per topic."""
    try:
        from udfs.similarity.plots import similarity_heatmap
    except ImportError as e:
        raise Skip(f"udfs.similarity.plots is not available ({e})") from e
    src = next(
        (v for v in ("similarity_images", "topic_country_centroids") if q.has_rows(con, v)), None
    )
    if src is None:
        raise Skip("no similarity view has rows (similarity_images is empty)")
    where = f" WHERE topic = {q.lit(s.entity)}" if s.entity else ""
    topics = [r["topic"] for r in fetch(con, f"SELECT DISTINCT topic FROM {src}{where} ORDER BY 1")]
    figs, failed = [], []
    for t in topics[:8]:
        try:
            chart = similarity_heatmap(con, t)
        except (GeosqlError, ValueError, duckdb.Error) as e:
            failed.append(f"{t}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
            continue
        sql = (
            f"-- Python: udfs.similarity.plots.similarity_heatmap(con, {q.lit(t)})\n"
            f"SELECT * FROM country_pair_similarity WHERE topic = {q.lit(t)}"
        )
        cap = "Cosine similarity of the countries' mean image embeddings, ordered by clustering."
        if len(topics) > 8:
            cap += f" The first 8 of {len(topics)} topics; pass --entity for another."
        figs.append(
            Figure(
                f"similarity_{t}",
                f"Visual similarity between countries: {t}",
                [sql],
                chart=chart,
                caption=cap,
            )
        )
    if not figs:
        raise Skip("no topic could be drawn: " + "; ".join(failed))
    if failed:
        figs[-1].caption += " Not drawn: " + "; ".join(failed) + "."
    return Section("similarity", "Cross-country visual similarity", figures=figs)


OPTIONAL: list[tuple[str, Callable[[duckdb.DuckDBPyConnection, q.Scope], Section]]] = [
    ("Entity presence", presence),
    ("Diversity per country", diversity),
    ("Language-subset skew", language_skew),
    ("Evaluation against gold data", evaluation),
    ("Image-geolocation accuracy", geolocation),
    ("Cross-country visual similarity", similarity),
]
