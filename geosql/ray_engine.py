"""`geosql run STAGE --engine ray`: a stage over Parquet/CSV/JSONL caption shards on Ray Data.

The driver opens the warehouse only to resolve the config key and run the stage's `prepare`,
then closes it: workers never touch it. Shards become a Ray dataset of paths;
`map_batches` runs `ShardRunner` (`geosql.shards`) as a callable class on an actor pool, so
the model is opened once per actor and each shard's parts land under the output folder.
Shards with a `_done` marker are skipped, so a rerun after a crash (of a worker or of the
driver) does only what is missing; a failed shard is retried once, then listed.
`geosql attach DIR` imports the parts into the warehouse with the same lineage as a local run.
"""

from __future__ import annotations

import glob as _glob
import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geosql
from geosql.errors import GeosqlError, require
from geosql.shards import RUN_FILE, ShardRunner, failure, marker, running
from geosql.worker import CORES_ENV, stage_module


@dataclass
class RayRun:
    """What one `--engine ray` invocation did."""

    stage: str
    config_key: str
    output: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    rows: int = 0

    def line(self) -> str:
        fail = (
            f", {len(self.failed)} failed (see `geosql ray status {self.output}`)"
            if self.failed
            else ""
        )
        return (
            f"{self.stage} [{self.config_key}] on ray: {len(self.done)} shards done"
            f" ({self.rows} rows), {len(self.skipped)} already done{fail}; parts in {self.output};"
            f" import them with `geosql attach {self.output}`"
        )


def _shards(pattern: str | list[str]) -> list[str]:
    pats = [pattern] if isinstance(pattern, str) else list(pattern)
    out: list[str] = []
    for p in pats:
        found = [p] if os.path.isfile(p) else sorted(_glob.glob(p, recursive=True))
        out += [f for f in found if os.path.isfile(f) and f not in out]
    if not out:
        raise GeosqlError(f"--input {pattern}: no file matches")
    return out


def _check_inputs(stage: Any, cfg: dict) -> None:
    """Only stages whose inputs read `captions` alone can run on shards."""
    import duckdb

    from geosql.runner import format_inputs

    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE captions (caption_id VARCHAR, dataset VARCHAR, language VARCHAR,"
            " text VARCHAR, url VARCHAR, image_path VARCHAR, source_file VARCHAR)"
        )
        try:
            con.sql(f"SELECT * FROM ({format_inputs(stage.inputs, cfg)}) LIMIT 0")
        except duckdb.Error as e:
            raise GeosqlError(
                f"stage {stage.name} reads warehouse tables besides captions"
                f" ({str(e).splitlines()[0]}): run it with --engine local or process"
            ) from e


