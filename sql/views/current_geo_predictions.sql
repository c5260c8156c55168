-- current_geo_predictions: the country predictions the other views read: per method, the rows
-- of the config in use (`stage_current`: the last complete run, the first run of a method, or
-- `geosql stages use`). Rows written outside the runner (config_key NULL) always show.
-- grain: one row per (caption_id, method)
CREATE OR REPLACE VIEW current_geo_predictions AS
SELECT p.*
FROM geo_predictions p
WHERE p.config_key IS NULL
   OR p.config_key IN (SELECT config_key FROM stage_current);
