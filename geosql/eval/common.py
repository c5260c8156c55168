"""What every evaluation shares: its own dataset in the user's warehouse, and running a method.

An evaluation runs inside the user's warehouse, in a dataset of its own (`eval:<name>`): the
reference data, gazetteer index and LLM answer cache (`llm_calls`) are the user's, so an answer
paid for during an eval is kept, and a rerun of the same eval costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from geosql.db import literal
from geosql.errors import GeosqlError

PREFIX = "eval:"


def eval_dataset(name: str) -> str:
    """The dataset name of an evaluation (`eval:<name>`)."""
    name = name.strip()
    if not name:
        raise GeosqlError("an evaluation needs a non-empty --name")
    return name if name.startswith(PREFIX) else PREFIX + name


def stage_for_method(method: str) -> str:
    """The caption geoparsing stage (writes `geo_predictions`) whose default `method` setting
    is `method` (offline -> geoparse, gemini -> llm-geoparse, hybrid -> hybrid-geoparse)."""
    from geosql.registry import registry

    registry.load()
    stages = [s for s in registry.stages.values() if "geo_predictions" in s.outputs]
    for st in stages:
        if st.defaults.get("method") == method:
            return st.name
    known = sorted({s.defaults["method"] for s in stages if "method" in s.defaults})
    raise GeosqlError(f"no stage produces method {method!r}; known methods: {', '.join(known)}")


def read_table(path: Path, columns: tuple[str, ...], what: str) -> pa.Table:
    """A CSV (all VARCHAR) or Parquet file as Arrow, checking it has `columns`."""
    if not Path(path).is_file():
        raise GeosqlError(f"{path}: no such file ({what})")
    p = str(path).replace("'", "''")
    with duckdb.connect() as db:
        try:
            if str(path).endswith(".parquet"):
                rel = db.sql(f"SELECT * FROM read_parquet('{p}')")
            else:
                rel = db.sql(f"SELECT * FROM read_csv('{p}', all_varchar=true, header=true)")
            cols = rel.columns
            missing = [c for c in columns if c not in cols]
            if missing:
                raise GeosqlError(
                    f"{path}: no column {missing[0]!r} ({what}; columns: {', '.join(cols)});"
                    " quote fields that contain commas"
                )
            return rel.to_arrow_table()
        except duckdb.Error as e:
            raise GeosqlError(f"{path}: cannot read it as {what}: {str(e).splitlines()[0]}") from e


def replace_captions(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    ids: list[str],
    texts: list[str | None],
    source: str,
    gold: list[tuple[str | None, str | None]] | None = None,
) -> list[str]:
    """Make `dataset` hold exactly these captions (ids `<dataset>:<id>`), and with `gold`
    ((country code, raw label) per caption) their `gold_countries` rows, in one transaction.
    Unchanged rows keep their stage results (the runner sees the same input)."""
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise GeosqlError(f"{source}: id {dup!r} appears twice; ids must be unique")
    cids = [f"{dataset}:{i}" for i in ids]
    con.register("_eval_caps", pa.table({"caption_id": cids, "text": pa.array(texts, pa.string())}))
    try:
        con.execute("BEGIN")
        try:
            ds = literal(dataset)
            con.execute(
                "DELETE FROM caption_entities WHERE caption_id IN"
                f" (SELECT caption_id FROM captions WHERE dataset = {ds})"
            )
            con.execute(
                f"DELETE FROM captions WHERE dataset = {ds} AND caption_id NOT IN"
                " (SELECT caption_id FROM _eval_caps)"
            )
            con.execute(
                "UPDATE captions SET text = e.text FROM _eval_caps e"
                " WHERE captions.caption_id = e.caption_id AND captions.text IS DISTINCT FROM e.text"
            )
            con.execute(
                f"INSERT INTO captions (caption_id, dataset, text, source_file)"
                f" SELECT caption_id, {ds}, text, {literal(source)} FROM _eval_caps"
                " WHERE caption_id NOT IN (SELECT caption_id FROM captions)"
            )
            if gold is not None:
                _replace_gold(con, ds, cids, gold)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("_eval_caps")
    return cids


def _replace_gold(
    con: duckdb.DuckDBPyConnection, ds: str, cids: list[str], gold: list[tuple]
) -> None:
    con.execute(
        "DELETE FROM gold_countries WHERE caption_id IN"
        f" (SELECT caption_id FROM captions WHERE dataset = {ds})"
    )
    con.register(
        "_eval_gold",
        pa.table(
            {
                "caption_id": cids,
                "code": pa.array([g[0] for g in gold], pa.string()),
                "raw": pa.array([g[1] for g in gold], pa.string()),
            }
        ),
    )
    try:
        con.execute("INSERT OR REPLACE INTO gold_countries SELECT * FROM _eval_gold")
    finally:
        con.unregister("_eval_gold")


def _config_in_use(con: duckdb.DuckDBPyConnection, stage: str, scope: str) -> dict | None:
    """The settings of the config the views read for (stage, scope), if any."""
    import json

    row = con.execute(
        "SELECT r.config FROM stage_current c JOIN stage_runs r USING (stage, config_key)"
        " WHERE c.stage = ? AND c.scope = ? ORDER BY r.run_id DESC LIMIT 1",
        [stage, scope],
    ).fetchall()
    return json.loads(row[0][0]) if row and row[0][0] else None


def run_method(
    con: duckdb.DuckDBPyConnection,
    method: str,
    dataset: str,
    settings: dict[str, Any] | None = None,
) -> Any:
    """Run the method's stage over `dataset` only, after the upstream stages it depends on
    (each with the config the views use, else its defaults); returns the run summary (its
    `config_key` names the rows to score). Which configs the user's views show
    (`stage_current`) is left as it was."""
    from geosql.registry import registry
    from geosql.runner import run_stage
    from geosql.settings import resolve_config

    where = f"caption_id IN (SELECT caption_id FROM captions WHERE dataset = {literal(dataset)})"
    con.execute("CREATE OR REPLACE TEMP TABLE _eval_current AS SELECT * FROM stage_current")
    try:

        def run(name: str, cfg: dict[str, Any] | None) -> Any:
            st = registry.get_stage(name)
            resolved = resolve_config(st, cfg)
            for dep in st.depends_on:
                up, _, setting = dep.partition(":")
                up_stage = registry.get_stage(up)
                scope = str(resolved[setting]) if setting else up
                up_cfg = _config_in_use(con, up, scope)
                if up_cfg is None and setting and up_stage.scope:
                    up_cfg = {up_stage.scope: resolved[setting]}
                run(up, up_cfg)
            return run_stage(con, name, config=cfg, where=where, progress=False)

        return run(stage_for_method(method), dict(settings or {}))
    finally:
        con.execute("BEGIN")
        try:
            con.execute("DELETE FROM stage_current")
            con.execute("INSERT INTO stage_current SELECT * FROM _eval_current")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("DROP TABLE _eval_current")
