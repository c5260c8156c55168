-- gdp_used: the GDP figure per country (ISO2) that gdp_correlation uses: the source and year set
-- in settings ('gdp_source', 'gdp_year'; `geosql refdata use-gdp`), else the loaded source with
-- the latest year. Without 'gdp_year' the source's latest year is taken.
-- grain: one row per (country_code)
CREATE OR REPLACE VIEW gdp_used AS
WITH src AS (
    SELECT coalesce((SELECT value FROM settings WHERE key = 'gdp_source'),
                    (SELECT source FROM gdp WHERE gdp_usd > 0
                     ORDER BY year DESC, source LIMIT 1)) AS source
), pick AS (
    SELECT s.source,
           coalesce((SELECT TRY_CAST(value AS INTEGER) FROM settings WHERE key = 'gdp_year'),
                    (SELECT max(g.year) FROM gdp g WHERE g.source = s.source AND g.gdp_usd > 0))
               AS year
    FROM src s
)
SELECT c.iso2 AS country_code, g.iso3, g.year, g.gdp_usd, g.source
FROM gdp g
JOIN pick p ON g.source = p.source AND g.year = p.year
JOIN countries c ON c.iso3 = g.iso3
WHERE g.gdp_usd > 0;
