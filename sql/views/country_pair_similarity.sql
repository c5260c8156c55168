-- country_pair_similarity: are the images of a topic from two countries alike, and how far
-- apart are the countries? Cosine between the two (topic, country) centroids and the
-- great-circle distance between the countries' points (similarity_country_points,
-- haversine_km; NULL when a point is unknown). Pairs within one dataset (dataset_a =
-- dataset_b: both orders, no self pair) and across datasets (every country pair, including
-- the same country in both).
-- grain: one row per (model_key, topic, dataset_a, country_a, dataset_b, country_b)
CREATE OR REPLACE VIEW country_pair_similarity AS
WITH c AS MATERIALIZED (  -- computed once per query (filters on topic still push down)
    SELECT * FROM topic_country_centroids WHERE country_code IS NOT NULL
)
SELECT a.model_key, a.topic, a.dataset AS dataset_a, a.country_code AS country_a,
       b.dataset AS dataset_b, b.country_code AS country_b, a.n AS n_a, b.n AS n_b,
       list_cosine_similarity(a.centroid, b.centroid) AS cosine,
       haversine_km(pa.lat, pa.lon, pb.lat, pb.lon) AS distance_km
FROM c a
JOIN c b ON b.model_key = a.model_key AND b.topic = a.topic
        AND (a.dataset <> b.dataset OR a.country_code <> b.country_code)
LEFT JOIN similarity_country_points pa ON pa.country_code = a.country_code
LEFT JOIN similarity_country_points pb ON pb.country_code = b.country_code;
