-- Cross-country visual similarity (issue 17): which methods give an image its country.
-- The views are in sql/views/ (similarity_images, similarity_country_points,
-- topic_country_centroids, topic_country_similarity, country_pair_similarity,
-- distance_vs_similarity), and so is the table macro needs_annotation(threshold,
-- price_per_image, n_images) (sql/views/needs_annotation.sql): DuckDB binds a table macro's
-- body when it is created, so a macro over views must come after them; docs/similarity.md.

-- Methods whose geo_predictions give an image its country, in priority order: the first
-- method with a country wins. Session override: SET VARIABLE similarity_methods = ['label'];
-- stored default: INSERT OR REPLACE INTO settings VALUES ('similarity_methods', 'label,gemini');
-- else ['label', 'offline'] (the dataset's given country, then the offline geoparser).
CREATE OR REPLACE MACRO similarity_methods() AS coalesce(
    getvariable('similarity_methods'),
    (SELECT list_filter(list_transform(string_split(value, ','), lambda m: trim(m)),
                        lambda m: m <> '')
     FROM settings WHERE key = 'similarity_methods'),
    ['label', 'offline']);
