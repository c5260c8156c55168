"""Core commands: init, run, stages, sql, shell (the `cli` group itself)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geosql.cli.context import open_warehouse, parse_settings, table, warehouse_path
from geosql.errors import GeosqlError
from geosql.paths import default_warehouse

INTERRUPTED = "interrupted: what was committed is kept; rerun the command to resume"


class _Group(click.Group):
    """Turns GeosqlError (and DuckDB errors) into one-line messages with exit code 1, and
    Ctrl-C into one line with exit code 130."""

    def invoke(self, ctx: click.Context):
        import duckdb

        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, duckdb.InterruptException):
            click.echo(INTERRUPTED, err=True)
            ctx.exit(130)
        except GeosqlError as e:
            raise click.ClickException(str(e)) from e
        except duckdb.Error as e:
            raise click.ClickException(str(e).splitlines()[0]) from e
        except OSError as e:  # a file that cannot be written or read: one line
            raise click.ClickException(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from e


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--warehouse",
    "-w",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB warehouse file [env GEOSQL_WAREHOUSE; default warehouse/geosql.duckdb].",
)
@click.version_option(package_name="geosql")
@click.pass_context
def cli(ctx: click.Context, warehouse: Path | None) -> None:
    """geosql: where do the images in a vision-language dataset come from?

    Ingest captions, run model stages (geoparse, llm-geoparse, clip-embed...), then ask SQL
    views such as country_distribution and gdp_correlation.
    """
    ctx.ensure_object(dict)
    ctx.obj["warehouse"] = warehouse or default_warehouse()


@cli.command()
@click.option("--skip-refdata", is_flag=True, help="Create tables and views only.")
@click.pass_context
def init(ctx: click.Context, skip_refdata: bool) -> None:
    """Create the warehouse: schema, views and the bundled reference data (idempotent)."""
    from geosql import refdata

    with open_warehouse(ctx) as con:
        if not skip_refdata:
            for line in refdata.load_defaults(con, only_missing=True):
                click.echo(line)
            from udfs.gazetteer import load_gazetteer

            load_gazetteer(con)
            click.echo("gazetteer index ready")
    click.echo(f"warehouse ready: {warehouse_path(ctx)}")


@cli.command("run")
@click.argument("stage")
@click.option("--where", default=None, help="SQL filter on the stage's input rows.")
@click.option("--limit", type=int, default=None, help="Process at most N pending rows.")
@click.option("--batch-size", type=int, default=None, help="Rows per batch (one commit each).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Stage setting.")
@click.option("--retry-errors", is_flag=True, help="Also retry rows that failed before.")
@click.option(
    "--engine",
    type=click.Choice(["local", "process", "ray"]),
    default="local",
    show_default=True,
    help="Where the stage code runs: this process, spawned worker processes, or Ray.",
)
@click.option(
    "--workers", type=int, default=2, show_default=True, help="Worker processes or actors."
)
@click.option("--input", "inputs", multiple=True, help="Ray: caption shards (glob; repeatable).")
@click.option(
    "--output", type=click.Path(file_okay=False, path_type=Path), help="Ray: parts folder."
)
@click.option("--address", default=None, help="Ray: cluster address (default: a local Ray).")
@click.option("--gpus-per-worker", type=float, default=0.0, help="Ray: GPUs per actor.")
@click.option("--dataset", default=None, help="Ray: dataset name of the shards (as in ingest).")
@click.option("--id-col", default=None, help="Ray: row id column of the shards (as in ingest).")
@click.option("--text-col", default="text", show_default=True, help="Ray: caption text column.")
@click.option("--image-col", default=None, help="Ray: image path column.")
@click.pass_context
def run_cmd(ctx, stage, where, limit, batch_size, settings, retry_errors, engine, workers,
            inputs, output, address, gpus_per_worker, dataset, id_col, text_col, image_col) -> None:  # fmt: skip
    """Run a model STAGE over the rows it has not processed yet (see `geosql stages`).

    With --engine ray the stage reads caption shards directly (--input, --dataset) and writes
    Parquet parts to --output; `geosql attach OUTPUT` brings them into the warehouse.
    """
    config = parse_settings(settings)
    if engine == "ray":
        from geosql.ray_engine import run_ray

        if not inputs or output is None or not dataset:
            raise GeosqlError(
                "--engine ray needs --input SHARDS, --output FOLDER and --dataset NAME"
            )
        if where or limit is not None or retry_errors:
            raise GeosqlError("--where, --limit and --retry-errors apply to local runs only")
        mapping = {"text_col": text_col, "id_col": id_col, "image_col": image_col}
        res = run_ray(
            warehouse_path(ctx), stage, list(inputs), output, dataset=dataset, config=config,
            mapping=mapping, address=address, workers=workers, gpus_per_worker=gpus_per_worker,
            batch_size=batch_size,
        )  # fmt: skip
        click.echo(res.line())
        if res.failed:
            raise SystemExit(1)
        return
    from geosql.runner import run_stage

    with open_warehouse(ctx) as con:
        summary = run_stage(
            con,
            stage,
            config=config,
            where=where,
            limit=limit,
            batch_size=batch_size,
            retry_errors=retry_errors,
            engine=engine,
            workers=workers,
        )
    click.echo(summary.line())


@cli.group(invoke_without_command=True)
@click.option("--runs", "n_runs", type=int, default=10, help="Recent runs to show per stage.")
@click.pass_context
def stages(ctx: click.Context, n_runs: int) -> None:
    """List the stages, their settings, the configs in use and the run history (rows, errors,
    usage counters such as tokens, cache hits and OOM halvings)."""
    if ctx.invoked_subcommand is not None:
        return
    from geosql.registry import registry

    registry.load()
    for st in sorted(registry.stages.values(), key=lambda s: s.name):
        extra = f"  [extra: {st.extra}]" if st.extra else ""
        click.echo(f"{st.name}: {st.description}{extra}")
        for k, v in st.defaults.items():
            click.echo(f"    --set {k}={v}")
    for fam, why in registry.broken.items():
        click.echo(f"(family {fam} failed to load: {why})")
    if not Path(warehouse_path(ctx)).exists():
        return
    with open_warehouse(ctx, read_only=True) as con:
        current = con.sql(
            "SELECT stage, scope, config_key, how, set_at FROM stage_current ORDER BY ALL"
        ).pl()
        rows = con.sql(
            "SELECT run_id, stage, scope, config_key, started, status, rows_done, rows_failed,"
            " rows_pending, round(cost_usd, 4) AS cost_usd,"
            " round(epoch(coalesce(finished, now()::TIMESTAMP) - started), 1) AS seconds, usage"
            " FROM (SELECT *, row_number() OVER (PARTITION BY stage ORDER BY run_id DESC) AS r"
            f"       FROM stage_runs) WHERE r <= {int(n_runs)} ORDER BY stage, run_id"
        ).pl()
    if current.height:
        click.echo("\nconfigs in use (views read these; change with `geosql stages use`):")
        click.echo(table(current))
    if rows.height:
        click.echo("\nrun history:")
        click.echo(table(rows))


@stages.command("use")
@click.argument("stage")
@click.argument("config_key")
@click.option("--scope", default=None, help="Scope (e.g. the method) when the key has several.")
@click.pass_context
def stages_use(ctx: click.Context, stage: str, config_key: str, scope: str | None) -> None:
    """Make the views read STAGE's results of CONFIG_KEY (a key or a unique prefix)."""
    from geosql.runner import set_current

    with open_warehouse(ctx) as con:
        key = set_current(con, stage, config_key, scope)
    click.echo(f"{stage}: views now read config {key}")


