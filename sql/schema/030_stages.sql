-- Stage bookkeeping, owned by the runner: every run, what each item was done from, which
-- config the views show, and every row a stage could not process.

CREATE SEQUENCE IF NOT EXISTS stage_run_ids START 1;

CREATE TABLE IF NOT EXISTS stage_runs (
    run_id BIGINT PRIMARY KEY DEFAULT nextval('stage_run_ids'),
    stage VARCHAR NOT NULL,
    config_key VARCHAR NOT NULL,
    config JSON,
    started TIMESTAMP NOT NULL,
    finished TIMESTAMP,
    status VARCHAR NOT NULL,           -- running | done | interrupted | failed
    rows_done BIGINT DEFAULT 0,
    rows_failed BIGINT DEFAULT 0,
    tokens_in BIGINT DEFAULT 0,
    tokens_out BIGINT DEFAULT 0,
    cost_usd DOUBLE DEFAULT 0,
    message VARCHAR
);
ALTER TABLE stage_runs ADD COLUMN IF NOT EXISTS scope VARCHAR;
ALTER TABLE stage_runs ADD COLUMN IF NOT EXISTS rows_pending BIGINT DEFAULT 0;
ALTER TABLE stage_runs ADD COLUMN IF NOT EXISTS usage JSON;   -- every counter a batch reported
ALTER TABLE stage_runs ADD COLUMN IF NOT EXISTS engine VARCHAR;

-- grain: one row per (stage, config_key, item_id). input_hash is the hash of the stage's input
-- columns when the item was processed: a changed input (new caption text) makes it pending again.
CREATE TABLE IF NOT EXISTS stage_items (
    stage VARCHAR NOT NULL,
    config_key VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    input_hash UBIGINT,
    status VARCHAR NOT NULL,           -- done | failed
    run_id BIGINT
);

-- grain: one row per (stage, scope). Which config key the views read for a stage's scope
-- (the value of its scope setting, e.g. the method 'offline'): set by the last complete run,
-- by the first run of a scope, or by `geosql stages use`.
CREATE TABLE IF NOT EXISTS stage_current (
    stage VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    config_key VARCHAR NOT NULL,
    set_at TIMESTAMP DEFAULT now(),
    how VARCHAR,                       -- complete run | first run | user | ingest
    PRIMARY KEY (stage, scope)
);
ALTER TABLE stage_current ADD COLUMN IF NOT EXISTS outputs VARCHAR[];  -- tables the stage writes

CREATE TABLE IF NOT EXISTS stage_errors (
    stage VARCHAR NOT NULL,
    config_key VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    error_type VARCHAR,
    error_message VARCHAR,
    run_id BIGINT,
    PRIMARY KEY (stage, config_key, item_id)
);