def run_ray(
    warehouse: str | Path,
    name: str,
    inputs: str | list[str],
    output: str | Path,
    *,
    dataset: str,
    config: dict[str, Any] | None = None,
    mapping: dict[str, Any] | None = None,
    address: str | None = None,
    workers: int = 2,
    cpus_per_worker: float | None = None,
    gpus_per_worker: float = 0.0,
    batch_size: int | None = None,
    num_cpus: int | None = None,
) -> RayRun:
    """Run stage `name` over caption shards on Ray; parts go under `output`."""
    from geosql.runner import plan

    out = Path(output)
    shards = _shards(inputs)
    with geosql.connect(warehouse) as con:
        p = plan(con, name, config)
        stage, cfg = p.stage, p.config
        if stage.setup is not None:
            raise GeosqlError(f"stage {name} runs in-process only (engine local)")
        _check_inputs(stage, cfg)
        spec = stage.prepare(con, cfg)
    bs = batch_size or (stage.batch_size(cfg) if callable(stage.batch_size) else stage.batch_size)
    run = {
        "stage": name,
        "module": stage_module(stage),
        "config": cfg,
        "config_key": p.config_key,
        "scope": p.scope,
        "query": p.source,
        "batch_size": int(bs),
        "output": str(out.resolve()),
        "mapping": {"dataset": dataset, "text_col": "text", **(mapping or {})},
        "shards": [str(Path(s).resolve()) for s in shards],
    }
    out.mkdir(parents=True, exist_ok=True)
    prev = out / RUN_FILE
    if prev.exists():
        old = json.loads(prev.read_text())
        if old["config_key"] != run["config_key"] or old["mapping"] != run["mapping"]:
            raise GeosqlError(
                f"{out} holds results of config {old['config_key']} ({old['stage']}); use another"
                " --output folder for other settings or another dataset mapping"
            )
        run["shards"] = sorted(set(old["shards"]) | set(run["shards"]))
    prev.write_text(json.dumps(run, indent=1, sort_keys=True, default=str), encoding="utf-8")
    res = RayRun(name, p.config_key, out)
    todo = []
    for s in (str(Path(x).resolve()) for x in shards):
        (res.skipped if marker(out, s).exists() else todo).append(s)
    if not todo:
        return res
    ray = require("ray", "ray")
    tmp = tempfile.mkdtemp(prefix="geosql-ray-")
    started = False
    try:
        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                kw["address"] = address
            else:
                kw.update(num_cpus=num_cpus or os.cpu_count() or 2, _temp_dir=tmp)
            ray.init(**kw)
            started = True
        for attempt in range(2):  # a failed shard is retried once
            results = _map(ray, run, spec, todo, workers, cpus_per_worker, gpus_per_worker)
            todo = []
            for r in results:
                if r["status"] == "done":
                    res.done.append(r["shard"])
                    res.rows += int(r["rows"])
                elif r["status"] == "skipped":
                    res.skipped.append(r["shard"])
                elif attempt == 0:
                    todo.append(r["shard"])
                else:
                    res.failed[r["shard"]] = r["error"]
            if not todo:
                break
    finally:
        if started:
            ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def _map(ray, run, spec, shards, workers, cpus, gpus) -> list[dict[str, Any]]:
    """One Ray Data pass: a dataset of shard paths, an actor pool of ShardRunners."""
    import numpy as np

    class _Actor:
        def __init__(self, run: dict, spec: Any, cores: int) -> None:
            os.environ[CORES_ENV] = str(cores)  # what a stage may use on this actor
            self.runner = ShardRunner(run, spec)

        def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
            rows = [self.runner(str(s)) for s in batch["shard"]]
            return {k: [r[k] for r in rows] for k in ("shard", "status", "rows", "error")}

    ds = ray.data.from_items([{"shard": s} for s in shards]).repartition(len(shards))
    n_cpu = (
        cpus if cpus is not None else 0.5
    )  # below 1: leaves the read tasks a core (2-core deadlock)
    ds = ds.map_batches(
        _Actor,
        fn_constructor_kwargs={"run": run, "spec": spec, "cores": max(1, int(n_cpu))},
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=max(1, min(workers, len(shards)))),
        num_cpus=n_cpu,
        num_gpus=gpus or None,
        max_restarts=3,
        max_task_retries=3,
    )
    return ds.take_all()


def _running_line(info: dict) -> tuple[str, str]:
    """(status, note) of a shard with a `_running` marker: "running" with where and since when,
    or "stale" when its process is gone (this host only: a killed worker; the next run
    redoes the shard)."""
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("started", 0)))
    where = f"{info.get('host')} pid {info.get('pid')} since {since}"
    if info.get("host") == socket.gethostname():
        try:
            os.kill(int(info["pid"]), 0)
        except ProcessLookupError:
            return "stale", f"was running on {where}; its process is gone (rerun redoes it)"
        except (PermissionError, KeyError, ValueError, TypeError):
            pass
    return "running", f"on {where}"


def status(output: str | Path) -> list[dict[str, str]]:
    """Per shard of an output folder (shard, status, rows, detail): done, failed (detail: the
    error), running (detail: where and since when), stale (its worker died) or pending."""
    out = Path(output)
    f = out / RUN_FILE
    if not f.exists():
        raise GeosqlError(f"{out}: no {RUN_FILE}; not a `geosql run --engine ray` output folder")
    run = json.loads(f.read_text())
    rows = []
    for s in run["shards"]:
        if marker(out, s).exists():
            info = json.loads(marker(out, s).read_text())
            rows.append(
                {"shard": s, "status": "done", "rows": str(info.get("rows", "")), "detail": ""}
            )
        elif failure(out, s).exists():
            err = json.loads(failure(out, s).read_text()).get("error", "")
            rows.append({"shard": s, "status": "failed", "rows": "", "detail": err})
        elif running(out, s).exists():
            try:
                info = json.loads(running(out, s).read_text())
            except (OSError, ValueError):  # being rewritten or removed right now
                info = {}
            st, note = _running_line(info)
            rows.append({"shard": s, "status": st, "rows": "", "detail": note})
        else:
            rows.append({"shard": s, "status": "pending", "rows": "", "detail": ""})
    return rows
