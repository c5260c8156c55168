-- translation_agreement: per dataset and caption language, how often geoparsing the original
-- text (direct method, e.g. 'offline') and its English translation (the method named
-- direct || '+...', e.g. 'offline+nllb') agree on the country (no place counts as an answer),
-- how often each located the caption, and the distance between their country distributions:
-- total variation (half the L1 distance, 0 = same, 1 = disjoint) and Jensen-Shannon
-- divergence (base 2, 0..1) over the located captions of each method.
-- grain: one row per (dataset, language, direct_method, translated_method)
CREATE OR REPLACE VIEW translation_agreement AS
WITH pairs AS (
    SELECT DISTINCT d.method AS direct_method, t.method AS translated_method
    FROM (SELECT DISTINCT method FROM current_geo_predictions) d
    JOIN (SELECT DISTINCT method FROM current_geo_predictions) t
      ON starts_with(t.method, d.method || '+')
), both_ AS (
    SELECT l.dataset, l.language, pr.direct_method, pr.translated_method, l.caption_id,
           d.country_code AS direct_cc, t.country_code AS translated_cc
    FROM pairs pr
    JOIN current_geo_predictions d ON d.method = pr.direct_method
    JOIN current_geo_predictions t ON t.method = pr.translated_method AND t.caption_id = d.caption_id
    JOIN caption_language l ON l.caption_id = d.caption_id
), agree AS (
    SELECT dataset, language, direct_method, translated_method, count(*) AS n,
           avg((direct_cc IS NOT DISTINCT FROM translated_cc)::INT) AS agreement,
           avg((direct_cc IS NOT NULL)::INT) AS direct_located,
           avg((translated_cc IS NOT NULL)::INT) AS translated_located
    FROM both_ GROUP BY ALL
), counted AS (
    SELECT dataset, language, direct_method, translated_method, side, cc, count(*) AS n
    FROM (
        SELECT dataset, language, direct_method, translated_method, 'd' AS side, direct_cc AS cc
        FROM both_ WHERE direct_cc IS NOT NULL
        UNION ALL
        SELECT dataset, language, direct_method, translated_method, 't', translated_cc
        FROM both_ WHERE translated_cc IS NOT NULL
    ) GROUP BY ALL
), dist AS (
    SELECT *, n / sum(n) OVER (PARTITION BY dataset, language, direct_method,
                                            translated_method, side) AS p
    FROM counted
), wide AS (
    SELECT coalesce(a.dataset, b.dataset) AS dataset, coalesce(a.language, b.language) AS language,
           coalesce(a.direct_method, b.direct_method) AS direct_method,
           coalesce(a.translated_method, b.translated_method) AS translated_method,
           coalesce(a.p, 0) AS p, coalesce(b.p, 0) AS q
    FROM (SELECT * FROM dist WHERE side = 'd') a
    FULL JOIN (SELECT * FROM dist WHERE side = 't') b
      ON a.dataset = b.dataset AND a.language IS NOT DISTINCT FROM b.language
     AND a.direct_method = b.direct_method AND a.translated_method = b.translated_method
     AND a.cc = b.cc
), distance AS (
    SELECT dataset, language, direct_method, translated_method,
           0.5 * sum(abs(p - q)) AS total_variation,
           0.5 * sum(CASE WHEN p > 0 THEN p * log2(p / ((p + q) / 2)) ELSE 0 END)
         + 0.5 * sum(CASE WHEN q > 0 THEN q * log2(q / ((p + q) / 2)) ELSE 0 END)
             AS js_divergence
    FROM wide GROUP BY ALL
)
SELECT a.*, d.total_variation, d.js_divergence
FROM agree a
LEFT JOIN distance d ON d.dataset = a.dataset AND d.language IS NOT DISTINCT FROM a.language
 AND d.direct_method = a.direct_method AND d.translated_method = a.translated_method;
