-- Geoparsing results: the mentions found in each caption and one country prediction per method.

CREATE TABLE IF NOT EXISTS geo_mentions (
    caption_id VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    mention VARCHAR NOT NULL,
    start_pos INTEGER,                 -- character offsets in the caption text
    end_pos INTEGER,
    geonameid BIGINT,
    country_code VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    score DOUBLE,                      -- the chosen candidate's probability (the parser's)
    config_key VARCHAR
);
-- P(the mention is a toponym as toponym-annotated news marks them: demonyms and words score
-- low), from the mention model (udfs/gazetteer/mention_model.json); NULL for other methods.
ALTER TABLE geo_mentions ADD COLUMN IF NOT EXISTS toponym_score DOUBLE;

CREATE TABLE IF NOT EXISTS geo_predictions (
    caption_id VARCHAR NOT NULL,
    method VARCHAR NOT NULL,           -- offline | gemini | hybrid | ...
    country_code VARCHAR,              -- NULL = no place
    confidence DOUBLE,
    evidence VARCHAR,
    config_key VARCHAR
    -- One row per (caption_id, method): the stage runner replaces a batch's rows in one
    -- transaction. No PRIMARY KEY on purpose: DuckDB's index made a 200k-row write 2.5x slower
    -- and replacing rows already there (a forced rerun) ~40x slower.
);
