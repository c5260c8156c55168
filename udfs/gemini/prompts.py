"""The two prompts of the LLM geoparser and the parsing of their answers (pure functions)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

NO_PLACE = {"no", "none", "n/a", "na", "null", "unknown", "no location", "no place", "nothing", ""}

EXTRACT_PROMPT = """You find the primary location named in an image caption.

Rules:
- Answer with the primary location as it is written in the caption, together with the larger \
places written with it (for example "Springfield, Illinois").
- No abbreviations: write an abbreviated place name in full (for example "NYC" -> "New York City").
- No guessing: if the caption names no location, answer no. Do not infer a location from \
languages, names of people, brands, food or styles.
- Continents and vague regions (for example "Europe", "Asia", "the Middle East", "the tropics", \
"the West") do not count as locations: answer no.
- Answer with the location only, or with the single word no.

Caption: {caption}
Location:"""

PREDICT_PROMPT = """An image caption names the location "{location}".
Places from the GeoNames gazetteer whose names match it (guidance only: they can be wrong):
{candidates}

Caption: {caption}

In which country is "{location}"? Use the caption and the candidates as guidance. Answer with \
the country's common English name only (for example "France"), or no if the location is not \
within a single country.
Country:"""


def prompt_hash(prompt: str) -> str:
    """sha256 of a text prompt: the request key of `llm_calls` (with model and config)."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def extract_prompt(caption: str) -> str:
    return EXTRACT_PROMPT.format(caption=" ".join(str(caption).split()))


def predict_prompt(
    caption: str, location: str, candidates: list[dict], names: dict[str, str]
) -> str:
    """The country question, with one `Location: X, geotag: Country` line per distinct candidate."""
    lines, seen = [], set()
    for c in candidates:
        country = names.get(c.get("country_code") or "", c.get("country_code") or "unknown")
        line = f"Location: {c['name']}, geotag: {_title(country)}"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return PREDICT_PROMPT.format(
        location=location,
        candidates="\n".join(lines) if lines else "(none found)",
        caption=" ".join(str(caption).split()),
    )


def _title(name: str) -> str:
    small = {"and", "of", "the", "da", "de", "du"}
    words = name.split(" ")
    return " ".join(
        w if (i and w in small) or not w.islower() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def clean(raw: str | None) -> str:
    """First line of an answer without 'Location:'/'Country:' labels, quotes, stars, final dot."""
    if raw is None:
        return ""
    text = raw.strip().splitlines()[0].strip() if raw.strip() else ""
    text = re.sub(r"^(location|country|answer)\s*:\s*", "", text, flags=re.I)
    prev = None
    while prev != text:
        prev = text
        text = text.strip().strip("\"'`*").strip()
        if text.endswith(".") and not re.search(r"\b\w\.\w\.$", text):
            text = text[:-1]
    return text


def parse_location(raw: str | None) -> str | None:
    """The extracted location, or None for "no" and for answers that are not a place name."""
    text = clean(raw)
    if text.lower() in NO_PLACE or len(text) > 150:
        return None
    return text


def parse_country(raw: str | None) -> str | None:
    """ISO2 code of the country answer; None for "no" and for answers the normalizer does not know."""
    text = clean(raw)
    if text.lower() in NO_PLACE:
        return None
    from geosql.countries import normalize_country  # the one country normalizer

    return normalize_country(text)


def send_to_llm(
    confidence: float | None, n_countries: int | None, threshold: float, multi: bool
) -> bool:
    """The hybrid's routing rule: unsure offline answers (or multi-country candidates) go to the LLM."""
    if confidence is None or confidence < threshold:
        return True
    return bool(multi and (n_countries or 0) > 1)


def budget_thresholds(con, source: str, budget: float, multi: bool) -> dict[str, float]:
    """Per dataset of `source` (SQL with columns dataset, offline_confidence,
    offline_countries), the routing threshold that sends at most `budget` (a share) of its rows
    by `send_to_llm`: the rows it always sends (no confidence; several countries when `multi`)
    count first, then the least confident ones. 0.0 when those alone fill the budget, 1.01 when
    everything fits. One SQL pass (a window over the confidences), so it scales with the
    warehouse."""
    k = f"floor({float(budget)!r} * n.n + 1e-9)::BIGINT - n.f"
    rows = con.execute(
        f"""
        WITH x AS (
            SELECT dataset, offline_confidence AS c,
                   offline_confidence IS NULL
                   OR ({bool(multi)} AND coalesce(offline_countries, 0) > 1) AS forced
            FROM ({source})
        ), n AS (
            SELECT dataset, count(*) AS n, count(*) FILTER (WHERE forced) AS f
            FROM x GROUP BY dataset
        ), o AS (
            SELECT dataset, c, row_number() OVER (PARTITION BY dataset ORDER BY c) - 1 AS j
            FROM x WHERE NOT forced
        )
        SELECT n.dataset, {k} AS k, n.n - n.f AS rest, o.c
        FROM n LEFT JOIN o ON o.dataset IS NOT DISTINCT FROM n.dataset AND o.j = {k}
        """
    ).fetchall()
    # confidence < the k-th smallest other confidence: at most k of them (fewer on ties)
    return {ds: 0.0 if k <= 0 else 1.01 if k >= rest else float(c) for ds, k, rest, c in rows}


def budget_threshold(
    rows: Iterable[tuple[float | None, int | None]], budget: float, multi: bool
) -> float:
    """`budget_thresholds` over one dataset's (offline confidence, candidate countries)."""
    import duckdb
    import pyarrow as pa

    rows = list(rows)
    t = pa.table(
        {
            "dataset": pa.array(["d"] * len(rows), pa.string()),
            "offline_confidence": pa.array([c for c, _ in rows], pa.float64()),
            "offline_countries": pa.array([n for _, n in rows], pa.int64()),
        }
    )
    with duckdb.connect() as con:
        con.register("_rows", t)
        return budget_thresholds(con, "SELECT * FROM _rows", budget, multi).get("d", 0.0)
