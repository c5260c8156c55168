-- gdp_correlation: per dataset, entity and method, does a country's share of located captions
-- follow its GDP? Over the countries with captions and a GDP figure (gdp_used): n_countries,
-- pearson = Pearson r of log10(share) vs log10(GDP), spearman = rank correlation (average
-- ranks for ties). NULL when fewer than two countries or no variation.
-- grain: one row per (dataset, entity, method)
CREATE OR REPLACE VIEW gdp_correlation AS
SELECT dataset, entity, method, n_countries, pearson, spearman
FROM indicator_correlation
WHERE indicator = 'gdp';
