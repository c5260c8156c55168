-- similarity_images: the images the similarity views compare — every image embedding with its
-- topic (caption_entities.entity), dataset (captions.dataset) and country: the prediction of
-- the first method in similarity_methods() (default ['label', 'offline']) that gives one,
-- read through current_geo_predictions; NULL when no such method located the image.
-- An image tagged with two topics appears once per topic.
-- grain: one row per (model_key, caption_id, topic)
CREATE OR REPLACE VIEW similarity_images AS
WITH methods AS (
    SELECT m.method, m.priority
    FROM (SELECT unnest(similarity_methods()) AS method,
                 unnest(range(1, len(similarity_methods()) + 1)) AS priority) m
),
located AS (
    SELECT g.caption_id, g.country_code, g.method
    FROM current_geo_predictions g
    JOIN methods m ON m.method = g.method
    WHERE g.country_code IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY g.caption_id ORDER BY m.priority, g.config_key DESC NULLS LAST) = 1
)
SELECT e.model_key, e.item_id AS caption_id, t.entity AS topic, c.dataset, l.country_code,
       l.method, e.embedding
FROM embeddings e
JOIN captions c ON c.caption_id = e.item_id
JOIN caption_entities t ON t.caption_id = e.item_id
LEFT JOIN located l ON l.caption_id = e.item_id
WHERE e.kind = 'image';
