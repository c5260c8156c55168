-- topic_country_centroids: the mean image embedding (centroid, not re-normalised; cosines do
-- not care) of each (topic, country) in each dataset, for one embedding model at a time.
-- country_code NULL gathers the images of the topic no method located: they count in the
-- pooled comparisons of topic_country_similarity, not in per-country ones. n = images.
-- grain: one row per (model_key, dataset, topic, country_code)
CREATE OR REPLACE VIEW topic_country_centroids AS
WITH flat AS (
    SELECT model_key, dataset, topic, country_code,
           unnest(range(len(embedding))) AS i, unnest(embedding) AS x
    FROM similarity_images
),
dims AS (
    SELECT model_key, dataset, topic, country_code, i, count(*) AS n, avg(x) AS v
    FROM flat
    GROUP BY ALL
)
SELECT model_key, dataset, topic, country_code, max(n) AS n,
       list(v::FLOAT ORDER BY i) AS centroid
FROM dims
GROUP BY ALL;
