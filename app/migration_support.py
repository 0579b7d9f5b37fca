"""What Alembic compares: shared by migrations/env.py and the models-vs-migrations test."""

from __future__ import annotations

import re
from typing import Any

from geoalchemy2 import alembic_helpers

# SpatiaLite's and PostGIS's own bookkeeping tables, which no model describes.
_SPATIAL_INTERNALS = re.compile(
    r"^(SpatialIndex|ElementaryGeometries|KNN2?|data_licenses|sql_statements_log|"
    r"geom_cols_ref_sys|spatial_ref_sys_(aux|all)|vector_layers.*|SE_.*|rl2map_configurations|"
    r"sqlite_stat\d|topology|layer|alembic_version)$",
    re.IGNORECASE,
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the spatial extensions' internal tables out of autogenerate comparisons."""
    if type_ == "table" and reflected and compare_to is None and _SPATIAL_INTERNALS.match(name or ""):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))  # type: ignore[no-untyped-call]
