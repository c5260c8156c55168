"""The `geosql` command line: a thin layer over the library, which never imports it.

Core commands live in this package, one module per area; each model family adds its own in
`udfs/<family>/cli.py` (registered with `registry.command`), imported here only.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from geosql.cli.core import cli

_CORE = ("ingest", "refdata", "evaluate", "bench", "report", "ray")


def get_cli() -> click.Group:
    """The full CLI: core commands plus those of every model family's `cli` module."""
    import udfs
    from geosql.registry import registry

    registry.load()
    for name in _CORE:
        importlib.import_module(f"geosql.cli.{name}")
    for mod in pkgutil.iter_modules(udfs.__path__):
        if mod.ispkg and not mod.name.startswith("_"):
            try:
                importlib.import_module(f"udfs.{mod.name}.cli")
            except ModuleNotFoundError as e:
                if e.name != f"udfs.{mod.name}.cli":
                    raise
    for cmd in registry.commands:
        if cmd.name not in cli.commands:
            cli.add_command(cmd)
    return cli


def main() -> None:
    get_cli()(prog_name="geosql")


__all__ = ["cli", "get_cli", "main"]
