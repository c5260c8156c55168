-- Tokens of every caption in g_input(r, text). g_text keeps per caption the word tokens
-- (toks), the separator before each (seps), normalized keys (ks) and each token's length with
-- its separator (lens, for character offsets); g_tok has one row per token (r, i from 0, tok,
-- k, and k1: the next token's key). g_info holds the caption-level facts (words, capitalised
-- words, place cue words, sentence-like text).
CREATE OR REPLACE TEMP TABLE g_text AS
WITH t AS (
    SELECT r, text, geo_tokens(text) AS toks,
           regexp_split_to_array(text, '[\pL\pN\pM]+') AS seps
    FROM g_input
    WHERE text IS NOT NULL
)
SELECT r, text, toks, seps, list_transform(toks, lambda x: geo_norm(x)) AS ks,
       list_transform(range(1, len(toks) + 1),
                      lambda j: length(seps[j]) + length(toks[j]))::BIGINT[] AS lens,
       geo_isupper(text) AS all_caps
FROM t;

CREATE OR REPLACE TEMP TABLE g_tok AS
SELECT r, generate_subscripts(toks, 1) - 1 AS i, unnest(toks) AS tok, unnest(ks) AS k,
       unnest(list_resize(ks[2:], len(ks))) AS k1
FROM g_text;

CREATE OR REPLACE TEMP TABLE g_info AS
WITH w AS (
    SELECT r,
           len(list_filter(toks, lambda x: NOT left(x, 1) BETWEEN '0' AND '9')) AS n_words,
           len(list_filter(toks, lambda x: geo_cap(x))) AS n_cap
    FROM g_text
), c AS (
    SELECT DISTINCT t.r FROM g_tok t JOIN g_words c ON c.word = t.k AND c.kind = 'cue'
)
SELECT x.r,
       w.n_words > 0 AND w.n_cap > 0 AND w.n_cap <= 0.6 * w.n_words AND NOT x.all_caps AS cap_info,
       c.r IS NOT NULL AS place_cue,
       log10(w.n_words + 1) AS log_words,
       w.n_words,
       x.all_caps,
       right(rtrim(x.text), 1) IN ('.', '!', '?') AS ends_sentence
FROM g_text x JOIN w USING (r) LEFT JOIN c USING (r);
