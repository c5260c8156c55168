-- Image geolocation: geotagged reference/eval images, predictions per method, their candidates.

-- Geotagged images: reference databases (MP16-Pro, YFCC100M), evaluation sets (IM2GPS3K, YFCC4K,
-- YFCC25600), plain id,lat,lon files (`geosql ingest-geo`) and EXIF GPS of a dataset's own photos
-- (`geosql images exif`, image_id = caption_id). image_id is the id embeddings use
-- (`embeddings.item_id`); one image may belong to several datasets. Unique per (dataset, image_id)
-- by construction: the loaders replace a dataset's rows in one transaction and reject duplicates.
CREATE TABLE IF NOT EXISTS geo_images (
    image_id VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    country_code VARCHAR,              -- ISO2: given by the source, else the nearest place's
    admin1_code VARCHAR,
    country_source VARCHAR,            -- given | nearest_place | NULL (no place within max km)
    geonameid BIGINT,                  -- nearest GeoNames place (reverse geocoded)
    place_km DOUBLE,                   -- distance to it
    image_path VARCHAR,
    source VARCHAR,                    -- the file it came from, or 'exif'
    source_line BIGINT                 -- line in that file (header = line 1)
);

-- One prediction per (image, method, config): the stage `image-geolocate` writes it.
-- score: retrieval = similarity (top-1) / summed neighbour weight share (mean, cluster);
-- geoclip = probability of the chosen GPS gallery point; g3 = verification score.
CREATE TABLE IF NOT EXISTS image_geo_predictions (
    image_id VARCHAR NOT NULL,
    method VARCHAR NOT NULL,           -- retrieval | geoclip | g3
    lat DOUBLE,
    lon DOUBLE,
    country_code VARCHAR,              -- of the nearest GeoNames place within max_place_km
    admin1_code VARCHAR,
    score DOUBLE,
    detail VARCHAR,                    -- which aggregate / candidate won
    config_key VARCHAR
);

-- The evidence behind each prediction (keep_candidates per image): retrieval neighbours
-- (ref_id = reference image, score = similarity), GeoCLIP top-k gallery points (probability),
-- g3 candidates (the LLM's, the retrieval prediction, the top neighbour) with their
-- verification score.
CREATE TABLE IF NOT EXISTS image_geo_candidates (
    image_id VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    kind VARCHAR NOT NULL,             -- neighbour | gallery | llm | retrieval
    ref_id VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    score DOUBLE,
    config_key VARCHAR
);

-- Published accuracies to set beside a run (share within 1/25/200/750/2500 km, in %).
CREATE TABLE IF NOT EXISTS geo_published (
    dataset VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    km_1 DOUBLE,
    km_25 DOUBLE,
    km_200 DOUBLE,
    km_750 DOUBLE,
    km_2500 DOUBLE,
    source VARCHAR,
    PRIMARY KEY (dataset, method)
);

INSERT OR REPLACE INTO geo_published VALUES
    ('im2gps3k', 'g3', 16.65, 40.94, 55.56, 71.24, 84.68, 'Jia et al., G3, NeurIPS 2024, Table 1'),
    ('im2gps3k', 'geoclip', 14.11, 34.47, 50.65, 69.67, 83.82,
     'Vivanco Cepeda et al., GeoCLIP, NeurIPS 2023, Table 1');
