-- current_geo_mentions: the place mentions of the config in use per method (see
-- current_geo_predictions); rows written outside the runner (config_key NULL) always show.
-- grain: one row per (caption_id, method, mention offset)
CREATE OR REPLACE VIEW current_geo_mentions AS
SELECT m.*
FROM geo_mentions m
WHERE m.config_key IS NULL
   OR m.config_key IN (SELECT config_key FROM stage_current);
