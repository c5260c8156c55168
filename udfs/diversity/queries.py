"""SQL of the `diversity` and `coverage` stages (templates with `{setting}` placeholders).

`*_INPUTS` give one row per group (key `group_id`) with its size and a fingerprint of its
members (the runner's input hash: a changed membership reruns the group). `*_PICK` give the
seeded sample of each group's items that `prepare` exports (their rowids in `embeddings`):
items ranked by hash('<seed>:<item_id>') within their group, the first draws×k (`diversity`)
or `cap` per side (`coverage`); `FETCH` reads their vectors.
"""

from __future__ import annotations

# Country of each caption for a method: the predictions in use (one row per caption and method).
_GEO = (
    "SELECT caption_id, country_code FROM current_geo_predictions"
    " WHERE method = {m} AND country_code IS NOT NULL"
)

# Captions kept for an entity: all of them, unless `presence` is on and entity_presence has
# results for that entity; then only those classified present (by any classifier).
_KEEP = (
    "(NOT {presence} OR ce.entity NOT IN (SELECT DISTINCT entity FROM entity_presence)"
    " OR EXISTS (SELECT 1 FROM entity_presence p"
    " WHERE p.caption_id = e.item_id AND p.entity = ce.entity AND p.present))"
)
_KINDS = "list_contains(string_split(replace({kinds}, ' ', ''), ','), e.kind)"
_MODEL = "({model_key} = '' OR e.model_key = {model_key})"
# Seeded order of the items of a group. hash() (64 bits) is 2.5x faster than md5 on 1M ids;
# it is stable for a DuckDB version (a new version may draw other samples).
_RANK = "hash(CAST({seed} AS VARCHAR) || ':' || item_id)"

_DIV_ITEMS = f"""
WITH geo AS ({_GEO.format(m="{method}")}),
items AS (
    SELECT concat_ws('|', c.dataset, ce.entity, g.country_code, e.kind, e.model_key) AS group_id,
        c.dataset, ce.entity, g.country_code, e.kind AS modality, e.model_key, e.item_id,
        e.rowid AS rid
    FROM embeddings e
    JOIN captions c ON c.caption_id = e.item_id
    JOIN caption_entities ce ON ce.caption_id = e.item_id
    JOIN geo g ON g.caption_id = e.item_id
    WHERE {_KINDS} AND {_MODEL} AND {_KEEP}
)"""

DIVERSITY_INPUTS = f"""{_DIV_ITEMS}
SELECT group_id, any_value(dataset) AS dataset, any_value(entity) AS entity,
    any_value(country_code) AS country_code, any_value(modality) AS modality,
    any_value(model_key) AS model_key, count(*) AS n,
    md5(string_agg(item_id, ',' ORDER BY item_id)) AS members
FROM items GROUP BY group_id
"""

DIVERSITY_PICK = f"""{_DIV_ITEMS},
ranked AS (
    SELECT group_id, rid, count(*) OVER w AS n, row_number() OVER (w ORDER BY {_RANK}) AS r
    FROM items WINDOW w AS (PARTITION BY group_id)
)
SELECT group_id, '' AS side, rid, r FROM ranked WHERE n >= {{k}} AND r <= {{draws}} * {{k}}
"""

NO_GENERATED = (
    "coverage: say which dataset holds the generated images: --set generated=NAME"
    " (the --dataset given to `geosql ingest-generated`)"
)

_SIDE = """
    SELECT ce.entity, g.country_code, e.model_key, e.item_id, e.rowid AS rid
    FROM embeddings e
    JOIN captions c ON c.caption_id = e.item_id
    JOIN caption_entities ce ON ce.caption_id = e.item_id
    JOIN {geo} g ON g.caption_id = e.item_id
    WHERE e.kind = {{kind}} AND {model} AND {where}
"""
_REAL_WHERE = "c.dataset <> {generated} AND ({real} = '' OR c.dataset = {real}) AND " + _KEEP

# The guard turns an empty `generated` setting into an error when the runner counts the rows.
_COV_ITEMS = f"""
WITH guard AS (
    SELECT CASE WHEN trim({{generated}}) = '' THEN error({NO_GENERATED!r}) ELSE TRUE END AS ok
),
geo_real AS ({_GEO.format(m="{method}")}),
geo_gen AS ({_GEO.format(m="{generated_method}")}),
sides AS (
    SELECT 'real' AS side, *
    FROM ({_SIDE.format(geo="geo_real", model=_MODEL, where=_REAL_WHERE)})
    UNION ALL
    SELECT 'generated' AS side, *
    FROM ({_SIDE.format(geo="geo_gen", model=_MODEL, where="c.dataset = {generated}")})
),
items AS (
    SELECT concat_ws('|', entity, country_code, model_key) AS group_id, s.*
    FROM sides s, guard WHERE guard.ok AND EXISTS (
        SELECT 1 FROM sides g WHERE g.side = 'generated' AND g.entity = s.entity
        AND g.country_code = s.country_code AND g.model_key = s.model_key)
)"""

COVERAGE_INPUTS = f"""{_COV_ITEMS}
SELECT group_id, any_value(entity) AS entity, any_value(country_code) AS country_code,
    any_value(model_key) AS model_key,
    count(*) FILTER (WHERE side = 'real') AS n_real,
    count(*) FILTER (WHERE side = 'generated') AS n_generated,
    md5(string_agg(side || ':' || item_id, ',' ORDER BY side, item_id)) AS members
FROM items GROUP BY group_id
"""

COVERAGE_PICK = f"""{_COV_ITEMS}
SELECT group_id, side, rid,
    row_number() OVER (PARTITION BY group_id, side ORDER BY {_RANK}) AS r
FROM items QUALIFY r <= {{cap}}
"""

# The picked vectors, by rowid from a temp table of the picks (late materialisation: a join on
# item_id, or rowid IN a CTE, read every vector of the table and was 6-10x slower on 1M rows).
FETCH = """
SELECT p.group_id, p.side, p.r, v.embedding
FROM (SELECT rowid AS rid, embedding FROM embeddings
      WHERE rowid IN (SELECT rid FROM _geosql_pool)) v
JOIN _geosql_pool p USING (rid)
"""
