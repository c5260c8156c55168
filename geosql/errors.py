"""User-facing errors: one line, no traceback, printed by the CLI."""

from __future__ import annotations


class GeosqlError(Exception):
    """An error the user can act on (bad input, missing file, missing extra)."""


class MissingExtra(GeosqlError):
    def __init__(self, module: str, extra: str):
        super().__init__(
            f"this needs the Python module '{module}': install the extra with "
            f"`pip install 'geosql[{extra}]'` (or `make setup EXTRAS={extra}`)"
        )


def require(module: str, extra: str):
    """Import a heavy optional module lazily, or raise a clear 'install extra X' error."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingExtra(module, extra) from e
