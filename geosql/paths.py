"""Where things live: SQL files, the default warehouse, the optional ../shared folder."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def sql_dir() -> Path:
    """The `sql/` folder: inside the wheel as `geosql/_sql`, at the repo root in a checkout."""
    bundled = PACKAGE_DIR / "_sql"
    return bundled if bundled.is_dir() else REPO_ROOT / "sql"


def default_warehouse() -> Path:
    """`$GEOSQL_WAREHOUSE`, else `warehouse/geosql.duckdb` under the current directory."""
    env = os.environ.get("GEOSQL_WAREHOUSE")
    return Path(env) if env else Path("warehouse") / "geosql.duckdb"


def models_dir(warehouse: str | Path) -> Path:
    """Folder beside a warehouse file where trained models and indexes are kept."""
    p = Path(warehouse)
    d = p.parent / f"{p.stem}.models"
    d.mkdir(parents=True, exist_ok=True)
    return d


def shared_dir() -> Path | None:
    """`$GEOSQL_SHARED` or `../shared` beside the checkout, when present (dev data, never required)."""
    env = os.environ.get("GEOSQL_SHARED")
    cand = Path(env) if env else REPO_ROOT.parent / "shared"
    return cand if cand.is_dir() else None
