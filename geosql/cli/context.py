"""What every CLI module shares: the warehouse path, opening it, settings and table printing.

Only modules of the CLI (`geosql/cli/`, `udfs/<family>/cli.py`) import this; the library never
does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from geosql.errors import GeosqlError
from geosql.textable import text_table


def warehouse_path(ctx: click.Context) -> Path:
    """The warehouse file chosen with -w / $GEOSQL_WAREHOUSE / the default."""
    return ctx.find_root().obj["warehouse"]


def open_warehouse(ctx: click.Context, read_only: bool = False):
    """`geosql.connect()` on the chosen warehouse (use as a context manager)."""
    import geosql

    return geosql.connect(warehouse_path(ctx), read_only=read_only)


def parse_settings(settings: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`--set KEY=VALUE` options -> {key: raw value}; the stage coerces and checks them."""
    out: dict[str, str] = {}
    for s in settings:
        if "=" not in s:
            raise GeosqlError(f"--set expects KEY=VALUE, got {s!r}")
        k, v = s.split("=", 1)
        out[k.strip()] = v
    return out


def table(df: Any) -> str:
    """A polars DataFrame as a plain text table (see `geosql.textable`)."""
    return text_table(df)
