-- Vision: CLIP embeddings, entity-presence classifiers, zero-shot relabelling, image GPS, subsets.

-- One vector per (item, kind, model_key). item_id is the caption_id for image and caption-text
-- vectors. model_key is '<open_clip model>/<pretrained tag or path>' as configured
-- (e.g. 'ViT-B-32/openai'). Vectors are L2-normalised float32; the column is a list so one table
-- holds every model's dimension: cast for the ARRAY functions, e.g.
-- array_cosine_similarity(a.embedding::FLOAT[512], b.embedding::FLOAT[512]),
-- or use list_cosine_similarity(a.embedding, b.embedding) directly.
CREATE TABLE IF NOT EXISTS embeddings (
    item_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,             -- image | text
    model_key VARCHAR NOT NULL,
    dim INTEGER NOT NULL,
    embedding FLOAT[] NOT NULL,
    norm FLOAT,                        -- length before normalising: embedding * norm = raw features
    config_key VARCHAR,
    PRIMARY KEY (item_id, kind, model_key)
);

-- Entity-presence classifiers (trained here or imported); files live in <warehouse>.models/svm/.
CREATE TABLE IF NOT EXISTS svm_models (
    model_id VARCHAR PRIMARY KEY,      -- '<entity>:<name>', e.g. 'house:seed'
    entity VARCHAR NOT NULL,
    embedding_model_key VARCHAR NOT NULL,
    kernel VARCHAR,
    n_features INTEGER,
    features VARCHAR NOT NULL,         -- unit (L2-normalised embeddings) | raw (embedding * norm)
    n_train INTEGER,                   -- NULL for imported models
    n_positive INTEGER,
    cv_folds INTEGER,
    cv_accuracy DOUBLE,
    cv_precision DOUBLE,
    cv_recall DOUBLE,
    cv_f1 DOUBLE,
    file VARCHAR NOT NULL,             -- parameter file (.npz, loaded without pickle)
    source VARCHAR,                    -- 'trained:<labels file>' or 'imported:<joblib file>'
    created TIMESTAMP NOT NULL
);

-- Does the caption's image show its entity? One row per (caption, classifier).
CREATE TABLE IF NOT EXISTS entity_presence (
    caption_id VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    model VARCHAR NOT NULL,            -- svm_models.model_id
    present BOOLEAN NOT NULL,
    score DOUBLE,                      -- SVM decision value; present = score > threshold
    config_key VARCHAR,
    PRIMARY KEY (caption_id, model)
);

-- Where an image was taken: GPS from the source metadata (YFCC, EXIF...), loaded with
-- `geosql images locations FILE`. country_code is given by the source or filled by
-- `geosql images geocode` (nearest GeoNames place within the grid search).
CREATE TABLE IF NOT EXISTS image_locations (
    caption_id VARCHAR PRIMARY KEY,
    lat DOUBLE,
    lon DOUBLE,
    country_code VARCHAR,
    country_source VARCHAR,            -- given | nearest_place
    geonameid BIGINT,                  -- the nearest place, when reverse geocoded
    distance_km DOUBLE
);

-- Zero-shot label vocabulary for `clip-relabel` (CLIP-GeoYFCC style).
CREATE TABLE IF NOT EXISTS labels (
    label_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    prompt VARCHAR NOT NULL            -- text embedded by CLIP, e.g. 'a photo of a bridge.'
);

-- Best-matching labels per image (rank 1 = best): cosine similarity of the image vector and the
-- label's prompt vector. One labelling per (image, model_key); `vocab` fingerprints the label
-- table used, so changing the vocabulary makes every image pending again.
CREATE TABLE IF NOT EXISTS clip_labels (
    caption_id VARCHAR NOT NULL,
    model_key VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    label_id VARCHAR NOT NULL,
    similarity DOUBLE NOT NULL,
    vocab VARCHAR NOT NULL,
    config_key VARCHAR,
    PRIMARY KEY (caption_id, model_key, rank)
);

-- haversine_km(lat1, lon1, lat2, lon2) is defined with the other macros in 015_macros.sql.

-- The relabelled images with their domain (continent of the image's country), rank-1 label only.
-- key: the embedding model_key the labels came from (NULL when a single model was used).
CREATE OR REPLACE MACRO relabelled_images(key) AS TABLE
    SELECT l.caption_id, l.label_id, l.similarity, g.country_code, c.continent_code AS domain
    FROM clip_labels l
    JOIN image_locations g USING (caption_id)
    JOIN countries c ON c.iso2 = g.country_code
    WHERE l.rank = 1 AND (key IS NULL OR l.model_key = key)
      AND c.continent_code IS NOT NULL;

-- Balanced subset (CLIP-GeoYFCC recipe), each step on the result of the previous one:
--   1. keep the top_n images by similarity of their best label (ties: caption_id);
--   2. drop domains whose share of those is below min_domain_share;
--   3. keep classes with at least min_class images: in every kept domain when
--      per_domain_min is true, else in total over the kept domains;
--   4. cap each class at cap images, chosen by md5(seed || ':' || caption_id) (reproducible).
CREATE OR REPLACE MACRO balanced_subset(key, top_n, min_domain_share, min_class, cap, seed,
                                        per_domain_min) AS TABLE
    WITH top AS (
        SELECT * FROM relabelled_images(key)
        ORDER BY similarity DESC, caption_id
        LIMIT top_n
    ),
    kept_domains AS (
        SELECT domain FROM top GROUP BY domain
        HAVING count(*) >= min_domain_share * (SELECT count(*) FROM top)
    ),
    in_domains AS (
        SELECT * FROM top WHERE domain IN (SELECT domain FROM kept_domains)
    ),
    class_domain AS (
        SELECT label_id, domain, count(*) AS n FROM in_domains GROUP BY label_id, domain
    ),
    kept_classes AS (
        SELECT label_id FROM class_domain GROUP BY label_id
        HAVING CASE WHEN per_domain_min
                    THEN count(*) = (SELECT count(*) FROM kept_domains) AND min(n) >= min_class
                    ELSE sum(n) >= min_class END
    ),
    ranked AS (
        SELECT *, row_number() OVER (
            PARTITION BY label_id ORDER BY md5(CAST(seed AS VARCHAR) || ':' || caption_id)
        ) AS draw
        FROM in_domains WHERE label_id IN (SELECT label_id FROM kept_classes)
    )
    SELECT caption_id, label_id, similarity, country_code, domain
    FROM ranked WHERE draw <= cap;
