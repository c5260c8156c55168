-- Captions ingested from CSV/TSV/Parquet/JSONL shards, and the entities each caption mentions.

CREATE TABLE IF NOT EXISTS captions (
    caption_id VARCHAR PRIMARY KEY,    -- "<dataset>:<source id>" (or a content hash when no id column)
    dataset VARCHAR NOT NULL,
    language VARCHAR,
    text VARCHAR,
    url VARCHAR,
    image_path VARCHAR,
    source_file VARCHAR
);

CREATE TABLE IF NOT EXISTS caption_entities (
    caption_id VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    PRIMARY KEY (caption_id, entity)
);

-- Gold labels for evaluation (`geosql eval`, view prediction_accuracy). NULL = no place.
CREATE TABLE IF NOT EXISTS gold_countries (
    caption_id VARCHAR PRIMARY KEY,
    country_code VARCHAR,
    raw VARCHAR
);
