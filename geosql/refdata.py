"""Reference data (being written)."""

import click


@click.group("refdata")
def refdata_cmd() -> None:
    """Load reference tables (not implemented yet)."""


def load_defaults(con, only_missing: bool = False):
    return []
