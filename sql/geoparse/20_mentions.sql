-- Mentions (g_ment): at each token the longest gazetteer name of 1..5 words (n-gram join
-- against g_names), kept left to right without overlaps; vague regions consume their words
-- and yield nothing; "us" the pronoun is not "US". Then US state / Canadian province /
-- Australian state codes ("Austin, TX", "TX 78701", "in NC", "Baltimore MD"), and the postcodes and CJK
-- names found outside SQL (g_special). A postcode outranks a name it overlaps.
-- Each mention carries its context: separator before (sep), previous token (pt, pk),
-- next token after its last word (nt, nk).
-- Multi-word n-grams only where the first two words begin some name (g_prefix); the n-grams
-- flow straight into the join with g_names (g_long).
CREATE OR REPLACE TEMP TABLE g_long AS
WITH p AS MATERIALIZED (
    SELECT t.r, t.i, t.tok, px.span
    FROM g_tok t
    JOIN g_prefix px ON px.prefix = concat(t.k, ' ', t.k1)
    WHERE t.k1 IS NOT NULL
), m AS (
    SELECT p.r, p.i, p.tok, range(2, least(p.span, len(x.ks) - p.i) + 1) AS sizes, x.ks
    FROM p JOIN g_text x USING (r)
), g AS (
    SELECT r, i, 1 AS sz, k AS key, tok FROM g_tok
    UNION ALL
    SELECT r, i, unnest(sizes) AS sz,
           unnest(list_transform(sizes, lambda z: array_to_string(ks[i + 1:i + z], ' '))) AS key,
           tok
    FROM m
)
SELECT g.r, g.i, max(g.sz) AS sz, arg_max(g.key, g.sz) AS key, arg_max(n.vague, g.sz) AS vague
FROM g
-- The names of this batch's distinct n-grams first: a small build side for the join with g.
JOIN (SELECT * FROM g_names SEMI JOIN (SELECT DISTINCT key FROM g) d USING (key)) n USING (key)
WHERE NOT (n.pronoun AND g.sz = 1 AND NOT geo_isupper(g.tok))
GROUP BY g.r, g.i;

-- Context from the caption's lists (1-based): start and end offsets, the separator before,
-- previous token, next token (see 10_tokens for the offset arithmetic).
CREATE OR REPLACE TEMP MACRO g_offset(x, j) AS
    (x.pj[j] - 1 + coalesce(list_sum(list_transform(x.toks[1:j - 1], lambda t: length(t))), 0))::BIGINT;

CREATE OR REPLACE TEMP MACRO g_context(x, i, sz) AS {
    's': g_offset(x, i + 1),
    'e': g_offset(x, i + sz) + length(x.toks[i + sz]),
    'sep': substring(x.text, g_offset(x, i + 1) - (x.pj[i + 1] - coalesce(x.pj[i], 1)) + 1,
                     x.pj[i + 1] - coalesce(x.pj[i], 1)),
    'pt': CASE WHEN i > 0 THEN x.toks[i] END, 'pk': CASE WHEN i > 0 THEN x.ks[i] END,
    'nt': x.toks[i + sz + 1], 'nk': x.ks[i + sz + 1]
};

-- Left to right without overlaps: a match inside an earlier multi-word match is dropped.
CREATE OR REPLACE TEMP TABLE g_name_m AS
WITH c AS (
    SELECT * FROM g_long c
    WHERE NOT c.vague
      AND NOT EXISTS (
          SELECT 1 FROM g_long m
          WHERE m.sz > 1 AND m.r = c.r AND m.i < c.i AND c.i <= m.i + m.sz - 1
      )
)
SELECT c.r, c.i, c.sz, c.key, unnest(g_context(x, c.i, c.sz))
FROM c JOIN g_text x USING (r);

CREATE OR REPLACE TEMP TABLE g_code_m AS
WITH t AS (
    SELECT t.r, t.i, t.tok, cd.us, cd.ca, cd.au, x.all_caps, unnest(g_context(x, t.i, 1))
    FROM g_tok t
    JOIN g_codes cd ON cd.code = t.tok
    JOIN g_text x USING (r)
    WHERE t.i >= 1
), c AS (
    SELECT t.*,
           contains(sep, ',') AS comma,
           coalesce(regexp_full_match(nt, '\d{5}'), false) AS after_zip,
           length(tok) = 2 AND sep = ' ' AND pk IN ('in', 'from') AND NOT all_caps AS after_prep,
           EXISTS (SELECT 1 FROM g_name_m m WHERE m.r = t.r AND m.i + m.sz = t.i) AS prev_place
    FROM t
), c2 AS (
    -- "Baltimore MD", "Kingston NY": a code right after a place name, no comma needed.
    SELECT *, prev_place AND sep = ' ' AND NOT all_caps AND (us OR ca) AS after_place FROM c
), coded AS (
    SELECT *,
           CASE WHEN us THEN 'US' WHEN ca AND NOT after_prep THEN 'CA'
                WHEN au AND comma THEN 'AU' END AS cc
    FROM c2
    WHERE comma OR after_zip OR after_prep OR after_place
)
SELECT r, i, 1 AS sz, lower(tok) || '#abbr' AS key, s, e, sep, pt, pk, nt, nk, cc,
       CASE WHEN prev_place OR after_zip OR after_prep THEN 2.5 ELSE 1.2 END AS score
