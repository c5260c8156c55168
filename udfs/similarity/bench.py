"""`geosql bench similarity`: the similarity views over synthetic image embeddings.

Scale 1 = 1,000,000 embeddings of 512 dimensions (CLIP ViT-B/32's width) over 100 topics x
50 countries x 2 datasets (about 100 images per group), labels as method `label`. Times each
view computed in full (a checksum forces every column), and one topic as a plot reads it:
wall-clock seconds and the process's CPU seconds (all DuckDB threads; on a shared machine the
CPU figure is the steadier one).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from geosql.bench import benchmark

QUERIES = {
    "topic_country_centroids": "SELECT count(*), sum(n), sum(list_sum(centroid))"
    " FROM topic_country_centroids",
    "topic_country_similarity": "SELECT count(*), sum(cosine) FROM topic_country_similarity",
    "country_pair_similarity": "SELECT count(*), sum(cosine), sum(distance_km)"
    " FROM country_pair_similarity",
    "distance_vs_similarity": "SELECT count(*), sum(spearman) FROM distance_vs_similarity",
    "needs_annotation()": "SELECT count(*), sum(best_similarity) FROM needs_annotation()",
    "one topic: country_pair_similarity": "SELECT count(*), sum(cosine)"
    " FROM country_pair_similarity WHERE topic = 't000'",
    "one topic: needs_annotation(only_topic := 't000')": "SELECT count(*)"
    " FROM needs_annotation(threshold := 0.99, only_topic := 't000')",
}


@benchmark("similarity")
def bench_similarity(workdir: Path, scale: float) -> list[str]:
    import geosql
    from udfs.similarity.synthetic import generate

    n = max(10_000, int(1_000_000 * scale))
    dim = 512
    out = [
        f"{n:,} image embeddings x {dim} dims, 100 topics x 50 countries x 2 datasets,"
        f" {os.cpu_count()} cores"
    ]
    with geosql.connect(workdir / "similarity.duckdb") as con:
        con.execute(f"SET threads = {os.cpu_count() or 1}")
        t0 = time.perf_counter()
        generate(con, n_countries=50, n_topics=100, n_images=n, dim=dim,
                 datasets=("low", "high"), seed=0)  # fmt: skip
        out.append(f"  generate + insert: {time.perf_counter() - t0:.1f}s")
        con.execute("PRAGMA disable_progress_bar")
        for name, sql in QUERIES.items():
            t0, c0 = time.perf_counter(), time.process_time()
            row = con.execute(sql).fetchone()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            out.append(f"  {name}: {wall:.1f}s wall, {cpu:.1f}s CPU ({row[0]:,} rows)")
    return out
