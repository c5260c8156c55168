-- Features (the view g_feat): one row per (mention, candidate country) with the FEATURES of
-- udfs/gazetteer.py as f_* columns. Name-only features come precomputed from the gazetteer
-- (g_gaz); the rest read the mention's context, computed once per mention in g_ctx:
-- capitalisation against the caption's habit, sentence start, a preposition before,
-- capitalised neighbours, a place-type word after, a person's name around it; then a country
-- term of the candidate's country in the caption (g_cuecc, in g_feat0), and support from other
-- mentions of the same country in the caption (g_feat).
CREATE OR REPLACE TEMP TABLE g_ctx AS
WITH m AS (
    SELECT m.mid, m.r, m.s, m.e, m.key, m.src, m.cc AS code_cc, m.score AS code_score, m.sim,
           m.mtext,
           coalesce(m.i = 0, false) AS first_tok,
           m.sep, m.pt AS prev_tok, m.pk AS prev_k, m.nt AS next_tok, m.nk AS next_k,
           m.nsep AS next_sep,
           o.mid IS NOT NULL AS prev_is_mention,
           i.cap_info, i.place_cue, i.listing_cue
    FROM g_ment m
    JOIN g_info i USING (r)
    LEFT JOIN g_ment o ON o.r = m.r AND o.i = m.i - 1 AND o.sz = 1 AND o.src IN ('name', 'code')
), c AS (
    SELECT m.* EXCLUDE (w),
           lower(left(m.mtext, 1)) <> upper(left(m.mtext, 1)) AS latin,
           m.src IN ('code', 'postcode') AS coded,
           -- written with marks ("Münster", "Cancún"), compared with the place's own forms
           CASE WHEN strlen(m.w) <> length(m.w) AND m.src IN ('name', 'fuzzy')
                THEN lower(m.w) END AS marked
    FROM (SELECT *, replace(mtext, '’', '''') AS w FROM m) m
), k AS (
    SELECT c.*,
           geo_cap(mtext) OR NOT latin AS is_cap,
           cap_info OR NOT latin AS cap_info_m
    FROM c
)
SELECT k.*,
       cap_info_m AND is_cap AS cap_mixed,
       -- (the last character before the mention but whitespace ends a sentence or a title:
       -- one regex is 4x cheaper than trim/right/contains)
       first_tok OR coalesce(regexp_matches(sep, '[.!?:|-][ \t\r\n]*$'), false) AS sent_start,
       coalesce(prev_k IN (SELECT word FROM g_words WHERE kind = 'prep')
                AND NOT contains(sep, ','), false) AS prep,
       coalesce(next_k IN (SELECT word FROM g_words WHERE kind = 'type'), false) AS next_type,
       coalesce(next_k IN (SELECT word FROM g_words WHERE kind = 'product'), false)
           AS next_product,
       NOT first_tok AND coalesce(contains(sep, ','), false) AS after_comma,
       coalesce(prev_k IN (SELECT word FROM g_words WHERE kind = 'street')
                AND contains(sep, ','), false) AS after_street,
       -- part of a person's name: right after a given name ("Marie Houston"), or a given name
       -- right before a surname ("Craig Robinson"; not "Victoria Park", "Charlotte Street")
       coalesce(
           (sep = ' ' AND geo_cap(prev_tok)
            AND prev_k IN (SELECT word FROM g_words WHERE kind = 'given'))
           OR (next_sep = ' ' AND geo_cap(next_tok) AND length(next_tok) > 1
               AND key IN (SELECT word FROM g_words WHERE kind = 'given')
               AND next_k IN (SELECT word FROM g_words WHERE kind = 'surname')
               AND next_k NOT IN (SELECT word FROM g_words WHERE kind IN ('type', 'street'))),
           false) AS person_ctx
FROM k;

-- Candidates: a view, so that g_feat0 reads the join once instead of a wide copy.
CREATE OR REPLACE TEMP VIEW g_cand AS
SELECT m.* EXCLUDE (key), g.*
FROM g_ctx m JOIN g_gaz g ON g.key = m.key
WHERE m.src IN ('name', 'cjk', 'fuzzy')
UNION ALL BY NAME
SELECT m.*,
       c.* REPLACE (least(len(string_split(m.key, ' ')), 3) - 1.0 AS f_n_tokens)
FROM g_ctx m JOIN g_country c ON c.cc = m.code_cc
WHERE m.src IN ('code', 'postcode');

CREATE OR REPLACE TEMP VIEW g_feat0 AS
SELECT d.r, d.mid, d.cc, d.key, d.n_strong, d.gid, d.lat, d.lon, d.a1, d.mtext, d.s, d.e,
       d.f_country,
       (d.country_z43 AND NOT d.cap_mixed AND NOT geo_isupper(d.mtext))::DOUBLE
           AS f_country_common_word,
       d.f_demonym, (d.f_demonym > 0 AND d.next_product)::DOUBLE AS f_demonym_product,
       d.f_us_state, d.f_admin1, d.f_admin1_common_word, d.f_city,
       d.f_city_log_pop, d.f_city_pop_100k, d.f_city_pop_1m, d.f_city_capital, d.f_city_prominence,
       d.f_city_person_name, d.f_city_famous_name, d.f_city_alias,
       d.f_feature, d.f_feature_prominence,
       d.f_name_zipf,
       d.f_city_common_word,
       (d.city_z3 AND NOT d.cap_mixed)::DOUBLE AS f_city_common_uncapitalised,
       d.f_city_pop_500k, d.f_city_dict_word,
       d.f_city_dict_zipf, d.f_multi_all_common,
       CASE WHEN d.coded THEN d.code_score / 2.5 ELSE 0.0 END AS f_abbreviation,
       d.f_n_tokens, d.f_short,
       d.cap_mixed::DOUBLE AS f_cap_in_mixed,
       (d.cap_info_m AND NOT d.is_cap)::DOUBLE AS f_lower_in_mixed,
       d.sent_start::DOUBLE AS f_sentence_start,
       d.prep::DOUBLE AS f_preposition,
       d.place_cue::DOUBLE AS f_place_cue,
       (d.listing_cue AND d.f_city > 0)::DOUBLE AS f_listing_city,
       d.after_comma::DOUBLE AS f_after_comma,
       d.after_street::DOUBLE AS f_after_street,
       (d.cap_info AND (
           (coalesce(geo_cap(d.prev_tok), false) AND d.sep = ' ' AND NOT d.prev_is_mention)
           OR (coalesce(geo_cap(d.next_tok), false) AND NOT d.next_type)
       ))::DOUBLE AS f_adjacent_capital,
       d.next_type::DOUBLE AS f_next_is_place_type,
       (d.person_ctx AND d.f_city_person_name > 0)::DOUBLE AS f_person_context,
       (q.cc IS NOT NULL)::DOUBLE AS f_cue_country,
       d.f_one_over_n_countries, d.f_most_populous,
       -- the marks as written are one of the place's names, or none of them
       coalesce(list_contains(d.forms, d.marked), false)::DOUBLE AS f_accent_exact,
       (d.marked IS NOT NULL)::DOUBLE - f_accent_exact AS f_accent_other,
       (d.src = 'fuzzy')::DOUBLE AS f_fuzzy,
       coalesce(1 - d.sim, 0.0) AS f_fuzzy_gap
FROM g_cand d
LEFT JOIN g_cuecc q ON q.r = d.r AND q.cc = d.cc;

-- Support from the other mentions of the same country, each weighted by its prior p0 (the macro
-- g_prior: the model's first pass, on every feature but these two), so that "Gray", "Lap" and
-- "Diamond" do not vouch for each other the way "Austin" and "Texas" do. A name's own division
-- ("Cebu" the province for Cebu the city) and repeats of the same name ("Passa, Passa") do not
-- count. With no first pass (p0 = 1) these are plain counts.
CREATE OR REPLACE TEMP VIEW g_feat AS
WITH a AS MATERIALIZED (
    SELECT f.*, g_prior(f) AS p0 FROM g_feat0 f
), n AS (  -- per name and country: its best prior, and its divisions weighted by their priors
    SELECT r, cc, key, max(p0) AS kp, sum(n_strong * p0) AS sp FROM a GROUP BY r, cc, key
), t AS (
    SELECT r, cc, sum(kp) AS kp, sum(sp) AS sp FROM n GROUP BY r, cc
), s AS MATERIALIZED (  -- narrow, so that the wide rows of a never fill a join's hash table
    SELECT n.r, n.cc, n.key, t.kp - n.kp AS other_kp, t.sp FROM n JOIN t USING (r, cc)
)
SELECT a.* EXCLUDE (key, n_strong, p0), a.p0 AS p_prior,
       least(s.sp - a.n_strong * a.p0, 2)::DOUBLE AS f_supported_by_division,
       least(s.other_kp, 3)::DOUBLE AS f_supported_by_mentions
FROM a JOIN s USING (r, cc, key);
