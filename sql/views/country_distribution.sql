-- country_distribution: per dataset, entity, caption language and geoparsing method, how many
-- located captions point to each country (n) and its share of the group's located captions.
-- entity is NULL for captions with no tagged entity; a caption tagged with two entities counts
-- in both groups. Captions a method found no place in are left out (see unlocated_share).
-- grain: one row per (dataset, entity, language, method, country_code)
CREATE OR REPLACE VIEW country_distribution AS
WITH counts AS (
    SELECT c.dataset, e.entity, c.language, p.method, p.country_code, count(*) AS n
    FROM captions c
    LEFT JOIN caption_entities e ON e.caption_id = c.caption_id
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
