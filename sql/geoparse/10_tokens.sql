-- Tokens of every caption in g_input(r, text): the text split at every separator character
-- (anything but a letter, digit or mark), so pieces are tokens or empty. g_text keeps per
-- caption the word tokens (toks), their normalized keys (ks) and each token's piece number
-- (pj, 1-based): a token's character offset is the number of separators before it (pj - 1)
-- plus the lengths of the tokens before it, and the separator text before it is the pj gap's
-- characters (g_context). g_tok has one row per token (r, i from 0, tok, k, and k1: the next
-- token's key). g_info holds the caption-level facts (words, capitalised words, place cue
-- words, sentence-like text), g_cuecc the countries that the caption's country terms point at
-- (g_cues: "bhk", "£").
CREATE OR REPLACE TEMP TABLE g_text AS
WITH p AS (
    SELECT r, text, NOT regexp_matches(text, '[^A-Za-z0-9 ,.\-]') AS plain
    FROM g_input
    WHERE text IS NOT NULL
), s AS (
    -- Plain ASCII text (most captions) splits on spaces once ',', '.' and '-' are spaces too:
    -- the same pieces as the regex split, at a third of its cost.
    SELECT r, text, plain,
           CASE WHEN plain
                THEN string_split(
                    replace(replace(replace(text, ',', ' '), '.', ' '), '-', ' '), ' ')
                ELSE regexp_split_to_array(text, '[^\pL\pN\pM]') END AS p
    FROM p
), t AS (
    SELECT r, text, plain, list_filter(p, lambda x: x <> '') AS toks,
           list_filter(range(1, len(p) + 1), lambda j: p[j] <> '') AS pj
    FROM s
)
SELECT r, text, toks, pj,
       -- (geo_norm of an ASCII token is lower(); skipping its per-token test saves ~0.05 s)
       CASE WHEN plain THEN list_transform(toks, lambda x: lower(x))
            ELSE list_transform(toks, lambda x: geo_norm(x)) END AS ks,
       geo_isupper(text) AS all_caps,
       NULL::BIGINT[] AS off
FROM t;

-- Texts of more than 64 tokens get their token offsets (character offset of each token, in
-- token order) computed once, by a running sum (g_offset reads them).
UPDATE g_text SET off = o.off
FROM (
    SELECT r, list(o ORDER BY i) AS off
    FROM (
        SELECT r, i, pj - 1 + coalesce(sum(length(tok)) OVER (
                   PARTITION BY r ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
               0) AS o
        FROM (SELECT r, generate_subscripts(toks, 1) AS i, unnest(toks) AS tok, unnest(pj) AS pj
              FROM g_text WHERE len(toks) > 64)
    )
    GROUP BY r
) o
WHERE g_text.r = o.r;

CREATE OR REPLACE TEMP TABLE g_longtext AS SELECT r FROM g_text WHERE off IS NOT NULL;

CREATE OR REPLACE TEMP TABLE g_tok AS
SELECT r, generate_subscripts(toks, 1) - 1 AS i, unnest(toks) AS tok, unnest(ks) AS k,
       unnest(list_resize(ks[2:], len(ks))) AS k1
FROM g_text;

CREATE OR REPLACE TEMP TABLE g_info AS
WITH w AS (
    SELECT r,
           count(*) FILTER (NOT left(tok, 1) BETWEEN '0' AND '9') AS n_words,
           count(*) FILTER (geo_cap(tok)) AS n_cap,
           bool_or(k IN (SELECT word FROM g_words WHERE kind = 'cue')) AS place_cue,
           bool_or(k IN (SELECT word FROM g_words WHERE kind = 'listing')) AS listing_cue
    FROM g_tok
    GROUP BY r
), c AS (
    SELECT x.r, x.text, x.all_caps, coalesce(w.n_words, 0) AS n_words,
           coalesce(w.n_cap, 0) AS n_cap, coalesce(w.place_cue, false) AS place_cue,
           coalesce(w.listing_cue, false) AS listing_cue
    FROM g_text x LEFT JOIN w USING (r)
)
SELECT r,
       n_words > 0 AND n_cap > 0 AND n_cap <= 0.6 * n_words AND NOT all_caps AS cap_info,
       place_cue,
       listing_cue,
       log10(n_words + 1) AS log_words,
       n_words,
       all_caps,
       right(rtrim(text), 1) IN ('.', '!', '?') AS ends_sentence
FROM c;

CREATE OR REPLACE TEMP TABLE g_cuecc AS
SELECT DISTINCT t.r, c.cc
FROM g_tok t JOIN g_cues c ON c.k = t.k
WHERE NOT c.symbol AND (c.k1 IS NULL OR c.k1 = t.k1)
UNION
SELECT x.r, c.cc
FROM g_text x JOIN g_cues c ON c.symbol AND contains(x.text, c.term);
