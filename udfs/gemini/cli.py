"""`geosql gemini jobs|cancel|prices|usage`: batch jobs, prices and spending."""

from __future__ import annotations

import click

from geosql.cli.context import open_warehouse, table
from geosql.errors import GeosqlError
from geosql.registry import registry
from udfs.gemini.batch import TERMINAL, job_state
from udfs.gemini.online import check_credentials, make_client
from udfs.gemini.transport import brief


@click.group("gemini")
def gemini_cmd() -> None:
    """Gemini calls, batch jobs and prices (stages: llm-geoparse, hybrid-geoparse)."""


def _api(what: str, fn):
    try:
        return fn()
    except GeosqlError:
        raise
    except Exception as e:  # one line, never a traceback
        raise GeosqlError(f"Gemini Batch API {what} failed: {brief(e)}") from None


@gemini_cmd.command("jobs")
@click.option("--refresh", is_flag=True, help="Ask the API for the state of unfinished jobs.")
@click.pass_context
def jobs_cmd(ctx: click.Context, refresh: bool) -> None:
    """List Batch API jobs recorded in the warehouse."""
    with open_warehouse(ctx, read_only=not refresh) as con:
        if refresh:
            open_jobs = con.execute(
                "SELECT job_name FROM llm_batch_jobs WHERE NOT coalesce(ingested, false)"
                " AND job_name NOT IN (SELECT job_name FROM llm_batch_done)"
            ).fetchall()
            if open_jobs:
                check_credentials("batch")
                client = make_client()
                for (name,) in open_jobs:
                    job = _api(f"get {name}", lambda n=name: client.batches.get(name=n))
                    con.execute(
                        "UPDATE llm_batch_jobs SET state = ?, updated = now() WHERE job_name = ?",
                        [job_state(job), name],
                    )
        df = con.sql(
            "SELECT j.job_name, j.model, j.phase, j.source, j.n_requests,"
            " coalesce(d.state, j.state) AS state, d.job_name IS NOT NULL OR"
            " coalesce(j.ingested, false) AS collected, j.created, coalesce(d.finished, j.updated)"
            " AS updated, coalesce(d.error, j.error) AS error"
            " FROM llm_batch_jobs j LEFT JOIN llm_batch_done d USING (job_name) ORDER BY j.created"
        ).pl()
    click.echo(table(df) if df.height else "no batch jobs")


@gemini_cmd.command("cancel")
@click.argument("job_name")
@click.pass_context
def cancel_cmd(ctx: click.Context, job_name: str) -> None:
    """Cancel a running batch job (its requests are sent again by the next run)."""
    check_credentials("batch")
    client = make_client()
    _api(f"cancel {job_name}", lambda: client.batches.cancel(name=job_name))
    state = job_state(_api(f"get {job_name}", lambda: client.batches.get(name=job_name)))
    with open_warehouse(ctx) as con:
        con.execute(
            "UPDATE llm_batch_jobs SET state = ?, ingested = ?, updated = now() WHERE job_name = ?",
            [state, state in TERMINAL, job_name],
        )
    click.echo(f"{job_name}: {state}")


@gemini_cmd.command("prices")
@click.option(
    "--set",
    "set_",
    nargs=3,
    type=(str, float, float),
    default=None,
    metavar="MODEL IN OUT",
    help="Set USD per 1M input and output tokens for MODEL.",
)
@click.option("--batch-discount", type=float, default=None, help="With --set: share off for batch.")
@click.pass_context
def prices_cmd(ctx: click.Context, set_: tuple | None, batch_discount: float | None) -> None:
    """Show (or edit) the price table used for cost estimates."""
    with open_warehouse(ctx, read_only=set_ is None) as con:
        if set_:
            model, p_in, p_out = set_
            if p_in < 0 or p_out < 0 or not 0 <= (batch_discount or 0) <= 1:
                raise GeosqlError("prices must be >= 0 and --batch-discount within 0..1")
            con.execute(
                "INSERT INTO llm_prices VALUES (?, ?, ?, coalesce(?, 0.5), 'set by user')"
                " ON CONFLICT DO UPDATE SET usd_per_1m_input = excluded.usd_per_1m_input,"
                " usd_per_1m_output = excluded.usd_per_1m_output,"
                " batch_discount = coalesce(?, llm_prices.batch_discount), note = 'set by user'",
                [model, p_in, p_out, batch_discount, batch_discount],
            )
        click.echo(table(con.sql("SELECT * FROM llm_prices ORDER BY model").pl()))


@gemini_cmd.command("usage")
@click.pass_context
def usage_cmd(ctx: click.Context) -> None:
    """Calls, failures, tokens and estimated cost per model and mode (from llm_calls)."""
    with open_warehouse(ctx, read_only=True) as con:
        df = con.sql(
            "SELECT c.model, c.mode, count(*) AS calls, count(*) FILTER (response IS NULL)"
            " AS failed, sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out,"
            " round(sum((tokens_in * p.usd_per_1m_input + tokens_out * p.usd_per_1m_output)"
            "   / 1e6 * CASE WHEN c.mode = 'batch' THEN 1 - coalesce(p.batch_discount, 0)"
            "   ELSE 1 END), 4) AS est_cost_usd"
            " FROM llm_calls c LEFT JOIN llm_prices p ON p.model = c.model"
            " GROUP BY ALL ORDER BY ALL"
        ).pl()
    click.echo(table(df) if df.height else "no LLM calls yet")


registry.command(gemini_cmd)
