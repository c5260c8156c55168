-- topic_country_similarity: how well does a (high-resource) dataset represent a (topic,
-- country) of another (low-resource) dataset? Cosine between the low-resource centroid of the
-- (topic, country) and the high-resource centroid of the same topic, all its images pooled
-- (pooled = true, high_country_code NULL; unlocated images included) and per high-resource
-- country (pooled = false). Every ordered pair of distinct datasets appears: filter
-- low_dataset / high_dataset (e.g. 'dollarstreet' against 'laion').
-- grain: one row per (model_key, low_dataset, high_dataset, topic, country_code, high_country_code)
CREATE OR REPLACE VIEW topic_country_similarity AS
WITH cents AS MATERIALIZED (  -- computed once per query (filters on topic still push down)
    SELECT * FROM topic_country_centroids
),
low AS (
    SELECT * FROM cents WHERE country_code IS NOT NULL
),
pooled_dims AS (
    SELECT model_key, dataset, topic, i, sum(n * v) AS s, sum(n) AS n
    FROM (SELECT model_key, dataset, topic, n, unnest(centroid) AS v,
                 unnest(range(len(centroid))) AS i
          FROM cents)
    GROUP BY ALL
),
pooled AS (
    SELECT model_key, dataset, topic, max(n) AS n, list((s / n)::FLOAT ORDER BY i) AS centroid
    FROM pooled_dims GROUP BY ALL
),
high AS (
    SELECT model_key, dataset, topic, NULL::VARCHAR AS country_code, n, centroid, true AS pooled
    FROM pooled
    UNION ALL
    SELECT model_key, dataset, topic, country_code, n, centroid, false AS pooled
    FROM low
)
SELECT l.model_key, l.topic, l.country_code, l.dataset AS low_dataset, h.dataset AS high_dataset,
       h.pooled, h.country_code AS high_country_code, l.n AS n_low, h.n AS n_high,
       list_cosine_similarity(l.centroid, h.centroid) AS cosine
FROM low l
JOIN high h ON h.model_key = l.model_key AND h.topic = l.topic AND h.dataset <> l.dataset;
