-- The place of each stored mention (g_out): its best-scoring candidate country (p >= the
-- macro g_min_score()), and within that country the town the co-mentions point at. A name
-- with several towns in the country (g_alt: "Alexandria" in Virginia, Louisiana, Minnesota...)
-- takes the one inside a division named by another confident mention ("Rapides Parish",
-- "Louisiana"), else the one within 150 km of another confident mention's place, else the
-- index's choice (udfs/gazetteer/points.py, town_choices: the town whose own name it is).
-- Every mention has a point: countries and divisions carry a representative point from the
-- index; continents theirs (below).
CREATE OR REPLACE TEMP TABLE g_best AS
SELECT s.*, m.key
FROM g_scored s JOIN g_ment m USING (mid)
WHERE s.p >= g_min_score()
QUALIFY row_number() OVER (PARTITION BY s.mid ORDER BY s.p DESC, s.cc DESC) = 1;

-- A country's name means the country, not a town of that name abroad ("Norway" beside "the
-- United States" is not Norway, Michigan), unless the next mention places the town ("Norway,
-- Maine", "Lebanon PA"): such a town gives way to the mention's country candidate.
CREATE OR REPLACE TEMP TABLE g_swap AS
WITH cn AS (  -- each mention's best country candidate
    SELECT * FROM g_scored
    WHERE f_country > 0 AND p >= g_min_score()
    QUALIFY row_number() OVER (PARTITION BY mid ORDER BY p DESC, cc DESC) = 1
), d AS (  -- mentions that chose a town but could be a country
    SELECT b.mid, b.r, b.cc FROM g_best b SEMI JOIN cn USING (mid) WHERE b.f_city > 0
), placed AS (
    SELECT DISTINCT d.mid
    FROM d
    JOIN g_ment m USING (mid)
    JOIN g_ment m2 ON m2.r = m.r AND m2.i = m.i + m.sz AND trim(m2.sep) IN ('', ',')
    JOIN g_scored n ON n.mid = m2.mid AND n.cc = d.cc
    WHERE n.p >= 0.5 AND (n.f_us_state > 0 OR n.f_admin1 > 0 OR n.f_abbreviation > 0)
)
SELECT cn.* FROM cn SEMI JOIN d USING (mid) ANTI JOIN placed USING (mid);

DELETE FROM g_best WHERE mid IN (SELECT mid FROM g_swap);

INSERT INTO g_best BY NAME SELECT w.*, m.key FROM g_swap w JOIN g_ment m USING (mid);

