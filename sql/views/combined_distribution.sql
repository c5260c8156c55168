-- combined_distribution: country_distribution with all entities together: per dataset, caption
-- language and method, each located caption counted once whatever its entities (or none).
-- grain: one row per (dataset, language, method, country_code)
CREATE OR REPLACE VIEW combined_distribution AS
WITH counts AS (
    SELECT c.dataset, c.language, p.method, p.country_code, count(*) AS n
    FROM captions c
    JOIN current_geo_predictions p ON p.caption_id = c.caption_id
    WHERE p.country_code IS NOT NULL
    GROUP BY ALL
)
SELECT k.dataset, k.language, k.method, k.country_code,
       co.name AS country, ct.name AS continent, k.n,
       k.n / sum(k.n) OVER (PARTITION BY k.dataset, k.language, k.method) AS share
FROM counts k
LEFT JOIN countries co ON co.iso2 = k.country_code
LEFT JOIN continents ct ON ct.code = co.continent_code;
