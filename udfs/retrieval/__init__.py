"""FAISS retrieval over GeoNames place names (all-MiniLM-L6-v2); see `udfs.retrieval.index`.

Light to import: faiss and sentence-transformers load on first use.
"""

from udfs.retrieval.index import DEFAULT_MODEL, Candidate, PlaceIndex, load_encoder

__all__ = ["DEFAULT_MODEL", "Candidate", "PlaceIndex", "load_encoder"]
