-- country_counts: per dataset, entity and method (caption languages pooled), located captions per
-- country (n), its share, and its rank (1 = most captions; ties broken by country code).
-- The base of top_share and the correlation views; entity NULL = captions with no entity.
-- grain: one row per (dataset, entity, method, country_code)
CREATE OR REPLACE VIEW country_counts AS
WITH pooled AS (
    SELECT dataset, entity, method, country_code, sum(n) AS n
    FROM country_distribution
    GROUP BY ALL
)
SELECT dataset, entity, method, country_code, n,
       n / sum(n) OVER (PARTITION BY dataset, entity, method) AS share,
       row_number() OVER (PARTITION BY dataset, entity, method
                          ORDER BY n DESC, country_code) AS country_rank
FROM pooled;
