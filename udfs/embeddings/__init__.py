"""Embeddings computed elsewhere: `geosql embeddings import` (see `importer.py`)."""
