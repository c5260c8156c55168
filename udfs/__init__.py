"""Model families, one module each. Every module registers its UDFs, stages and CLI commands
with `geosql.registry.registry`; heavy libraries are imported lazily inside functions."""
