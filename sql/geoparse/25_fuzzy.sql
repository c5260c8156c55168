-- Fuzzy retrieval (run only with fuzzy=true): a capitalised word of 5+ letters that
-- matched no name and is not an everyday English word (g_common) is compared (once per
-- distinct word of the batch), by character trigram Jaccard similarity, with the names of
-- countries, divisions and cities of 15,000+ people that start with the same letter (g_tri);
-- the best name at similarity >= 0.6 becomes a mention ("Ghanzii" finds "Ghanzi").
INSERT INTO g_ment BY NAME
WITH cand AS (
    SELECT t.r, t.i, t.k
    FROM g_tok t
    WHERE length(t.k) >= 5 AND geo_cap(t.tok)
      AND NOT geo_isupper(t.tok)
      AND t.k NOT IN (SELECT word FROM g_common)
      AND t.k NOT IN (SELECT key FROM g_names)
      AND NOT EXISTS (  -- a name or a code there
          SELECT 1 FROM g_ment m WHERE m.r = t.r AND t.i BETWEEN m.i AND m.i + m.sz - 1
      )
), tri AS (  -- per distinct word: a word's best name depends on the word alone
    SELECT DISTINCT k, left(k, 1) AS first, unnest(geo_trigrams(k)) AS tri
    FROM (SELECT DISTINCT k FROM cand)
), n AS (
    SELECT k, count(*) AS n FROM tri GROUP BY k
), sim AS (
    SELECT t.k, g.key, count(*) / (any_value(n.n) + any_value(g.n) - count(*)) AS sim
    FROM tri t
    JOIN g_tri g ON g.first = t.first AND g.tri = t.tri
    JOIN n USING (k)
    GROUP BY t.k, g.key
), kb AS (
    SELECT k, arg_max(key, (sim, key)) AS key, max(sim) AS sim
    FROM sim GROUP BY k HAVING max(sim) >= 0.6
), best AS (
    SELECT c.r, c.i, kb.key, kb.sim FROM cand c JOIN kb USING (k)
), x AS (
    SELECT b.r, b.i, b.key, b.sim, x.text, unnest(g_context(x, b.i, 1))
    FROM best b JOIN g_text x USING (r)
)
SELECT r * 4294967296 + s AS mid, r, i, 1 AS sz, key, s, e, substring(text, s + 1, e - s) AS mtext,
       sep, pt, pk, nt, nk, 'fuzzy' AS src, sim
FROM x;
