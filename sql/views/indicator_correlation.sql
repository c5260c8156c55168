-- indicator_correlation: per dataset, entity, method and indicator ('gdp' from gdp_used,
-- 'population' from countries), does a country's share of located captions follow the
-- indicator? n_countries, pearson = Pearson r of log10(share) vs log10(indicator), spearman =
-- rank correlation with average ranks for ties. NULL when fewer than two countries or no variation.
-- grain: one row per (dataset, entity, method, indicator)
CREATE OR REPLACE VIEW indicator_correlation AS
WITH indicators AS (
    SELECT country_code, 'gdp' AS indicator, gdp_usd AS value FROM gdp_used
    UNION ALL
    SELECT iso2, 'population', population FROM countries WHERE population > 0
), xy AS (
    SELECT k.dataset, k.entity, k.method, i.indicator, log10(k.share) AS x, log10(i.value) AS y
    FROM country_counts k
    JOIN indicators i ON i.country_code = k.country_code
), ranked AS (
    SELECT *,
           rank() OVER (PARTITION BY dataset, entity, method, indicator ORDER BY x)
             + (count(*) OVER (PARTITION BY dataset, entity, method, indicator, x) - 1) / 2.0 AS rx,
           rank() OVER (PARTITION BY dataset, entity, method, indicator ORDER BY y)
             + (count(*) OVER (PARTITION BY dataset, entity, method, indicator, y) - 1) / 2.0 AS ry
    FROM xy
)
SELECT dataset, entity, method, indicator, count(*) AS n_countries,
       nullif(corr(x, y), 'nan'::DOUBLE) AS pearson,
       nullif(corr(rx, ry), 'nan'::DOUBLE) AS spearman
FROM ranked
GROUP BY dataset, entity, method, indicator;
