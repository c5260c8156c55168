-- gdp_correlation: per dataset, entity and method, does a country's share of located captions
-- follow its GDP? Over the countries with captions and a GDP figure (gdp_used): n_countries,
-- pearson = Pearson r of log10(share) vs log10(GDP), spearman = rank correlation (average
-- ranks for ties). NULL when fewer than two countries or no variation.
CREATE OR REPLACE VIEW gdp_correlation AS
WITH xy AS (
    SELECT k.dataset, k.entity, k.method, log10(k.share) AS x, log10(g.gdp_usd) AS y
    FROM country_counts k
    JOIN gdp_used g ON g.country_code = k.country_code
), ranked AS (
    SELECT *,
           rank() OVER (PARTITION BY dataset, entity, method ORDER BY x)
             + (count(*) OVER (PARTITION BY dataset, entity, method, x) - 1) / 2.0 AS rx,
           rank() OVER (PARTITION BY dataset, entity, method ORDER BY y)
             + (count(*) OVER (PARTITION BY dataset, entity, method, y) - 1) / 2.0 AS ry
    FROM xy
)
SELECT dataset, entity, method, count(*) AS n_countries,
       nullif(corr(x, y), 'nan'::DOUBLE) AS pearson,
       nullif(corr(rx, ry), 'nan'::DOUBLE) AS spearman
FROM ranked
GROUP BY dataset, entity, method;
