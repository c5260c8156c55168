-- population_correlation: per dataset, entity and method, does a country's share of located
-- captions follow its population (countries.population)? n_countries, Pearson r of log10(share)
-- vs log10(population), Spearman with average ranks for ties; NULL when undefined.
CREATE OR REPLACE VIEW population_correlation AS
WITH xy AS (
    SELECT k.dataset, k.entity, k.method, log10(k.share) AS x, log10(c.population) AS y
    FROM country_counts k
    JOIN countries c ON c.iso2 = k.country_code
    WHERE c.population > 0
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
