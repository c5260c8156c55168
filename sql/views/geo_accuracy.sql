-- geo_accuracy: how close are each method's image geolocations to the truth of a geotagged
-- dataset (geo_images)? Share of predictions (in %) within 1, 25, 200, 750 and 2,500 km, median
-- and mean error km, country accuracy (over images whose truth has a country; a prediction
-- without a country counts as wrong), and the published figures for that dataset and method
-- (geo_published, e.g. G3 and GeoCLIP on IM2GPS3K) to set beside them. Images the method
-- could not locate (no prediction) are left out of n; coverage = n / images of the dataset.
-- grain: one row per (dataset, method)
CREATE OR REPLACE VIEW geo_accuracy AS
WITH scored AS (
    SELECT g.dataset, p.method,
           haversine_km(g.lat, g.lon, p.lat, p.lon) AS km,
           g.country_code AS true_country, p.country_code AS predicted_country
    FROM current_image_geo_predictions p
    JOIN geo_images g ON g.image_id = p.image_id
    WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL
)
SELECT s.dataset, s.method,
       count(*) AS n,
       count(*) / any_value(t.n_images) AS coverage,
       100.0 * avg((km <= 1)::INT) AS pct_1km,
       100.0 * avg((km <= 25)::INT) AS pct_25km,
       100.0 * avg((km <= 200)::INT) AS pct_200km,
       100.0 * avg((km <= 750)::INT) AS pct_750km,
       100.0 * avg((km <= 2500)::INT) AS pct_2500km,
       median(km) AS median_km,
       avg(km) AS mean_km,
       count(*) FILTER (WHERE true_country IS NOT NULL) AS n_country,
       avg((predicted_country IS NOT DISTINCT FROM true_country)::INT)
           FILTER (WHERE true_country IS NOT NULL) AS country_accuracy,
       any_value(pub.km_1) AS published_1km,
       any_value(pub.km_25) AS published_25km,
       any_value(pub.km_200) AS published_200km,
       any_value(pub.km_750) AS published_750km,
       any_value(pub.km_2500) AS published_2500km
FROM scored s
JOIN (SELECT dataset, count(*) AS n_images FROM geo_images GROUP BY dataset) t
  ON t.dataset = s.dataset
LEFT JOIN geo_published pub ON pub.dataset = lower(s.dataset) AND pub.method = s.method
GROUP BY s.dataset, s.method;
