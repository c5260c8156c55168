"""The worker side of the stage contract: run `open` once, then `process` batch by batch.

`prepare(con, config)` runs where the warehouse is and returns a picklable spec; a worker (this
process, a spawned process, a Ray actor) calls `open(spec, config)` once and `process` on each
batch, touching no database. The runner writes what comes back. `open_stage` and `Worker` are
the whole worker-side API: engines only differ in where they call them.
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing as mp
import multiprocessing.util
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import pyarrow as pa

from geosql.errors import GeosqlError
from geosql.registry import BatchResult, Stage, registry

HASH_COL = "_geosql_hash"
CORES_ENV = "GEOSQL_WORKER_CORES"  # set in a worker process to the cores it may use


def worker_cores() -> int:
    """The cores this worker may use: its share when an engine started it (a pool of N
    spawned workers shares the machine's cores, a Ray actor has its CPUs), else every core
    this process may run on."""
    if os.environ.get(CORES_ENV, "").isdigit():
        return max(1, int(os.environ[CORES_ENV]))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def stage_module(stage: Stage) -> str:
    """The module that declares a stage (a worker imports it to find the stage by name)."""
    return getattr(stage.process, "__module__", "") or ""


def get_stage(name: str, module: str = "") -> Stage:
    """The stage `name`, importing its declaring module first when it is not registered."""
    if module and name not in registry.stages:
        importlib.import_module(module)
    return registry.get_stage(name)


class Worker:
    """One opened stage: `Worker(name, spec, config)(batch) -> BatchResult` (a Ray callable
    class has the same shape)."""

    def __init__(self, name: str, spec: Any, config: dict, module: str = "") -> None:
        self.stage = get_stage(name, module)
        self.config = config
        self.state = self.stage.open(spec, config)

    def __call__(self, batch: pa.Table) -> BatchResult:
        return self.stage.process(self.state, _strip(batch), self.config)

    def close(self) -> None:
        if self.stage.close is not None and self.state is not None:
            self.stage.close(self.state)
            self.state = None


def run(
    stage: Stage,
    con: Any,
    config: dict,
    batches: Iterable[pa.Table],
    engine: str = "local",
    workers: int = 2,
    timings: dict[str, float] | None = None,
) -> Iterator[tuple[pa.Table, BatchResult]]:
    """Yield (batch, result) in input order, computed by the chosen engine. `timings["setup"]`
    gets the seconds spent before the first batch: `prepare`, and `open` where it is local."""
    it = iter(batches)
    first = next(it, None)
    if first is None:
        return
    t0, timings = time.perf_counter(), timings if timings is not None else {}
    if stage.setup is not None:  # contract v1: in-process only
        if engine != "local":
            raise GeosqlError(f"stage {stage.name} runs in-process only (engine local)")
        state = stage.setup(con, config)
        timings["setup"] = time.perf_counter() - t0
        try:
            yield from _local(lambda b: stage.process(state, b, config), first, it)
        finally:
            if stage.close is not None and state is not None:
                stage.close(state)
        return
    spec = stage.prepare(con, config)
    timings["setup"] = time.perf_counter() - t0
    if engine == "local":
        w = Worker(stage.name, spec, config, stage_module(stage))
        timings["setup"] = time.perf_counter() - t0
        try:
            yield from _local(w, first, it)
        finally:
            w.close()
    elif engine == "process":
        yield from _pool(stage, spec, config, first, it, workers)
    else:
        raise GeosqlError(f"unknown engine {engine!r} (local, process; ray: see `--engine ray`)")


def _local(fn, first: pa.Table, rest: Iterator[pa.Table]) -> Iterator[tuple[pa.Table, BatchResult]]:
    for b in itertools.chain((first,), rest):
        yield b, fn(_strip(b))


def _strip(batch: pa.Table) -> pa.Table:
    return batch.drop_columns([HASH_COL]) if HASH_COL in batch.column_names else batch


_WORKER: Worker | None = None


def _init(name: str, spec: Any, config: dict, module: str, cores: int) -> None:
    global _WORKER
    os.environ[CORES_ENV] = str(cores)
    _WORKER = Worker(name, spec, config, module)
    # closed when the pool shuts the process down (multiprocessing runs these finalizers)
    mp.util.Finalize(_WORKER, _WORKER.close, exitpriority=10)


def _call(batch: pa.Table) -> BatchResult:
    assert _WORKER is not None
    return _WORKER(batch)


def _pool(stage, spec, config, first, rest, workers: int) -> Iterator[tuple[pa.Table, BatchResult]]:
    """Spawned worker processes, each opened once; batches in flight bounded, results in order."""
    ctx = mp.get_context("spawn")
    n = max(1, workers)
    with ProcessPoolExecutor(
        n,
        mp_context=ctx,
        initializer=_init,
        initargs=(stage.name, spec, config, stage_module(stage), max(1, worker_cores() // n)),
    ) as pool:
        inflight: deque[tuple[pa.Table, Future]] = deque()
        for b in itertools.chain((first,), rest):
            inflight.append((b, pool.submit(_call, _strip(b))))
            if len(inflight) >= 2 * n:
                b0, f = inflight.popleft()
                yield b0, f.result()
        while inflight:
            b0, f = inflight.popleft()
            yield b0, f.result()