@cli.command()
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "parquet"]),
    default="table",
    show_default=True,
    help="Output format (parquet needs --out).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.option("--write", is_flag=True, help="Open the warehouse read-write (default read-only).")
@click.pass_context
def sql(ctx: click.Context, query: str, fmt: str, out: Path | None, write: bool) -> None:
    """Run a SQL QUERY against the warehouse and print or save the result."""
    with open_warehouse(ctx, read_only=not write) as con:
        rel = con.sql(query)
        if rel is None:
            click.echo("ok")
            return
        df = rel.pl()
    if fmt == "parquet" and out is None:
        raise GeosqlError("--format parquet needs --out FILE")
    if out is not None and not out.parent.is_dir():
        raise GeosqlError(f"--out {out}: folder {out.parent} does not exist")
    if fmt == "table":
        text = table(df)
    elif fmt == "csv":
        text = df.write_csv()
    elif fmt == "json":
        text = df.write_ndjson() if out else df.write_json()
    else:
        df.write_parquet(out)
        click.echo(f"wrote {df.height} rows to {out}")
        return
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {df.height} rows to {out}")
    else:
        click.echo(text.rstrip("\n"))


@cli.command()
@click.pass_context
def shell(ctx: click.Context) -> None:
    """Interactive SQL prompt on the warehouse (UDFs registered); end with Ctrl-D."""
    from geosql.db import view_docs

    with open_warehouse(ctx) as con:
        click.echo(f"geosql shell on {warehouse_path(ctx)}. Views:")
        for name, doc in view_docs().items():
            click.echo(f"  {name}: {doc[:90]}")
        buf = ""
        while True:
            try:
                line = input("geosql> " if not buf else "   ...> ")
            except EOFError:
                click.echo("")
                break
            buf += line + "\n"
            if not buf.strip().endswith(";") and sys.stdin.isatty():
                continue
            q, buf = buf.strip().rstrip(";"), ""
            if not q:
                continue
            try:
                rel = con.sql(q)
                click.echo(table(rel.pl()) if rel is not None else "ok")
            except Exception as e:  # keep the shell alive
                click.echo(f"error: {str(e).splitlines()[0]}", err=True)
