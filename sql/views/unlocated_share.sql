-- unlocated_share: per dataset, entity and method, how many captions the method processed
-- (n_captions), how many it found no place in (n_unlocated), and that share.
-- entity NULL = captions with no tagged entity; caption languages are pooled.
CREATE OR REPLACE VIEW unlocated_share AS
SELECT c.dataset, e.entity, p.method,
       count(*) AS n_captions,
       count(*) FILTER (WHERE p.country_code IS NULL) AS n_unlocated,
       count(*) FILTER (WHERE p.country_code IS NULL) / count(*) AS share
FROM captions c
LEFT JOIN caption_entities e ON e.caption_id = c.caption_id
JOIN geo_predictions p ON p.caption_id = c.caption_id
GROUP BY ALL;
