-- Caption features (g_capfeat) from scored candidates g_scored (g_feat plus p): per country
-- its best p; the caption's top country and its deciding mention, the runner-up, how many
-- countries are plausible, the kind of the deciding place and the caption-level facts. The
-- second-stage model reads these to decide "names a place" vs "no place".
CREATE OR REPLACE TEMP TABLE g_cc AS
SELECT r, cc, max(p) AS p,
       arg_max(
           struct_pack(mtext := mtext, s := s, country := f_country,
                       division := greatest(f_us_state, f_admin1, (f_abbreviation > 0)::DOUBLE),
                       city := f_city),
           p - s * 1e-9) AS best
FROM g_scored
GROUP BY r, cc;

CREATE OR REPLACE TEMP TABLE g_capfeat AS
WITH t AS (
    SELECT r,
           arg_max(cc, p - best.s * 1e-9) AS cc,
           arg_max(best, p - best.s * 1e-9) AS best,
           max(p, 2) AS ps,
           count(*) FILTER (WHERE p >= 0.2) AS n_countries
    FROM g_cc
    GROUP BY r
)
SELECT t.r, t.cc, t.best.mtext AS mention, t.ps[1] AS p_top,
       geo_logit(t.ps[1]) AS logit_top,
       CASE WHEN len(t.ps) > 1 THEN geo_logit(t.ps[2]) ELSE -5.0 END AS logit_second,
       t.n_countries::DOUBLE AS n_countries,
       t.best.country AS top_is_country,
       t.best.division AS top_is_division,
       t.best.city AS top_is_city,
       i.place_cue::DOUBLE AS place_cue,
       i.cap_info::DOUBLE AS cap_info,
       i.log_words,
       (i.cap_info AND i.ends_sentence AND i.n_words >= 6)::DOUBLE AS sentence
FROM t JOIN g_info i USING (r);
