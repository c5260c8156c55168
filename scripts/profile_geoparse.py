"""Profile the offline geoparser on recombined real captions: CPU seconds per SQL statement.

    PYTHONPATH=. .venv/bin/python scripts/profile_geoparse.py --index GAZ.duckdb [--n 200000]
        [--repeats 3] [--fuzzy] [--stage WAREHOUSE_COPY.duckdb]

Engine level: every statement of sql/geoparse/*.sql and each Python step is timed in CPU
seconds of this process (user + sys, all DuckDB threads: `time.process_time`), median of
`--repeats` parses of the same captions, then the fixed cost for tiny batches. `--stage`
also runs the stage end to end (`run_stage`, DuckDB writes included) on that warehouse, which
must be a COPY (its geoparse results are deleted first).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

CLOCK = time.process_time  # --wall: time.perf_counter


class _Timed:
    """Wraps the engine's DuckDB connection: `execute` of a script runs it statement by
    statement, adding each one's CPU seconds to `times` under a short label."""

    def __init__(self, con, times: dict[str, float], step: list[str]):
        self._con, self._times, self._step = con, times, step

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, sql, *args, **kw):
        if args or kw or not isinstance(sql, str):
            return self._con.execute(sql, *args, **kw)
        out = None
        for st in self._con.extract_statements(sql):
            text = st.query
            lines = [x for x in text.splitlines() if x.strip() and not x.strip().startswith("--")]
            label = f"{self._step[0]}: {lines[0].strip()[:60] if lines else '?'}"
            t0 = CLOCK()
            out = self._con.execute(text)
            self._times[label] += CLOCK() - t0
        return out


def profile_engine(engine, texts: pa.Array) -> dict[str, float]:
    """CPU seconds per step of one `engine.parse(texts)`."""
    from udfs.gazetteer import mojibake

    times: dict[str, float] = defaultdict(float)
    step = ["python"]
    raw = engine.db
    engine.db = _Timed(raw, times, step)
    orig = {"fix_texts": mojibake.fix_texts}

    def timed_fix(a):
        t0 = CLOCK()
        out = orig["fix_texts"](a)
        times["python: mojibake"] += CLOCK() - t0
        return out

    mojibake.fix_texts = timed_fix
    orig_special = engine._special

    def timed_special(a):
        step[0] = "special"
        t0 = CLOCK()
        out = orig_special(a)
        times["python: special (postcodes, CJK)"] += CLOCK() - t0
        return out

    engine._special = timed_special
    from udfs.gazetteer import native

    orig["insert"] = native.insert

    def timed_insert(*a, **kw):
        t0 = CLOCK()
        out = orig["insert"](*a, **kw)
        times["native: pass + insert"] += CLOCK() - t0
        return out

    native.insert = timed_insert
    orig_steps = dict(engine._steps)
    try:
        t_all = CLOCK()
        step[0] = "features"
        # label each file's statements by the file
        engine._steps = _LabelledSteps(orig_steps, step)
        engine.features(texts)
        step[0] = "score"
        t0 = CLOCK()
        engine.score()
        times["score (total)"] += CLOCK() - t0
        step[0] = "decide"
        t0 = CLOCK()
        engine.decide()
        times["decide (total, fetch included)"] += CLOCK() - t0
        times["ENGINE TOTAL"] = CLOCK() - t_all
    finally:
        engine.db = raw
        mojibake.fix_texts = orig["fix_texts"]
        native.insert = orig["insert"]
        del engine._special
        engine._steps = orig_steps
    return times


class _LabelledSteps(dict):
    """engine._steps whose items() sets the label to the file being run."""

    def __init__(self, steps: dict, step: list[str]):
        super().__init__(steps)
        self._step = step

    def items(self):
        for k, v in super().items():
            self._step[0] = k
            yield k, v


def captions(n: int) -> tuple[pa.Table, str]:
    from geosql.bench_geoparse import real_captions
    from geosql.paths import shared_dir

    got = real_captions(n, shared_dir() / "data" / "dev")
    if got is None:
        raise SystemExit("needs ../shared/data/dev")
    return got


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--fuzzy", action="store_true")
    ap.add_argument("--stage", type=Path, help="a COPY of a reference warehouse")
    ap.add_argument("--no-engine", action="store_true")
    ap.add_argument("--wall", action="store_true", help="wall seconds instead of CPU seconds")
    a = ap.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if a.wall else time.process_time
    unit = "wall s" if a.wall else "CPU s"
    from udfs.gazetteer import Engine

    caps, source = captions(a.n)
    print(source.split(":")[0], f"{a.n:,}", flush=True)
    texts = caps["text"].combine_chunks()
    if not a.no_engine:
        e = Engine(a.index, fuzzy=a.fuzzy)
        e.parse(texts.slice(0, 1000))
        runs = [profile_engine(e, texts) for _ in range(a.repeats)]
        med = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}
        total = med["ENGINE TOTAL"]
        print(f"engine, {a.n:,} captions, {unit} (median of {a.repeats}), fuzzy={a.fuzzy}")
        for k, v in sorted(med.items(), key=lambda kv: -kv[1]):
            print(f"{v:8.3f} {100 * v / total:5.1f}%  {k}")
        print(f"engine: {a.n / total:,.0f} captions per {unit[:-2]} second", flush=True)
        for n in (1, 100, 10_000):
            ts = []
            for _ in range(3):
                t0 = CLOCK()
                e.parse(texts.slice(0, n))
                ts.append(CLOCK() - t0)
            print(f"fixed cost: {n:>6,} captions {statistics.median(ts):.3f} CPU s", flush=True)
    if a.stage:
        stage_run(a.stage, caps, a.repeats, a.fuzzy)


def stage_run(wh: Path, caps: pa.Table, repeats: int, fuzzy: bool) -> None:
    import cProfile
    import pstats

    import geosql
    from geosql.bench_geoparse import reset_stage
    from geosql.runner import run_stage

    with geosql.connect(wh) as con:
        con.execute("DELETE FROM captions")
        con.register("_caps", caps)
        con.execute("INSERT INTO captions (caption_id, dataset, text) SELECT * FROM _caps")
        con.unregister("_caps")
        cfg = {"fuzzy": True, "method": "fuzzy"} if fuzzy else None
        ts = []
        for i in range(repeats):
            reset_stage(con)
            prof = cProfile.Profile() if i == repeats - 1 else None
            t0 = CLOCK()
            if prof:
                prof.enable()
            run_stage(con, "geoparse", config=cfg, progress=False)
            if prof:
                prof.disable()
            ts.append(CLOCK() - t0)
        n = caps.num_rows
        med = statistics.median(ts)
        print(
            f"stage end to end: {n:,} captions, CPU s {', '.join(f'{t:.2f}' for t in ts)};"
            f" median {med:.2f} = {n / med:,.0f} captions per CPU second"
        )
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
