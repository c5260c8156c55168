-- Postcodes and CJK names, found outside SQL (g_special; run only when it has rows): a
-- postcode outranks a name it overlaps, and a CJK name counts where no other mention is.
DELETE FROM g_ment n
WHERE EXISTS (
    SELECT 1 FROM g_special p
    WHERE p.src = 'postcode' AND p.r = n.r AND p.s < n.e AND n.s < p.e
);

INSERT INTO g_ment BY NAME
SELECT p.r * 4294967296 + p.s AS mid, p.r, p.s, p.e, 1 AS sz, p.key,
       substring(x.text, p.s + 1, p.e - p.s) AS mtext, 'cjk' AS src
FROM g_special p JOIN g_text x USING (r)
WHERE p.src = 'cjk'
  AND NOT EXISTS (SELECT 1 FROM g_ment k WHERE k.r = p.r AND k.s < p.e AND p.s < k.e);

-- A postcode's token position i from the token offsets, then its context like any mention.
INSERT INTO g_ment BY NAME
WITH pidx AS (
    SELECT p.*, x.text, x.toks, x.ks, x.pj, x.off,
           list_position(coalesce(x.off, list_transform(range(1, len(x.toks) + 1),
                                                        lambda j: g_offset(x, j))),
                         p.s) - 1 AS i,
           len(string_split(p.key, ' ')) AS sz
    FROM g_special p JOIN g_text x USING (r)
    WHERE p.src = 'postcode'
), post AS (
    SELECT r, s, e, i, sz, key, text, cc, score, g_context(pidx, i, sz) AS c FROM pidx
)
SELECT r * 4294967296 + s AS mid, r, s, e, i, sz, key, substring(text, s + 1, e - s) AS mtext,
       c.sep, c.pt, c.pk, c.nt, c.nk, 'postcode' AS src, cc, score
FROM post;