FROM coded
WHERE cc IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM g_name_m m WHERE m.r = coded.r AND coded.i BETWEEN m.i AND m.i + m.sz - 1
  );

-- Fuzzy retrieval (when the variable geo_fuzzy is true): a capitalised word of 5+ letters that
-- matched no name and is not an everyday English word (g_common) is compared, by character
-- trigram Jaccard similarity, with the names of countries, divisions and cities of 15,000+
-- people that start with the same letter (g_tri); the best name at similarity >= 0.6 becomes
-- a mention ("Ghanzii" finds "Ghanzi").
CREATE OR REPLACE TEMP TABLE g_fuzzy_m AS
WITH cand AS (
    SELECT t.r, t.i, t.k
    FROM g_tok t
    WHERE getvariable('geo_fuzzy') AND length(t.k) >= 5 AND geo_cap(t.tok)
      AND NOT geo_isupper(t.tok)
      AND t.k NOT IN (SELECT word FROM g_common)
      AND t.k NOT IN (SELECT key FROM g_names)
      AND NOT EXISTS (
          SELECT 1 FROM g_name_m m WHERE m.r = t.r AND t.i BETWEEN m.i AND m.i + m.sz - 1
      )
      AND NOT EXISTS (SELECT 1 FROM g_code_m c WHERE c.r = t.r AND c.i = t.i)
), tri AS (
    SELECT DISTINCT r, i, left(k, 1) AS first, unnest(geo_trigrams(k)) AS tri FROM cand
), n AS (
    SELECT r, i, count(*) AS n FROM tri GROUP BY r, i
), sim AS (
    SELECT t.r, t.i, g.key, count(*) / (any_value(n.n) + any_value(g.n) - count(*)) AS sim
    FROM tri t
    JOIN g_tri g ON g.first = t.first AND g.tri = t.tri
    JOIN n ON n.r = t.r AND n.i = t.i
    GROUP BY t.r, t.i, g.key
), best AS (
    SELECT r, i, arg_max(key, (sim, key)) AS key, max(sim) AS sim
    FROM sim GROUP BY r, i HAVING max(sim) >= 0.6
)
SELECT b.r, b.i, 1 AS sz, b.key, b.sim, unnest(g_context(x, b.i, 1))
FROM best b JOIN g_text x USING (r);

CREATE OR REPLACE TEMP TABLE g_ment AS
WITH named AS (
    SELECT *, 'name' AS src, NULL::VARCHAR AS cc, NULL::DOUBLE AS score FROM g_name_m
    UNION ALL BY NAME
    SELECT *, 'code' AS src FROM g_code_m
    UNION ALL BY NAME
    SELECT *, 'fuzzy' AS src FROM g_fuzzy_m
), kept AS (
    SELECT * FROM named n
    WHERE NOT EXISTS (
        SELECT 1 FROM g_special p
        WHERE p.src = 'postcode' AND p.r = n.r AND p.s < n.e AND n.s < p.e
    )
), cjk AS (
    SELECT p.r, p.s, p.e, 1 AS sz, p.key, 'cjk' AS src
    FROM g_special p
    WHERE p.src = 'cjk'
      AND NOT EXISTS (SELECT 1 FROM kept k WHERE k.r = p.r AND k.s < p.e AND p.s < k.e)
), pidx AS (
    SELECT p.*, x.text, x.toks, x.ks, x.pj,
           list_position(list_transform(range(1, len(x.toks) + 1), lambda j: g_offset(x, j)),
                         p.s) - 1 AS i,
           len(string_split(p.key, ' ')) AS sz
    FROM g_special p JOIN g_text x USING (r)
    WHERE p.src = 'postcode'
), post AS (
    SELECT r, s, e, i, sz, key, 'postcode' AS src, cc, score, g_context(pidx, i, sz) AS c
    FROM pidx
)
-- Mentions never overlap, so (r, s) identifies one; mid orders like (r, s).
SELECT r * 4294967296 + s AS mid, *
FROM (
    SELECT * FROM kept
    UNION ALL BY NAME SELECT * FROM cjk
    UNION ALL BY NAME
    SELECT * EXCLUDE (c), c.sep, c.pt, c.pk, c.nt, c.nk FROM post
);
