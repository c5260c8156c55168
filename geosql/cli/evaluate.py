"""`geosql eval` (temporary shim until the command moves here)."""

from geosql.evaluate import eval_cmd
from geosql.registry import registry

registry.command(eval_cmd)
