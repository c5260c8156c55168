-- Caption features (g_capfeat) from scored candidates g_scored (g_feat's columns plus p): per
-- country its best candidate (highest p to two decimals, then the earliest mention: when the
-- evidence cannot separate two places, as when both are near certain, the first-named one is
-- what the text is about; then the exact p); the caption's top country and its deciding
-- mention (then the code breaks ties: two divisions of the same name score alike, and the
-- answer must not depend on row order), the runner-up's p, how many countries are plausible,
-- the kind of the deciding place and the caption-level facts. The second-stage model reads
-- these to decide "names a place" vs "no place". The caption-level facts (g_capinfo) are kept
-- for every caption, with a candidate or not: the confidence model reads them for the
-- captions without one too.
CREATE OR REPLACE TEMP TABLE g_capinfo AS
SELECT r,
       place_cue::DOUBLE AS place_cue,
       cap_info::DOUBLE AS cap_info,
       log_words,
       (cap_info AND ends_sentence AND n_words >= 6)::DOUBLE AS sentence
FROM g_info;

CREATE OR REPLACE TEMP TABLE g_capfeat AS
WITH c AS (
    SELECT r, cc, p, mtext, s, f_country, f_city,
           greatest(f_us_state, f_admin1, (f_abbreviation > 0)::DOUBLE) AS division
    FROM g_scored
    QUALIFY row_number() OVER (PARTITION BY r, cc ORDER BY round(p, 2) DESC, s, p DESC) = 1
), t AS (
    SELECT *,
           lead(p) OVER w AS p2,
           count(*) FILTER (WHERE p >= 0.2) OVER (PARTITION BY r) AS n_countries,
           row_number() OVER w AS k
    FROM c
    WINDOW w AS (PARTITION BY r ORDER BY round(p, 2) DESC, s, p DESC, cc DESC)
)
SELECT t.r, t.cc, t.mtext AS mention, t.p AS p_top,
       geo_logit(t.p) AS logit_top,
       CASE WHEN t.p2 IS NULL THEN -5.0 ELSE geo_logit(t.p2) END AS logit_second,
       t.n_countries::DOUBLE AS n_countries,
       t.f_country AS top_is_country,
       t.division AS top_is_division,
       t.f_city AS top_is_city,
       i.place_cue, i.cap_info, i.log_words, i.sentence
FROM t JOIN g_capinfo i USING (r)
WHERE t.k = 1;
