-- Reference tables: continents, countries, aliases, admin1 divisions, GeoNames places and names, GDP.
-- Country codes are ISO 3166-1 alpha-2 everywhere; names appear only in views and reports.

CREATE TABLE IF NOT EXISTS continents (
    code VARCHAR PRIMARY KEY,          -- AF AN AS EU NA OC SA
    name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS countries (
    iso2 VARCHAR PRIMARY KEY,
    iso3 VARCHAR,
    iso_numeric INTEGER,
    name VARCHAR NOT NULL,             -- lower-case English short name ("united states")
    continent_code VARCHAR,
    population BIGINT,
    area_km2 DOUBLE,
    geonameid BIGINT,
    capital VARCHAR
);

-- What people write for a country: names, codes, spellings, demonyms. `alias` is country_key(text).
CREATE TABLE IF NOT EXISTS country_aliases (
    alias VARCHAR PRIMARY KEY,
    iso2 VARCHAR NOT NULL,
    kind VARCHAR                       -- name | code | variant | demonym
);

CREATE TABLE IF NOT EXISTS admin1 (
    country_code VARCHAR NOT NULL,
    admin1_code VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR,                      -- state, province, region...
    iso3166_2 VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    PRIMARY KEY (country_code, admin1_code)
);

CREATE TABLE IF NOT EXISTS places (
    geonameid BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    asciiname VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    feature_class VARCHAR,             -- A admin, P populated place, H water, T mountain, L area...
    feature_code VARCHAR,              -- PCLI country, ADM1 first-level division, PPLC capital...
    country_code VARCHAR,
    admin1_code VARCHAR,
    population BIGINT,
    source VARCHAR
);

-- Every name and alternate name of a place: the table geoparsers join against.
CREATE TABLE IF NOT EXISTS place_names (
    geonameid BIGINT NOT NULL,
    name VARCHAR NOT NULL,
    lang VARCHAR                       -- ISO 639 code, or a tag as GeoNames does: 'demonym', 'variant', 'translation', 'folded' (accents stripped)
);

CREATE TABLE IF NOT EXISTS gdp (
    iso3 VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    gdp_usd DOUBLE,
    population BIGINT,
    source VARCHAR NOT NULL,
    PRIMARY KEY (iso3, year, source)
);

-- Which source/year the views use (the most recently loaded unless set by `refdata use-gdp`).
CREATE TABLE IF NOT EXISTS settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);
