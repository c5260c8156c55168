-- Diversity per country (stage `diversity`) and generated-vs-real coverage (stage `coverage`).
-- Both are group-level stages: the key column `group_id` names the group, the runner adds
-- config_key. Written only by the stages (udfs/diversity/stages.py).

-- Vendi score per (dataset, entity, country, modality, embedding model) at a fixed sample size k:
-- the mean over `draws` seeded k-item draws, with a bootstrap interval of that mean.
-- status: ok | insufficient (n < k: no score).
CREATE TABLE IF NOT EXISTS diversity_scores (
    group_id VARCHAR NOT NULL,         -- dataset|entity|country_code|modality|model_key
    dataset VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    country_code VARCHAR NOT NULL,
    modality VARCHAR NOT NULL,         -- image | text (embeddings.kind)
    model_key VARCHAR NOT NULL,
    method VARCHAR NOT NULL,           -- the geoparse method the countries come from
    k INTEGER NOT NULL,
    n BIGINT NOT NULL,                 -- items in the group (before sampling)
    draws INTEGER,
    vendi DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    status VARCHAR NOT NULL,
    config_key VARCHAR
);

-- Generated images against real ones of the same (entity, country, embedding model):
-- PRDC on k-NN manifolds (Naeem et al. 2020) and Vendi of both sides at the same k.
-- status: ok | insufficient (a side has <= nearest_k items: no PRDC).
CREATE TABLE IF NOT EXISTS generation_coverage (
    group_id VARCHAR NOT NULL,         -- entity|country_code|model_key
    entity VARCHAR NOT NULL,
    country_code VARCHAR NOT NULL,
    model_key VARCHAR NOT NULL,
    generated_dataset VARCHAR NOT NULL,
    nearest_k INTEGER NOT NULL,
    k INTEGER NOT NULL,
    n_real BIGINT NOT NULL,
    n_generated BIGINT NOT NULL,
    "precision" DOUBLE,
    recall DOUBLE,
    density DOUBLE,
    coverage DOUBLE,
    vendi_real DOUBLE,                 -- NULL when that side has fewer than k items
    vendi_generated DOUBLE,
    status VARCHAR NOT NULL,
    config_key VARCHAR
);
