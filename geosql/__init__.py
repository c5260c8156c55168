"""geosql: where do the images in a vision-language dataset come from?

import geosql
with geosql.connect("warehouse/geosql.duckdb") as con:
    con.sql("SELECT * FROM country_distribution").pl()
"""

from geosql.db import connect
from geosql.errors import GeosqlError

__all__ = ["connect", "GeosqlError", "__version__"]
__version__ = "0.1.0"
