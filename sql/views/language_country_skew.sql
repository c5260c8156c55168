-- language_country_skew: does a language subset skew toward the countries where its language
-- is spoken? Per dataset, geoparsing method and caption language: of its located captions,
-- the share in countries where that language is widely spoken (language_countries), the share
-- elsewhere, and the same share for the dataset's English captions under the same method
-- (english_share_in: how often English captions land in that language's countries);
-- skew = share_in / english_share_in.
-- grain: one row per (dataset, method, language)
CREATE OR REPLACE VIEW language_country_skew AS
WITH located AS (
    SELECT l.dataset, p.method, l.language, p.country_code
    FROM current_geo_predictions p JOIN caption_language l USING (caption_id)
    WHERE p.country_code IS NOT NULL AND l.language IS NOT NULL AND l.language <> 'und'
), spoken AS (
    SELECT DISTINCT language, country_code FROM language_countries WHERE widely_spoken
), per_lang AS (
    SELECT x.dataset, x.method, x.language, count(*) AS n_located,
           count(s.country_code) AS n_in_language_countries
    FROM located x
    LEFT JOIN spoken s ON s.language = x.language AND s.country_code = x.country_code
    GROUP BY ALL
), english AS (
    SELECT g.dataset, g.method, g.language, count(*) AS n_english_located,
           count(s.country_code) AS n_english_in
    FROM (SELECT DISTINCT dataset, method, language FROM per_lang) g
    JOIN located e ON e.dataset = g.dataset AND e.method = g.method AND e.language = 'en'
    LEFT JOIN spoken s ON s.language = g.language AND s.country_code = e.country_code
    GROUP BY ALL
)
SELECT k.dataset, k.method, k.language, k.n_located, k.n_in_language_countries,
       k.n_in_language_countries / k.n_located AS share_in,
       1 - k.n_in_language_countries / k.n_located AS share_elsewhere,
       e.n_english_located,
       e.n_english_in / e.n_english_located AS english_share_in,
       (k.n_in_language_countries / k.n_located)
           / nullif(e.n_english_in / e.n_english_located, 0) AS skew
FROM per_lang k
LEFT JOIN english e USING (dataset, method, language);
