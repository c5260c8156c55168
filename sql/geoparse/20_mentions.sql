-- (Where udfs/gazetteer/native is built this file does not run: the native matcher writes the
-- same g_ment and g_vague rows, checked row for row by tests/gazetteer/test_gazetteer_native.py.)
-- Mentions (g_ment): at each token the longest gazetteer name of 1..5 words (n-gram join
-- against g_names), kept left to right without overlaps; vague regions consume their words
-- and yield nothing; "us" the pronoun is not "US". Then US state / Canadian province /
-- Australian state codes ("Austin, TX", "TX 78701", "in NC", "Baltimore MD") and UK outward
-- postcodes after a UK town ("Dundee DD4"). Fuzzy matches (25_fuzzy.sql) and postcodes and
-- CJK names (26_special.sql) are added only when there can be any. One row per mention (src:
-- name, code, fuzzy, postcode, cjk); mentions never overlap, so (r, s) identifies one and
-- mid = r * 2^32 + s orders like (r, s). Each mention carries its text (mtext) and context:
-- separator before (sep), previous token (pt, pk), next token after its last word (nt, nk) and,
-- for names, the character right after it (nsep).
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
    WHERE x.off IS NULL
), lw AS (
    -- Long texts: the n-grams from the tokens themselves (a row per word of each n-gram),
    -- not from a copy of the text's token list per starting token.
    SELECT p.r, p.i, p.tok, p.d + 1 AS z, t.k
    FROM (SELECT *, unnest(range(0, span)) AS d FROM p SEMI JOIN g_longtext USING (r)) p
    JOIN g_tok t ON t.r = p.r AND t.i = p.i + p.d
), ln AS (
    SELECT r, i, tok, z,
           string_agg(k, ' ' ORDER BY z) OVER (
               PARTITION BY r, i ORDER BY z ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS key
    FROM lw
), g AS (
    SELECT r, i, 1 AS sz, k AS key, tok FROM g_tok
    UNION ALL
    SELECT r, i, unnest(sizes) AS sz,
           unnest(list_transform(sizes, lambda z: array_to_string(ks[i + 1:i + z], ' '))) AS key,
           tok
    FROM m
    UNION ALL
    SELECT r, i, z AS sz, key, tok FROM ln WHERE z >= 2
)
SELECT g.r, g.i, max(g.sz) AS sz, arg_max(g.key, g.sz) AS key, arg_max(n.vague, g.sz) AS vague
FROM g
-- The names of this batch's distinct n-grams first: a small build side for the join with g.
JOIN (SELECT * FROM g_names SEMI JOIN (SELECT DISTINCT key FROM g) d USING (key)) n USING (key)
WHERE NOT (n.pronoun AND g.sz = 1 AND NOT geo_isupper(g.tok))
GROUP BY g.r, g.i;

-- Continent names (vague, in g_region) not inside an earlier multi-word match, with their
-- offsets: 50_places.sql makes them mentions when written capitalised.
CREATE OR REPLACE TEMP TABLE g_vague AS
WITH v AS (
    SELECT l.r, l.key, unnest(g_context(x, l.i, l.sz))
    FROM (
        SELECT c.* FROM (SELECT * FROM g_long SEMI JOIN g_region USING (key) WHERE vague) c
        ANTI JOIN (SELECT * FROM g_long WHERE sz > 1) m
          ON m.r = c.r AND m.i < c.i AND c.i <= m.i + m.sz - 1
    ) l
    JOIN g_text x USING (r)
)
SELECT r, key, s, e FROM v;

-- Left to right without overlaps: a match inside an earlier multi-word match is dropped. A long
-- text (one with token offsets, 10_tokens.sql) keeps its first g_max_mentions() mentions, so a
-- huge text costs what its first mentions cost (each mention reads its text's lists).
CREATE OR REPLACE TEMP TABLE g_ment AS
WITH c0 AS (
    SELECT * FROM g_long c
    WHERE NOT c.vague
      AND NOT EXISTS (
          SELECT 1 FROM g_long m
          WHERE m.sz > 1 AND m.r = c.r AND m.i < c.i AND c.i <= m.i + m.sz - 1
      )
), c AS (
    SELECT * FROM c0 ANTI JOIN g_longtext USING (r)
    UNION ALL
    SELECT * FROM c0 SEMI JOIN g_longtext USING (r)
    QUALIFY row_number() OVER (PARTITION BY r ORDER BY i) <= g_max_mentions()
), x AS (
    SELECT c.r, c.i, c.sz, c.key, x.text, unnest(g_context(x, c.i, c.sz))
    FROM c JOIN g_text x USING (r)
)
SELECT r * 4294967296 + s AS mid, r, i, sz, key, s, e, substring(text, s + 1, e - s) AS mtext,
       sep, pt, pk, nt, nk, substring(text, e + 1, 1) AS nsep, 'name' AS src,
       NULL::VARCHAR AS cc, NULL::DOUBLE AS score, NULL::DOUBLE AS sim
FROM x;

INSERT INTO g_ment BY NAME
WITH t0 AS (
    SELECT t.r, t.i, t.tok, cd.us, cd.ca, cd.au, false AS uk
    FROM g_tok t
    JOIN g_codes cd ON cd.code = t.tok
    WHERE t.i >= 1
    UNION ALL
    -- A UK outward code (postcode area + district: "DD4", "CT1", "SW1A"), GB evidence only
    -- right after the name of a UK town ("Dundee DD4", "Birch Road Canterbury CT1"; not
    -- "Canon EOS M5").
    SELECT t.r, t.i, t.tok, false, false, false, true
    FROM g_tok t
    WHERE t.i >= 1 AND length(t.tok) BETWEEN 2 AND 4
      AND regexp_full_match(t.tok, '[A-Z]{1,2}[0-9][0-9A-Z]?')
      AND regexp_extract(t.tok, '^[A-Z]+') IN (SELECT word FROM g_words WHERE kind = 'ukarea')
      AND EXISTS (
          SELECT 1 FROM g_ment m JOIN g_gaz g ON g.key = m.key AND g.cc = 'GB'
          WHERE m.r = t.r AND m.i + m.sz = t.i
      )
), t1 AS (
    SELECT * FROM t0 ANTI JOIN g_longtext USING (r)
    UNION ALL
    SELECT * FROM t0 SEMI JOIN g_longtext USING (r)
    QUALIFY row_number() OVER (PARTITION BY r ORDER BY i) <= g_max_mentions()
), t AS (
    SELECT t.*, x.text, x.all_caps, unnest(g_context(x, t.i, 1))
    FROM t1 t JOIN g_text x USING (r)
), c AS (
    SELECT t.*,
           contains(sep, ',') AS comma,
           coalesce(regexp_full_match(nt, '\d{5}'), false) AS after_zip,
           length(tok) = 2 AND sep = ' ' AND pk IN ('in', 'from') AND NOT all_caps AS after_prep,
           EXISTS (SELECT 1 FROM g_ment m WHERE m.r = t.r AND m.i + m.sz = t.i) AS prev_place,
           uk AND sep IN (' ', ', ') AS after_uk_town
    FROM t
), c2 AS (
    -- "Baltimore MD", "Kingston NY": a code right after a place name, no comma needed.
    SELECT *, prev_place AND sep = ' ' AND NOT all_caps AND (us OR ca) AS after_place FROM c
), coded AS (
    SELECT *,
           CASE WHEN uk THEN CASE WHEN after_uk_town THEN 'GB' END
                WHEN us THEN 'US' WHEN ca AND NOT after_prep THEN 'CA'
                WHEN au AND comma THEN 'AU' END AS cc
    FROM c2
    WHERE comma OR after_zip OR after_prep OR after_place OR uk
)
SELECT r * 4294967296 + s AS mid, r, i, 1 AS sz, lower(tok) || '#abbr' AS key, s, e,
       substring(text, s + 1, e - s) AS mtext, sep, pt, pk, nt, nk, 'code' AS src, cc,
       CASE WHEN prev_place OR after_zip OR after_prep THEN 2.5 ELSE 1.2 END AS score
FROM coded
WHERE cc IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM g_ment m WHERE m.r = coded.r AND coded.i BETWEEN m.i AND m.i + m.sz - 1
  );