-- A list of places is of one kind ("British Columbia, Alberta, Manitoba, Ontario and New
-- Brunswick"; "Guinea, Liberia, Mali, Niger, and Senegal"): in a list of three or more
-- mentions joined by commas, "and" or "or", a member takes its country candidate when most of
-- the other members are countries, or its division candidate in country X when most of them
-- are divisions of X (Ontario, Canada, not Ontario, California; Mali the country, not the
-- prefecture of Guinea).
CREATE OR REPLACE TEMP TABLE g_listed AS
WITH j AS (
    SELECT b.mid, b.r, m.i, m.sz, m.sep, m.pk, b.cc,
           b.f_country > 0 AS is_country,
           b.f_admin1 > 0 OR b.f_us_state > 0 AS is_division,
           trim(m.sep) = ',' OR m.pk IN ('and', 'or') AS may_join
    FROM g_best b JOIN g_ment m USING (mid)
), b AS (  -- (a list of three has two members joined to the one before: only such texts)
    SELECT * FROM j WHERE r IN (SELECT r FROM j WHERE may_join GROUP BY r HAVING count(*) >= 2)
), l AS (  -- joined to the previous stored mention: ", " or " and " / " or " between them
    SELECT *,
           coalesce(lag(i + sz) OVER w = i AND trim(sep) = ','
                    OR lag(i + sz) OVER w = i - 1 AND pk IN ('and', 'or'), false) AS joined
    FROM b
    WINDOW w AS (PARTITION BY r ORDER BY i)
), g AS (
    SELECT *, sum((NOT joined)::INT) OVER (PARTITION BY r ORDER BY i) AS list FROM l
), k AS (
    SELECT *,
           count(*) OVER x - 1 AS others,
           count(*) FILTER (WHERE is_country) OVER x - is_country::INT AS countries
    FROM g
    WINDOW x AS (PARTITION BY r, list)
), dv AS (  -- per list and country: its members that are divisions of it
    SELECT r, list, cc, count(*) AS n FROM k WHERE is_division GROUP BY ALL
), want AS (
    SELECT k.mid, 'country' AS kind, NULL AS cc
    FROM k WHERE others >= 2 AND NOT is_country AND countries > others / 2
    UNION ALL
    SELECT k.mid, 'division', d.cc
    FROM k JOIN dv d ON d.r = k.r AND d.list = k.list
    WHERE k.others >= 2 AND NOT (k.is_division AND k.cc = d.cc)
          AND d.n - (k.is_division AND k.cc = d.cc)::INT > k.others / 2
)
SELECT s.*
FROM want w JOIN g_scored s ON s.mid = w.mid
WHERE s.p >= g_min_score()
      AND CASE WHEN w.kind = 'country' THEN s.f_country > 0
               ELSE s.cc = w.cc AND (s.f_admin1 > 0 OR s.f_us_state > 0) END
QUALIFY row_number() OVER (PARTITION BY s.mid ORDER BY s.p DESC, s.cc DESC) = 1;

DELETE FROM g_best WHERE mid IN (SELECT mid FROM g_listed);

INSERT INTO g_best BY NAME SELECT w.*, m.key FROM g_listed w JOIN g_ment m USING (mid);

-- A division word next to the name makes it the division ("Washington state", "the state of
-- Victoria", "Ontario province"): a mention that chose a town (not a country: "the Darfur
-- region of Sudan") takes a division of its name: a candidate division at p >= 0.5, else the
-- chosen country's division of that name (g_div: the index keeps one candidate per country,
-- for "Washington" in the US the city), else any candidate division.
CREATE OR REPLACE TEMP TABLE g_typed AS
WITH w AS (  -- towns with a division word after them, or "of" before (read in cue)
    SELECT b.*, m.pk,
           m.nk IN ('state', 'province', 'county', 'region', 'district', 'governorate',
                    'prefecture', 'department') AS after
    FROM g_best b JOIN g_ment m USING (mid)
    WHERE b.f_country = 0 AND b.f_admin1 = 0 AND b.f_us_state = 0
), t AS (
    SELECT * EXCLUDE (pk) FROM w WHERE after OR pk = 'of'
), cue AS (
    SELECT t.* EXCLUDE (after)
    FROM t JOIN g_input x ON x.r = t.r
    WHERE t.after
          OR regexp_matches(lower(substring(x.text, greatest(t.s - 24, 1),
                                            t.s - greatest(t.s - 25, 0))),
                            '(state|province|county|region|district|governorate'
                            || '|prefecture|department) of\s*$')
), opt AS (
    SELECT s.*, CASE WHEN s.p >= 0.5 THEN 0 ELSE 2 END AS pri
    FROM g_scored s SEMI JOIN cue USING (mid)
    WHERE s.p >= g_min_score() AND (s.f_admin1 > 0 OR s.f_us_state > 0)
    UNION ALL BY NAME
    SELECT c.* REPLACE (d.gid AS gid, d.lat AS lat, d.lon AS lon, d.a1 AS a1),
           1 AS pri
    FROM cue c JOIN g_div d ON d.key = c.key AND d.cc = c.cc
)
SELECT * EXCLUDE (pri, key)
FROM opt
QUALIFY row_number() OVER (PARTITION BY mid ORDER BY pri, p DESC, cc DESC) = 1;

DELETE FROM g_best WHERE mid IN (SELECT mid FROM g_typed);

INSERT INTO g_best BY NAME SELECT w.*, m.key FROM g_typed w JOIN g_ment m USING (mid);

CREATE OR REPLACE TEMP TABLE g_out AS
WITH ctx AS (  -- what confident mentions say about where the text is
    SELECT r, mid, cc, a1, lat, lon, (f_admin1 > 0 OR f_us_state > 0) AS division
    FROM g_best
    WHERE p >= 0.5 AND f_country = 0 AND lat IS NOT NULL
), cand AS (
    SELECT b.r, b.mid, b.cc, a.gid, a.lat, a.lon, a.a1, a.pop
    FROM g_best b JOIN g_alt a ON a.key = b.key AND a.cc = b.cc
    WHERE b.f_city > 0 AND b.r IN (SELECT r FROM ctx GROUP BY r HAVING count(*) > 1)
          AND b.mid NOT IN (SELECT mid FROM g_typed)  -- placed by its division word
), ev AS (
    SELECT c.mid, c.gid, any_value(c.lat) AS lat, any_value(c.lon) AS lon,
           any_value(c.pop) AS pop,
           coalesce(bool_or(x.division AND x.a1 = c.a1), false) AS inside,
           coalesce(bool_or(g_km(c.lat, c.lon, x.lat, x.lon) <= 150), false) AS near
    FROM cand c LEFT JOIN ctx x ON x.r = c.r AND x.mid <> c.mid AND x.cc = c.cc
    GROUP BY c.mid, c.gid
), pick AS (
    SELECT mid, gid, lat, lon, inside OR near AS moved
    FROM ev
    QUALIFY row_number() OVER (PARTITION BY mid ORDER BY inside DESC, near DESC, pop DESC, gid)
            = 1
), places AS (
    SELECT b.r, b.mid, b.mtext AS mention, b.s AS start_pos, b.e AS end_pos,
           CASE WHEN k.moved THEN k.gid ELSE b.gid END AS geonameid, b.cc AS country_code,
           CASE WHEN k.moved THEN k.lat ELSE b.lat END AS lat,
           CASE WHEN k.moved THEN k.lon ELSE b.lon END AS lon,
           round(b.p, 4) AS score,
           -- the mention model's features (MENTION_FEATURES; the macro g_toponym below):
           -- the first pass's logit, i.e. the score without the support of other mentions,
           -- which long texts give every word of a country they keep naming
           geo_logit(coalesce(b.p_prior, b.p)) AS m_logit,
           (b.f_demonym > 0)::DOUBLE AS m_demonym,
           (NOT geo_cap(b.mtext))::DOUBLE AS m_lower,
           (b.f_country > 0)::DOUBLE AS m_country,
           (greatest(b.f_us_state, b.f_admin1, b.f_abbreviation) > 0)::DOUBLE AS m_division,
           (b.f_feature > 0)::DOUBLE AS m_feature,
           (b.f_city_dict_word > 0)::DOUBLE AS m_dict_word,
           (b.f_city_person_name > 0)::DOUBLE AS m_person_name,
           b.f_supported_by_mentions / 3 AS m_support,
           0.0 AS m_continent
    FROM g_best b LEFT JOIN pick k USING (mid)
), rg AS (
    -- Continents ("cases in Africa") name no country, so the caption decision never sees
    -- them, but they are places with a point (g_region: GeoNames'): a mention when written
    -- capitalised, unless inside a longer match ("South Africa", "East Africa").
    -- (g_vague: 20_mentions.sql, or the native pass)
    SELECT v.r, v.key, x.text, v.s, v.e FROM g_vague v JOIN g_input x USING (r)
), regions AS (
    SELECT c.r, c.r * 4294967296 + c.s AS mid, substring(c.text, c.s + 1, c.e - c.s) AS mention,
           c.s AS start_pos, c.e AS end_pos, g.gid AS geonameid, NULL AS country_code, g.lat,
           g.lon, 0.9 AS score, geo_logit(0.9) AS m_logit, 0.0 AS m_demonym, 0.0 AS m_lower,
           0.0 AS m_country, 0.0 AS m_division, 0.0 AS m_feature, 0.0 AS m_dict_word,
           0.0 AS m_person_name, 0.0 AS m_support, 1.0 AS m_continent
    FROM rg c JOIN g_region g USING (key)
    WHERE geo_cap(substring(c.text, c.s + 1, 1))
), o AS (
    SELECT * FROM places UNION ALL BY NAME SELECT * FROM regions
)
-- toponym_score (macro g_toponym, the mention model of udfs/gazetteer/mention_model.json):
-- P(the mention is a toponym as toponym-annotated news marks them: not a demonym, not a
-- word); scripts/train_mention_score.py fits it on the m_* columns.
SELECT o.*, g_toponym(o) AS toponym_score FROM o;
