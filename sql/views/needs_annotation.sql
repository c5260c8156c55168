-- needs_annotation: (a table macro, a view with parameters) which (topic, country) pairs should
-- the annotation budget go to? Pairs poorly represented in a high-resource dataset: the best
-- cosine of the pair's centroid in the low-resource dataset to any high-resource centroid of
-- the topic (the pooled one or any country's) is below `threshold`, or the high-resource
-- dataset has no image of the topic at all (best_similarity NULL). Every ordered (low, high) dataset pair is listed:
-- filter on low_dataset / high_dataset. est_cost_usd = n_images * price_per_image, the cost of
-- collecting n_images new images. supplement_countries: the 3 other countries whose
-- high-resource images of the topic are most similar to the pair (could stand in for it), with
-- their cosines in supplement_similarities. Most poorly represented first.
-- only_topic: compute one topic only (a WHERE on the result does not reach inside the macro).
-- Example: SELECT * FROM needs_annotation(threshold := 0.8, price_per_image := 1.0, n_images := 100)
--          WHERE low_dataset = 'dollarstreet' AND high_dataset = 'laion';
-- grain: one row per (model_key, low_dataset, high_dataset, topic, country_code)
CREATE OR REPLACE MACRO needs_annotation(threshold := 0.8, price_per_image := 1.0,
                                         n_images := 100, only_topic := NULL) AS TABLE
    WITH groups AS (  -- the groups of topic_country_centroids, without embeddings (cheap)
        SELECT model_key, dataset, topic, country_code, count(*) AS n
        FROM similarity_images
        WHERE only_topic IS NULL OR topic = only_topic
        GROUP BY ALL
    ),
    low AS (
        SELECT model_key, dataset AS low_dataset, topic, country_code, n AS n_have
        FROM groups WHERE country_code IS NOT NULL
    ),
    pairs AS (
        SELECT l.*, d.dataset AS high_dataset
        FROM low l
        JOIN (SELECT DISTINCT model_key, dataset FROM similarity_images) d
          ON d.model_key = l.model_key AND d.dataset <> l.low_dataset
    ),
    tcs AS MATERIALIZED (
        SELECT * FROM topic_country_similarity
        WHERE only_topic IS NULL OR topic = only_topic
    ),
    best AS (
        SELECT model_key, low_dataset, high_dataset, topic, country_code,
               max(cosine) AS best_similarity
        FROM tcs
        GROUP BY ALL
    ),
    supplement AS (
        SELECT model_key, low_dataset, high_dataset, topic, country_code,
               list(high_country_code ORDER BY cosine DESC, high_country_code)[1:3]
                   AS supplement_countries,
               list(cosine ORDER BY cosine DESC, high_country_code)[1:3]
                   AS supplement_similarities
        FROM tcs
        WHERE NOT pooled AND high_country_code <> country_code
        GROUP BY ALL
    )
    SELECT p.model_key, p.topic, p.country_code, p.low_dataset, p.high_dataset,
           b.best_similarity, p.n_have,
           n_images AS n_images, (n_images * price_per_image)::DOUBLE AS est_cost_usd,
           coalesce(s.supplement_countries, []) AS supplement_countries,
           coalesce(s.supplement_similarities, []) AS supplement_similarities
    FROM pairs p
    LEFT JOIN best b USING (model_key, low_dataset, high_dataset, topic, country_code)
    LEFT JOIN supplement s USING (model_key, low_dataset, high_dataset, topic, country_code)
    WHERE b.best_similarity IS NULL OR b.best_similarity < threshold
    ORDER BY b.best_similarity ASC NULLS FIRST, p.topic, p.country_code, p.low_dataset,
             p.high_dataset, p.model_key;
