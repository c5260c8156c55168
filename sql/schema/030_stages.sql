-- Stage bookkeeping: every run, and every row a stage could not process.

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

CREATE TABLE IF NOT EXISTS stage_errors (
    stage VARCHAR NOT NULL,
    config_key VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    error_type VARCHAR,
    error_message VARCHAR,
    run_id BIGINT,
    PRIMARY KEY (stage, config_key, item_id)
);
