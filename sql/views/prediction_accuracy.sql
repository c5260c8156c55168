-- prediction_accuracy: how well does each geoparsing method match the gold labels
-- (gold_countries; NULL = no place)? Over captions with both a prediction and a gold label:
-- n, accuracy (same country, or both no place), n_located / located_accuracy (gold has a
-- country: predicted that country), n_no_place / false_positive_rate (gold has no place:
-- a country was predicted anyway).
-- grain: one row per (method)
CREATE OR REPLACE VIEW prediction_accuracy AS
SELECT p.method,
       count(*) AS n,
       avg(CASE WHEN p.country_code IS NOT DISTINCT FROM g.country_code THEN 1.0 ELSE 0.0 END)
           AS accuracy,
       count(*) FILTER (WHERE g.country_code IS NOT NULL) AS n_located,
       avg(CASE WHEN p.country_code IS NOT DISTINCT FROM g.country_code THEN 1.0 ELSE 0.0 END)
           FILTER (WHERE g.country_code IS NOT NULL) AS located_accuracy,
       count(*) FILTER (WHERE g.country_code IS NULL) AS n_no_place,
       avg(CASE WHEN p.country_code IS NOT NULL THEN 1.0 ELSE 0.0 END)
           FILTER (WHERE g.country_code IS NULL) AS false_positive_rate
FROM current_geo_predictions p
JOIN gold_countries g ON g.caption_id = p.caption_id
GROUP BY p.method;
