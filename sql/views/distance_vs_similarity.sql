-- distance_vs_similarity: does geographic distance predict visual similarity? Per topic and
-- dataset pair, the Spearman rank correlation between distance_km and cosine over the pairs
-- of different countries of country_pair_similarity (within one dataset each unordered pair
-- once). Negative = nearer countries look more alike; near 0 = distance says nothing.
-- Ranks are average ranks (ties share them); NULL below 3 pairs or when a side is constant.
-- grain: one row per (model_key, topic, dataset_a, dataset_b)
CREATE OR REPLACE VIEW distance_vs_similarity AS
WITH p AS (
    SELECT model_key, topic, dataset_a, dataset_b, distance_km, cosine
    FROM country_pair_similarity
    WHERE country_a <> country_b AND distance_km IS NOT NULL AND cosine IS NOT NULL
      AND (dataset_a <> dataset_b OR country_a < country_b)
),
ranked AS (
    SELECT *,
           rank() OVER (PARTITION BY model_key, topic, dataset_a, dataset_b ORDER BY distance_km)
             + (count(*) OVER (PARTITION BY model_key, topic, dataset_a, dataset_b, distance_km)
                - 1) / 2.0 AS r_dist,
           rank() OVER (PARTITION BY model_key, topic, dataset_a, dataset_b ORDER BY cosine)
             + (count(*) OVER (PARTITION BY model_key, topic, dataset_a, dataset_b, cosine)
                - 1) / 2.0 AS r_cos
    FROM p
)
SELECT model_key, topic, dataset_a, dataset_b, count(*) AS n_pairs,
       CASE WHEN count(*) >= 3 THEN corr(r_dist, r_cos) END AS spearman,
       CASE WHEN count(*) >= 3 THEN corr(distance_km, cosine) END AS pearson
FROM ranked
GROUP BY ALL;
