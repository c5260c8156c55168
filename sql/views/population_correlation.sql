-- population_correlation: per dataset, entity and method, does a country's share of located
-- captions follow its population (countries.population)? n_countries, Pearson r of log10(share)
-- vs log10(population), Spearman with average ranks for ties; NULL when undefined.
-- grain: one row per (dataset, entity, method)
CREATE OR REPLACE VIEW population_correlation AS
SELECT dataset, entity, method, n_countries, pearson, spearman
FROM indicator_correlation
WHERE indicator = 'population';
