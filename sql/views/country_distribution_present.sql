-- country_distribution_present: country_distribution counting only captions whose image shows
-- their entity, as judged by that entity's classifier in entity_presence (stage entity-svm; when
-- an entity has several classifiers, the most recently created one in svm_models). Same columns
-- and groups as country_distribution; captions with no entity or no verdict are left out.
-- grain: one row per (dataset, entity, language, method, country_code)
CREATE OR REPLACE VIEW country_distribution_present AS
WITH active AS (
    SELECT entity, arg_max(model_id, created) AS model FROM svm_models GROUP BY entity
),
shown AS (
    SELECT p.caption_id, p.entity
    FROM entity_presence p
    JOIN active a ON a.entity = p.entity AND a.model = p.model
    WHERE p.present
),
counts AS (
    SELECT c.dataset, e.entity, c.language, p.method, p.country_code, count(*) AS n
    FROM captions c
    JOIN caption_entities e ON e.caption_id = c.caption_id
    JOIN shown s ON s.caption_id = c.caption_id AND s.entity = e.entity
    JOIN current_geo_predictions p ON p.caption_id = c.caption_id
    WHERE p.country_code IS NOT NULL
    GROUP BY ALL
)
SELECT k.dataset, k.entity, k.language, k.method, k.country_code,
       co.name AS country, ct.name AS continent, k.n,
       k.n / sum(k.n) OVER (PARTITION BY k.dataset, k.entity, k.language, k.method) AS share
FROM counts k
LEFT JOIN countries co ON co.iso2 = k.country_code
LEFT JOIN continents ct ON ct.code = co.continent_code;
