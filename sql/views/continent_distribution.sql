-- continent_distribution: per dataset, entity, caption language and method, how many located
-- captions point to each continent (n) and its share of the group's located captions.
-- Same groups as country_distribution; countries missing from `countries` give continent NULL.
-- grain: one row per (dataset, entity, language, method, continent_code)
CREATE OR REPLACE VIEW continent_distribution AS
WITH counts AS (
    SELECT d.dataset, d.entity, d.language, d.method, co.continent_code, d.continent,
           sum(d.n) AS n
    FROM country_distribution d
    LEFT JOIN countries co ON co.iso2 = d.country_code
    GROUP BY ALL
)
SELECT dataset, entity, language, method, continent_code, continent, n,
       n / sum(n) OVER (PARTITION BY dataset, entity, language, method) AS share
FROM counts;
