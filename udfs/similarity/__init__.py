"""Cross-country visual similarity (issue 17): SQL views over image embeddings, plots, bench.

Nothing to register: the views and macros live in sql/ (090_similarity.sql, sql/views/), the
plots in `udfs.similarity.plots` (Altair, imported lazily), the commands in `cli.py`.
"""
