-- Country-name normalization in SQL: the same steps as geosql.countries.country_key in Python.
--   country_key('The U.S.A.') = 'u s a';  country_code('Türkiye') = 'TR';  unknown -> NULL.

CREATE OR REPLACE MACRO country_key(s) AS
    regexp_replace(
        trim(regexp_replace(replace(lower(strip_accents(s)), '&', ' and '), '[^\p{L}\p{N}]+', ' ', 'g')),
        '^the ', '');

CREATE OR REPLACE MACRO country_code(s) AS
    (SELECT a.iso2 FROM country_aliases a WHERE a.alias = country_key(s));

CREATE OR REPLACE MACRO country_name(code) AS
    (SELECT c.name FROM countries c WHERE c.iso2 = upper(code));

-- Great-circle distance in km between two lat/lon points (haversine, mean Earth radius).
CREATE OR REPLACE MACRO haversine_km(lat1, lon1, lat2, lon2) AS
    2 * 6371.0088 * asin(least(1.0, sqrt(
        pow(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2))));
