"""Former home of `geosql eval`; the library now lives in `geosql.eval` (kept for imports)."""

from geosql.eval import *  # noqa: F403
from geosql.eval import __all__  # noqa: F401
