-- Captions ingested from CSV/TSV/Parquet/JSONL shards, and the entities each caption mentions.

-- caption_id and (caption_id, entity) are unique by construction: `geosql ingest` is their only
-- writer and anti-joins on them. No PRIMARY KEY: its index would cost more than half of ingest time.
CREATE TABLE IF NOT EXISTS captions (
    caption_id VARCHAR NOT NULL,       -- "<dataset>:<source id>" (or a content hash when no id column)
    dataset VARCHAR NOT NULL,
    language VARCHAR,
    text VARCHAR,
    url VARCHAR,
    image_path VARCHAR,
    source_file VARCHAR
);

CREATE TABLE IF NOT EXISTS caption_entities (
    caption_id VARCHAR NOT NULL,
    entity VARCHAR NOT NULL            -- lower case, single spaces ("living room")
);

-- Gold labels for evaluation (`geosql eval`, view prediction_accuracy). NULL = no place.
CREATE TABLE IF NOT EXISTS gold_countries (
    caption_id VARCHAR PRIMARY KEY,
    country_code VARCHAR,
    raw VARCHAR
);
