-- Name normalization shared by the gazetteer index and caption text (one normalizer).
-- geo_norm(token): lower case; accents stripped except in Indic and South-East Asian scripts,
-- whose vowel signs are marks that carry meaning, and in kana, whose voicing marks make other
-- sounds (strip_accents turns パリ into ハリ, ドバイ into トハイ). geo_key(text): its tokens,
-- normalized, joined by single spaces.
CREATE OR REPLACE TEMP MACRO geo_norm(x) AS
    CASE WHEN strlen(x) = length(x)
              OR regexp_matches(x, '[\x{0900}-\x{0DFF}\x{0E00}-\x{0E7F}\x{1000}-\x{109F}\x{3040}-\x{30FF}]')
         THEN lower(x) ELSE strip_accents(lower(x)) END;

CREATE OR REPLACE TEMP MACRO geo_tokens(s) AS regexp_extract_all(s, '[\pL\pN\pM]+');

CREATE OR REPLACE TEMP MACRO geo_key(s) AS
    array_to_string(list_transform(geo_tokens(s), lambda x: geo_norm(x)), ' ');

-- Python-style str.isupper(): some cased letter and no lower-case one.
CREATE OR REPLACE TEMP MACRO geo_isupper(s) AS upper(s) = s AND lower(s) <> s;
-- The first character is an upper-case (or title-case) letter.
CREATE OR REPLACE TEMP MACRO geo_cap(s) AS left(s, 1) <> lower(left(s, 1));

-- log(p / (1 - p)), clamped away from 0 and 1.
CREATE OR REPLACE TEMP MACRO geo_logit(p) AS
    ln(least(greatest(p, 1e-4), 1 - 1e-4) / (1 - least(greatest(p, 1e-4), 1 - 1e-4)));

-- Distinct character trigrams of a key padded with '#' ("paris" -> #pa, par, ari, ris, is#).
CREATE OR REPLACE TEMP MACRO geo_trigrams(k) AS
    list_distinct(list_transform(range(1, length(k) + 1),
                                 lambda j: substring('#' || k || '#', j, 3)));

-- Context from the caption's lists (1-based): start and end offsets, the separator before,
-- previous token, next token (see 10_tokens.sql for the offset arithmetic). Long texts carry
-- their token offsets precomputed (x.off), so that a mention's offset is not a sum over every
-- token before it (quadratic in the text's length).
CREATE OR REPLACE TEMP MACRO g_offset(x, j) AS
    CASE WHEN x.off IS NOT NULL THEN x.off[j]
         ELSE (x.pj[j] - 1
               + coalesce(list_sum(list_transform(x.toks[1:j - 1], lambda t: length(t))), 0))
         END::BIGINT;

CREATE OR REPLACE TEMP MACRO g_context(x, i, sz) AS {
    's': g_offset(x, i + 1),
    'e': g_offset(x, i + sz) + length(x.toks[i + sz]),
    'sep': substring(x.text, g_offset(x, i + 1) - (x.pj[i + 1] - coalesce(x.pj[i], 1)) + 1,
                     x.pj[i + 1] - coalesce(x.pj[i], 1)),
    'pt': CASE WHEN i > 0 THEN x.toks[i] END, 'pk': CASE WHEN i > 0 THEN x.ks[i] END,
    'nt': x.toks[i + sz + 1], 'nk': x.ks[i + sz + 1]
};

-- Great-circle distance in km (the warehouse's haversine_km, for the private database).
CREATE OR REPLACE TEMP MACRO g_km(lat1, lon1, lat2, lon2) AS
    2 * 6371.0 * asin(sqrt(
        pow(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2)));
