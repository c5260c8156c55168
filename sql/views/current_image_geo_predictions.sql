-- current_image_geo_predictions: the image geolocations the other views read: per method, the
-- rows of the `image-geolocate` config in use (`stage_current`); rows written outside the
-- runner (config_key NULL) always show.
-- grain: one row per (image_id, method)
CREATE OR REPLACE VIEW current_image_geo_predictions AS
SELECT p.*
FROM image_geo_predictions p
WHERE p.config_key IS NULL
   OR p.config_key IN (
       SELECT config_key FROM stage_current WHERE stage = 'image-geolocate' AND scope = p.method
   );
