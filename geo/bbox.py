"""Bounding boxes sent by the map, validated before any SQL runs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.errors import InvalidBBox

# Coventry spans about 0.25 x 0.13 degrees; allow generous margins but refuse a country.
MAX_SPAN_DEGREES = 1.0


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS84 bounding box in GeoJSON order."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def width(self) -> float:
        return self.max_lon - self.min_lon

    @property
    def height(self) -> float:
        return self.max_lat - self.min_lat

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat


def parse_bbox(text: str | None, *, max_span: float = MAX_SPAN_DEGREES) -> BBox:
    """Parse ``"min_lon,min_lat,max_lon,max_lat"`` as sent by Leaflet's ``toBBoxString()``.

    Raises InvalidBBox, with a message that says what to fix, if it is missing, has the
    wrong number of values, holds something that is not a finite number, is out of
    range, is inverted or empty, or spans more than ``max_span`` degrees either way.
    """
    if not text or not text.strip():
        raise InvalidBBox("bbox is required: give min_lon,min_lat,max_lon,max_lat in degrees")
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidBBox(
            f"bbox must have 4 comma-separated numbers (min_lon,min_lat,max_lon,max_lat), not {len(parts)}"
        )
    values: list[float] = []
    for name, part in zip(("min_lon", "min_lat", "max_lon", "max_lat"), parts, strict=True):
        try:
            number = float(part)
        except ValueError:
            raise InvalidBBox(f"bbox {name} must be a number, not {part.strip()[:20]!r}") from None
        if not math.isfinite(number):
            raise InvalidBBox(f"bbox {name} must be a finite number")
        values.append(number)
    box = BBox(*values)
    for name, value, limit in (
        ("min_lon", box.min_lon, 180),
        ("max_lon", box.max_lon, 180),
        ("min_lat", box.min_lat, 90),
        ("max_lat", box.max_lat, 90),
    ):
        if abs(value) > limit:
            raise InvalidBBox(f"bbox {name} must be between -{limit} and {limit}")
    if box.width <= 0 or box.height <= 0:
        raise InvalidBBox("bbox min_lon must be less than max_lon, and min_lat less than max_lat")
    if box.width > max_span or box.height > max_span:
        raise InvalidBBox(
            f"bbox is too large ({box.width:.2f} x {box.height:.2f} degrees): "
            f"zoom in to at most {max_span:g} degree across"
        )
    return box
