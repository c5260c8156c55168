-- caption_image_country: does the country a caption names agree with where its image was
-- taken? Confusion counts of caption-based countries (current_geo_predictions, per method)
-- against image-based ones: 'gps' (geo_images rows whose image_id is the caption_id: EXIF or
-- source metadata; else image_locations) and 'image:<method>' (current_image_geo_predictions).
-- NULL country = no place. share = n / all captions of the (dataset, caption_method, image_source) group.
-- grain: one row per (dataset, caption_method, image_source, caption_country, image_country)
CREATE OR REPLACE VIEW caption_image_country AS
WITH image_side AS (
    SELECT image_id, 'gps' AS image_source, arg_min(country_code, pref) AS country_code
    FROM (
        SELECT image_id, country_code, 0 AS pref FROM geo_images
        UNION ALL
        SELECT caption_id, country_code, 1 FROM image_locations
    ) GROUP BY image_id
    UNION ALL
    SELECT image_id, 'image:' || method, country_code FROM current_image_geo_predictions
),
pairs AS (
    SELECT c.dataset, p.method AS caption_method, i.image_source,
           p.country_code AS caption_country, i.country_code AS image_country
    FROM current_geo_predictions p
    JOIN captions c ON c.caption_id = p.caption_id
    JOIN image_side i ON i.image_id = p.caption_id
)
SELECT dataset, caption_method, image_source, caption_country, image_country,
       caption_country IS NOT DISTINCT FROM image_country AS agree,
       count(*) AS n,
       count(*) / sum(count(*)) OVER (PARTITION BY dataset, caption_method, image_source)
           AS share
FROM pairs
GROUP BY 1, 2, 3, 4, 5;
