-- caption_geo_status: for every caption and every geoparsing method in use, whether the
-- method located it, found no place, failed on it (error in stage_errors), or has not run on
-- it yet. Methods are the scopes in use of the stages that write geo_predictions (geoparse,
-- llm-geoparse, hybrid-geoparse...), labels given at ingest, and rows written outside the runner.
-- grain: one row per (caption_id, method)
CREATE OR REPLACE VIEW caption_geo_status AS
SELECT c.caption_id, c.dataset, s.scope AS method, s.stage, s.config_key,
       CASE WHEN p.caption_id IS NOT NULL AND p.country_code IS NOT NULL THEN 'located'
            WHEN p.caption_id IS NOT NULL THEN 'no_place'
            WHEN i.status = 'failed' THEN 'failed'
            ELSE 'not_run' END AS status
FROM captions c
CROSS JOIN (SELECT * FROM stage_current WHERE list_contains(outputs, 'geo_predictions')) s
LEFT JOIN geo_predictions p ON p.caption_id = c.caption_id AND p.config_key = s.config_key
LEFT JOIN stage_items i
       ON i.stage = s.stage AND i.config_key = s.config_key AND i.item_id = c.caption_id
UNION ALL  -- rows written outside the runner (no config key)
SELECT c.caption_id, c.dataset, p.method, NULL, NULL,
       CASE WHEN p.country_code IS NOT NULL THEN 'located' ELSE 'no_place' END
FROM captions c JOIN geo_predictions p ON p.caption_id = c.caption_id
WHERE p.config_key IS NULL;
