-- representation_vs_diversity: are the countries a dataset shows most also the ones it shows in
-- the most varied way? Per (dataset, entity, modality, embedding model, method), over the
-- countries the `diversity` stage scored (config in use: `stage_current`): spearman = rank
-- correlation (average ranks for ties) between a country's share of the group's items and its
-- Vendi score at the fixed sample size k; n_countries scored, n_insufficient (fewer than k
-- items, not scored, still counted in the shares), n_items. NULL with fewer than 3 countries.
-- grain: one row per (dataset, entity, modality, model_key, method)
CREATE OR REPLACE VIEW representation_vs_diversity AS
WITH cur AS (
    SELECT d.*, d.n / sum(d.n) OVER g AS share
    FROM diversity_scores d
    WHERE d.config_key IN (SELECT config_key FROM stage_current WHERE stage = 'diversity')
    WINDOW g AS (PARTITION BY d.dataset, d.entity, d.modality, d.model_key, d.method)
),
ranked AS (
    SELECT *,
        rank() OVER (g ORDER BY share)
            + (count(*) OVER (PARTITION BY dataset, entity, modality, model_key, method, share)
               - 1) / 2.0 AS r_share,
        rank() OVER (g ORDER BY vendi)
            + (count(*) OVER (PARTITION BY dataset, entity, modality, model_key, method, vendi)
               - 1) / 2.0 AS r_vendi
    FROM cur
    WHERE status = 'ok'
    WINDOW g AS (PARTITION BY dataset, entity, modality, model_key, method)
),
corr AS (
    SELECT dataset, entity, modality, model_key, method,
        CASE WHEN count(*) >= 3 THEN corr(r_share, r_vendi) END AS spearman
    FROM ranked
    GROUP BY ALL
)
SELECT c.dataset, c.entity, c.modality, c.model_key, c.method, any_value(c.k) AS k,
    count(*) FILTER (WHERE c.status = 'ok') AS n_countries,
    count(*) FILTER (WHERE c.status = 'insufficient') AS n_insufficient,
    sum(c.n) AS n_items,
    any_value(r.spearman) AS spearman
FROM cur c
LEFT JOIN corr r USING (dataset, entity, modality, model_key, method)
GROUP BY c.dataset, c.entity, c.modality, c.model_key, c.method;
