-- caption_image_agreement: per dataset, caption method and image source (see
-- caption_image_country), how often do caption and image name the same country? agreement over
-- all pairs (both no place counts as agreeing), located_agreement over pairs where both have a
-- country, and how many captions name a country the image does not support.
-- grain: one row per (dataset, caption_method, image_source)
CREATE OR REPLACE VIEW caption_image_agreement AS
SELECT dataset, caption_method, image_source,
       sum(n) AS n,
       sum(n) FILTER (WHERE agree) / sum(n) AS agreement,
       sum(n) FILTER (WHERE caption_country IS NOT NULL AND image_country IS NOT NULL)
           AS n_both_located,
       sum(n) FILTER (WHERE agree AND caption_country IS NOT NULL)
           / nullif(sum(n) FILTER (WHERE caption_country IS NOT NULL
                                    AND image_country IS NOT NULL), 0) AS located_agreement,
       sum(n) FILTER (WHERE caption_country IS NOT NULL AND image_country IS NOT NULL
                      AND NOT agree) AS n_disagree
FROM caption_image_country
GROUP BY 1, 2, 3;
