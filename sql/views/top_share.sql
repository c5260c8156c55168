-- top_share: per dataset, entity and method, the share of located captions that point to the
-- k most frequent countries (k = 3 here; any k: SELECT * FROM top_share_k(5)), with those
-- countries in rank order (ties broken by country code).
-- grain: one row per (dataset, entity, method)
CREATE OR REPLACE MACRO top_share_k(k) AS TABLE
SELECT r.dataset, r.entity, r.method, k AS k,
       list(r.country_code ORDER BY r.country_rank) FILTER (WHERE r.country_rank <= k)
           AS top_countries,
       list(co.name ORDER BY r.country_rank) FILTER (WHERE r.country_rank <= k) AS top_names,
       sum(r.n) FILTER (WHERE r.country_rank <= k) AS n_top,
       sum(r.n) AS n_located,
       sum(r.n) FILTER (WHERE r.country_rank <= k) / sum(r.n) AS top_share
FROM country_counts r
LEFT JOIN countries co ON co.iso2 = r.country_code
GROUP BY r.dataset, r.entity, r.method;

CREATE OR REPLACE VIEW top_share AS
SELECT * FROM top_share_k(3);
