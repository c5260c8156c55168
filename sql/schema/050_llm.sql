-- LLM stages (llm-geoparse, hybrid-geoparse): every request and answer, prices, batch jobs, details.

-- Every request sent to an LLM and its outcome: the cache that makes reruns free. Stages return
-- new rows as BatchResult.appends["llm_calls"]; the runner inserts them once, keyed by call_key,
-- never replaced. An answer's call_key is sha256(model \n config \n prompt_hash); a failed
-- call (NULL response, kept for the record) has that key plus ':failed:<id>', so it never blocks
-- a later answer. (A warehouse from before call_key is moved to this layout by the stages'
-- prepare, udfs.gemini.cache.ensure_layout.)
CREATE TABLE IF NOT EXISTS llm_calls (
    call_key VARCHAR PRIMARY KEY,
    prompt_hash VARCHAR NOT NULL,      -- sha256 of the prompt text (text + image digests)
    model VARCHAR NOT NULL,
    config VARCHAR NOT NULL,           -- generation config as canonical JSON
    prompt VARCHAR NOT NULL,           -- images appear as [mime bytes sha256:...]
    response VARCHAR,                  -- the model's text answer; NULL when the call failed
    tokens_in BIGINT,
    tokens_out BIGINT,                 -- answer plus thinking tokens (both are billed)
    latency_s DOUBLE,
    mode VARCHAR,                      -- online | batch
    batch_job VARCHAR,                 -- batch job name when answered through the Batch API
    attempts INTEGER,
    error VARCHAR,
    created TIMESTAMP DEFAULT current_timestamp
);

-- USD per million tokens; edit freely (`geosql gemini prices`). batch_discount: share taken off
-- for Batch API calls (0.5 = half price). Seeded rows are only inserted when missing.
CREATE TABLE IF NOT EXISTS llm_prices (
    model VARCHAR PRIMARY KEY,
    usd_per_1m_input DOUBLE NOT NULL,
    usd_per_1m_output DOUBLE NOT NULL,
    batch_discount DOUBLE DEFAULT 0.5,
    note VARCHAR
);

INSERT INTO llm_prices VALUES
    ('gemini-2.5-flash', 0.30, 2.50, 0.5, 'Gemini Developer API list price, text input, 2025'),
    ('gemini-2.5-pro', 1.25, 10.00, 0.5, 'prompts up to 200k tokens, 2025'),
    ('gemini-2.5-flash-lite', 0.10, 0.40, 0.5, 'Gemini Developer API list price, text input, 2025')
ON CONFLICT DO NOTHING;

-- Batch API jobs, so a rerun resumes a job still running instead of submitting it again
-- (appended once at submission, keyed by job_name).
CREATE TABLE IF NOT EXISTS llm_batch_jobs (
    job_name VARCHAR PRIMARY KEY,      -- "batches/…"
    model VARCHAR NOT NULL,
    config VARCHAR NOT NULL,
    phase VARCHAR,                     -- extract | predict
    source VARCHAR,                    -- inline | files/… (uploaded JSONL)
    n_requests INTEGER,
    state VARCHAR,                     -- at submission (or `gemini jobs --refresh`): JOB_STATE_*
    ingested BOOLEAN DEFAULT FALSE,    -- collected before llm_batch_done existed, or cancelled
    error VARCHAR,
    created TIMESTAMP DEFAULT current_timestamp,
    updated TIMESTAMP
);

-- A batch job whose results were collected (appended once by the worker that collected it).
CREATE TABLE IF NOT EXISTS llm_batch_done (
    job_name VARCHAR PRIMARY KEY,
    state VARCHAR,                     -- JOB_STATE_SUCCEEDED | FAILED | CANCELLED | EXPIRED
    error VARCHAR,
    finished TIMESTAMP
);

-- The requests of each batch job (appended once, keyed by request_key = job_name:prompt_hash).
CREATE TABLE IF NOT EXISTS llm_batch_requests (
    request_key VARCHAR PRIMARY KEY,
    job_name VARCHAR NOT NULL,
    prompt_hash VARCHAR NOT NULL,      -- also the request key sent to the API
    prompt VARCHAR NOT NULL
);

-- What the LLM geoparser saw and said for each caption (geo_predictions holds the country).
CREATE TABLE IF NOT EXISTS llm_geoparse (
    caption_id VARCHAR NOT NULL,
    method VARCHAR NOT NULL,           -- gemini | hybrid | …
    model VARCHAR,
    route VARCHAR,                     -- llm | offline (hybrid: who answered)
    location VARCHAR,                  -- extracted primary location; NULL = none named
    extract_raw VARCHAR,               -- the extraction answer as returned
    candidates JSON,                   -- [{geonameid, name, country_code, score}] from retrieval
    answer_raw VARCHAR,                -- the country answer as returned
    country_code VARCHAR,              -- normalized answer; NULL = no place or unknown answer
    config_key VARCHAR
    -- One row per (caption_id, method, config_key), kept by the runner (no PRIMARY KEY, as in
    -- geo_predictions; a warehouse whose llm_geoparse had one is rebuilt by ensure_layout).
);
