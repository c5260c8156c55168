"""Stage settings: defaults, typed overrides (`--set k=v`), and the config key they hash to.

The one settings mechanism: every stage declares typed defaults; a user's string values are
coerced to the default's type, and a value that does not parse is an error, never a guess.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from geosql.errors import GeosqlError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def resolve_config(stage: Any, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stage defaults updated with overrides; unknown keys and unparsable values are errors."""
    cfg = dict(stage.defaults)
    for k, v in (overrides or {}).items():
        if k not in cfg:
            known = ", ".join(sorted(cfg)) or "none"
            raise GeosqlError(f"stage {stage.name!r} has no setting {k!r} (settings: {known})")
        cfg[k] = coerce(k, v, cfg[k])
    return cfg


def coerce(key: str, value: Any, default: Any) -> Any:
    """A raw value in the default's type (bool, int, float, str, JSON for lists/dicts)."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return json.loads(value)
    except ValueError as e:
        hint = " (true/false, yes/no, on/off, 1/0)" if isinstance(default, bool) else ""
        raise GeosqlError(f"setting {key}={value!r} is not a {type(default).__name__}{hint}") from e


def config_key(stage: Any, config: dict[str, Any], upstream: dict[str, str] | None = None) -> str:
    """Hash of what changes results: stage name and version, the settings that are not
    runtime-only, and the config keys of the upstream stages in use."""
    relevant = {k: v for k, v in config.items() if k not in stage.runtime_keys}
    blob = json.dumps(
        {"stage": stage.name, "v": stage.version, "up": upstream or {}, **relevant},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:16]
