"""`python -m geosql.demo --warehouse PATH` (`make demo`): sample -> warehouse -> distributions.

Writes the project's sample captions beside the warehouse (`<dir>/sample/captions.jsonl`),
loads the bundled reference data, ingests the sample, runs the `geosql run geoparse` stage,
and prints the country and continent distributions. Safe to rerun: nothing is added twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geosql
from geosql.paths import default_warehouse

COUNTRIES_SQL = """
SELECT country_code, country, continent, sum(n) AS n,
       round(100 * sum(n) / sum(sum(n)) OVER (), 1) AS pct
FROM combined_distribution WHERE dataset = 'sample' AND method = 'offline'
GROUP BY ALL ORDER BY n DESC, country_code LIMIT 15
"""
CONTINENTS_SQL = """
SELECT continent, sum(n) AS n, round(100 * sum(n) / sum(sum(n)) OVER (), 1) AS pct
FROM combined_distribution WHERE dataset = 'sample' AND method = 'offline'
GROUP BY ALL ORDER BY n DESC
"""
ENTITIES_SQL = """
SELECT t.entity, u.n_captions, round(100 * u.share, 1) AS pct_unlocated,
       array_to_string(t.top_countries, '+') AS top3, round(100 * t.top_share, 1) AS pct_top3
FROM top_share t JOIN unlocated_share u USING (dataset, entity, method)
WHERE t.dataset = 'sample' AND t.method = 'offline' ORDER BY t.entity
"""


def run_demo(warehouse: Path, n: int = 300, seed: int = 7, geoparse: bool = True) -> None:
    from geosql import refdata
    from geosql.ingest import ingest
    from geosql.registry import registry
    from geosql.runner import run_stage
    from geosql.sample import write_sample
    from geosql.textable import text_table as _table

    sample = write_sample(Path(warehouse).parent / "sample" / "captions.jsonl", n, seed)
    print(f"sample: {n} captions written to {sample}")
    with geosql.connect(warehouse) as con:
        for line in refdata.load_defaults(con, only_missing=True):
            print(line)
        s = ingest(con, [sample], "sample", id_col="id", url_col="url", language_col="lang",
                   entity_col="entity")  # fmt: skip
        print(s.line())
        if not geoparse:
            return
        if "geoparse" not in registry.load().stages:
            print("note: stage 'geoparse' is not available yet; skipping geoparsing")
            return
        print(run_stage(con, "geoparse").line())
        for title, q in (
            ("Countries (all entities and languages, top 15)", COUNTRIES_SQL),
            ("Continents", CONTINENTS_SQL),
            ("Per entity: unlocated share and top-3 countries", ENTITIES_SQL),
        ):
            print(f"\n{title}:")
            print(_table(con.sql(q).pl()))
        from geosql.errors import MissingExtra
        from geosql.report import build_report

        try:  # the HTML report next to the warehouse (extra "report": altair, vl-convert)
            out = Path(warehouse).parent / "report.html"
            print("\n" + build_report(con, dataset="sample", method="offline", out=out).line())
        except MissingExtra as e:
            print(f"\nnote: no report: {e}")
    print(f"\nwarehouse: {warehouse}  (try: geosql -w {warehouse} sql 'FROM country_distribution')")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m geosql.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, default=None, help="warehouse file to build")
    ap.add_argument("--n", type=int, default=300, help="number of sample captions")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    try:
        run_demo(args.warehouse or default_warehouse(), args.n, args.seed)
    except geosql.GeosqlError as e:
        raise SystemExit(f"error: {e}") from e


if __name__ == "__main__":
    main()
