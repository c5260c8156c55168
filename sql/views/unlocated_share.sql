-- unlocated_share: per dataset, entity and method, how many captions the method processed
-- (n_captions), how many it found no place in (n_unlocated) and that share; n_failed counts
-- captions the method failed on (see stage_errors), n_not_run those it has not processed yet.
-- entity NULL = captions with no tagged entity; caption languages are pooled.
-- grain: one row per (dataset, entity, method)
CREATE OR REPLACE VIEW unlocated_share AS
SELECT s.dataset, e.entity, s.method,
       count(*) FILTER (WHERE s.status IN ('located', 'no_place')) AS n_captions,
       count(*) FILTER (WHERE s.status = 'no_place') AS n_unlocated,
       count(*) FILTER (WHERE s.status = 'no_place')
           / nullif(count(*) FILTER (WHERE s.status IN ('located', 'no_place')), 0) AS share,
       count(*) FILTER (WHERE s.status = 'failed') AS n_failed,
       count(*) FILTER (WHERE s.status = 'not_run') AS n_not_run
FROM caption_geo_status s
LEFT JOIN caption_entities e ON e.caption_id = s.caption_id
GROUP BY ALL;
