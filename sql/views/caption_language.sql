-- caption_language: which language each caption is written in: the detect-language stage's
-- current answer, else the language given at ingest (as written), else NULL (not detected yet).
-- how: given | script | model (NULL when the stage has not seen the caption).
-- grain: one row per (caption_id)
CREATE OR REPLACE VIEW caption_language AS
WITH cur AS (
    SELECT d.caption_id, d.language, d.confidence, d.how
    FROM caption_languages d
    JOIN stage_current s ON s.stage = 'detect-language' AND s.config_key = d.config_key
)
SELECT c.caption_id, c.dataset,
       coalesce(cur.language, lower(c.language)) AS language,
       coalesce(cur.confidence, CASE WHEN c.language IS NOT NULL THEN 1.0 END) AS confidence,
       coalesce(cur.how, CASE WHEN c.language IS NOT NULL THEN 'given' END) AS how
FROM captions c
LEFT JOIN cur USING (caption_id);
