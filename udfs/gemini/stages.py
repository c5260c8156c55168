"""Stages `llm-geoparse` (method gemini) and `hybrid-geoparse` (method hybrid), contract v2.

prepare (warehouse side): credentials, cache layout and journals, prices, the exported call
cache, batch jobs to resume, the place index files, country names -> `GeoparseSpec`.
open (worker side): the engine and the loaded index. process: `udfs.gemini.pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geosql.registry import Stage, registry
from udfs.gemini.engine import TRANSPORT_SETTINGS, Engine, LlmSpec, llm_spec
from udfs.gemini.online import DEFAULT_MODEL, generation
from udfs.gemini.pipeline import LlmState, process_hybrid, process_llm

COMMON: dict[str, Any] = {
    "model": DEFAULT_MODEL,
    "top_k": 10,
    "min_population": 10_000,
    "retrieval_model": "",
    "temperature": 0.0,
    "max_output_tokens": 1024,
    "thinking_budget": 0,
    **TRANSPORT_SETTINGS,
}
RUNTIME = tuple(TRANSPORT_SETTINGS)


@dataclass
class GeoparseSpec:
    llm: LlmSpec
    index_path: str | None
    names: dict[str, str]
    thresholds: dict[str, float] | None = None  # hybrid with a budget: per dataset


def gen_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    return generation(
        str(cfg["model"]),
        float(cfg["temperature"]),
        int(cfg["max_output_tokens"]),
        int(cfg["thinking_budget"]),
    )


def prepare(con: Any, cfg: dict[str, Any]) -> GeoparseSpec:
    """Credentials first (fail before any work), then the cache, names and the index."""
    llm = llm_spec(con, cfg, gen_settings(cfg))
    names = dict(con.execute("SELECT iso2, name FROM countries WHERE name IS NOT NULL").fetchall())
    if not names:
        from geosql.countries import country_names

        names = country_names()
    index_path = None
    if int(cfg["top_k"]) > 0:
        from udfs.retrieval import PlaceIndex

        index_path = PlaceIndex.ensure(
            con,
            model=cfg["retrieval_model"] or None,
            min_population=int(cfg["min_population"]),
            log=True,
        )
    return GeoparseSpec(llm, index_path, names, _budget_routing(con, cfg))


def _budget_routing(con: Any, cfg: dict[str, Any]) -> dict[str, float] | None:
    """hybrid-geoparse with `budget` > 0: per dataset, the threshold that sends at most that
    share of its captions with an offline answer (`udfs.gemini.budget_thresholds`), computed
    over all of them when the run starts; None without a budget (`threshold` routes)."""
    budget = float(cfg.get("budget") or 0.0)
    if "offline_method" not in cfg or budget <= 0:
        return None
    if budget > 1:
        from geosql.errors import GeosqlError

        raise GeosqlError(f"budget must be a share between 0 and 1, got {budget}")
    from geosql.runner import format_inputs
    from udfs.gemini.prompts import budget_thresholds as per_dataset

    source = format_inputs(HYBRID_INPUTS, cfg)
    return per_dataset(con, source, budget, bool(cfg["multi_country"]))


def open_state(spec: GeoparseSpec, cfg: dict[str, Any]) -> LlmState:
    index = None
    if spec.index_path is not None:
        from udfs.retrieval import PlaceIndex

        index = PlaceIndex.load(spec.index_path)
    return LlmState(Engine(spec.llm), index, spec.names, spec.thresholds)


def close_state(state: LlmState) -> None:
    state.engine.close()


def _batch_size(cfg: dict[str, Any]) -> int:
    """Rows per runner batch: small online (frequent commits), large for Batch API jobs."""
    return 50_000 if cfg.get("mode") == "batch" else 200


# What both stages share: outputs, the worker contract, scope and run settings.
SHARED = {
    "outputs": ("geo_predictions", "llm_geoparse"),
    "prepare": prepare,
    "open": open_state,
    "close": close_state,
    "scope": "method",
    "version": "2",
    "batch_size": _batch_size,
    "runtime_keys": RUNTIME,
    "extra": "gemini",
}

LLM_GEOPARSE = registry.stage(
    Stage(
        name="llm-geoparse",
        description="Gemini extract -> GeoNames retrieval -> country (method gemini), cached",
        inputs="SELECT caption_id, text FROM captions WHERE text IS NOT NULL",
        process=process_llm,
        defaults={"method": "gemini", **COMMON},
        **SHARED,
    )
)

HYBRID_INPUTS = (
    "SELECT c.caption_id, c.dataset, c.text, o.country_code AS offline_country,"
    " o.confidence AS offline_confidence, coalesce(m.n, 0) AS offline_countries"
    " FROM captions c JOIN current_geo_predictions o"
    "   ON o.caption_id = c.caption_id AND o.method = {offline_method}"
    " LEFT JOIN (SELECT caption_id, count(DISTINCT country_code) AS n FROM current_geo_mentions"
    "   WHERE method = {offline_method} AND score >= {multi_min_score}"
    "   GROUP BY caption_id) m"
    "   ON m.caption_id = c.caption_id"
    " WHERE c.text IS NOT NULL"
)

HYBRID_GEOPARSE = registry.stage(
    Stage(
        name="hybrid-geoparse",
        description="offline geoparser, asking Gemini only where it is unsure (method hybrid)",
        inputs=HYBRID_INPUTS,
        process=process_hybrid,
        defaults={
            "method": "hybrid",
            "offline_method": "offline",
            "threshold": 0.75,
            "budget": 0.0,
            "multi_country": True,
            "multi_min_score": 0.5,
            **COMMON,
        },
        depends_on=("geoparse:offline_method",),
        **SHARED,
    )
)
