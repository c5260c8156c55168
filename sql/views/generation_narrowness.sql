-- generation_narrowness: for which countries do generated images cover least of what real
-- images show? Per (entity, embedding model, generated dataset), the countries the `coverage`
-- stage scored (status ok; config in use: `stage_current`) ranked from the narrowest:
-- coverage (share of real images whose k-NN ball holds a generated image; low = narrow), then
-- vendi_ratio = vendi_generated / vendi_real (below 1: less diverse than reality, NULL when a
-- side has fewer than k items). precision (share of generations that look like real images)
-- and density come along. narrowness_rank 1 = the narrowest country.
-- grain: one row per (entity, model_key, generated_dataset, country_code)
CREATE OR REPLACE VIEW generation_narrowness AS
SELECT entity, model_key, generated_dataset, country_code,
    country_name(country_code) AS country,
    rank() OVER (
        PARTITION BY entity, model_key, generated_dataset
        ORDER BY coverage, vendi_generated / vendi_real NULLS LAST, country_code
    ) AS narrowness_rank,
    coverage,
    vendi_generated / vendi_real AS vendi_ratio,
    vendi_real, vendi_generated, "precision", recall, density,
    n_real, n_generated, nearest_k, k
FROM generation_coverage
WHERE status = 'ok'
  AND config_key IN (SELECT config_key FROM stage_current WHERE stage = 'coverage');
