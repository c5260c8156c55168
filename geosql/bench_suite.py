"""Core benchmarks (ingest, geoparse). Model families add theirs in their own modules."""
