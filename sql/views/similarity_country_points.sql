-- similarity_country_points: one point per country for distances between countries
-- (country_pair_similarity). `countries` has no coordinates, so: the country's own GeoNames
-- point when loaded (places row of countries.geonameid with lat/lon, from a full GeoNames
-- dump), else the population-weighted centre of its populated places (feature class P; the
-- mean of unit vectors on the sphere, so countries across the antimeridian come out right),
-- else the mean of its first-level divisions' coordinates (admin1). `source` says which.
-- grain: one row per (country_code)
CREATE OR REPLACE VIEW similarity_country_points AS
WITH own AS (
    SELECT c.iso2 AS country_code, p.lat, p.lon, 'geonames_country' AS source, 1 AS pref
    FROM countries c JOIN places p ON p.geonameid = c.geonameid
    WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL
),
vec AS (
    SELECT country_code, 'populated_places' AS source, 2 AS pref,
           sum(w * cos(radians(lat)) * cos(radians(lon))) AS x,
           sum(w * cos(radians(lat)) * sin(radians(lon))) AS y,
           sum(w * sin(radians(lat))) AS z
    FROM (SELECT country_code, lat, lon, greatest(coalesce(population, 0), 1) AS w
          FROM places
          WHERE feature_class = 'P' AND country_code IS NOT NULL
            AND lat IS NOT NULL AND lon IS NOT NULL)
    GROUP BY country_code
    UNION ALL
    SELECT country_code, 'admin1' AS source, 3 AS pref,
           sum(cos(radians(lat)) * cos(radians(lon))), sum(cos(radians(lat)) * sin(radians(lon))),
           sum(sin(radians(lat)))
    FROM admin1 WHERE lat IS NOT NULL AND lon IS NOT NULL
    GROUP BY country_code
),
derived AS (
    SELECT country_code, degrees(atan2(z, sqrt(x * x + y * y))) AS lat, degrees(atan2(y, x)) AS lon,
           source, pref
    FROM vec WHERE x * x + y * y + z * z > 0
)
SELECT country_code, lat, lon, source
FROM (SELECT * FROM own UNION ALL SELECT * FROM derived)
QUALIFY row_number() OVER (PARTITION BY country_code ORDER BY pref) = 1;
