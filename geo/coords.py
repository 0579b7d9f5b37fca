"""Validation of WGS84 coordinates typed, posted or computed anywhere in TellUs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.errors import InvalidCoordinates


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS84 point; ``lon`` is x and ``lat`` is y, as in GeoJSON."""

    lon: float
    lat: float

    def wkt(self) -> str:
        return f"POINT({self.lon!r} {self.lat!r})"


def parse_coordinate(value: object, name: str) -> float:
    """Turn a submitted latitude or longitude into a finite float.

    Raises InvalidCoordinates if it is missing, not a number, NaN or infinite.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidCoordinates(f"Enter a {name}, or choose a place on the map")
    if isinstance(value, bool):
        raise InvalidCoordinates(f"The {name} must be a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidCoordinates(f"The {name} must be a number, like 52.4068") from None
    if not math.isfinite(number):
        raise InvalidCoordinates(f"The {name} must be a finite number")
    return number


def validate_point(lon: object, lat: object) -> Point:
    """Return a ``Point`` for a longitude and latitude in degrees.

    Raises InvalidCoordinates if either is missing, not finite, or out of range
    (latitude -90 to 90, longitude -180 to 180).
    """
    x = parse_coordinate(lon, "longitude")
    y = parse_coordinate(lat, "latitude")
    if not -90.0 <= y <= 90.0:
        raise InvalidCoordinates("The latitude must be between -90 and 90 degrees")
    if not -180.0 <= x <= 180.0:
        raise InvalidCoordinates("The longitude must be between -180 and 180 degrees")
    return Point(lon=x, lat=y)
