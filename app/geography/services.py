"""Loading and querying the reference geography."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from geoalchemy2 import WKTElement
from shapely.geometry import MultiPolygon, shape
from sqlalchemy.orm import Session

from app.geography.models import CityBoundary, Postcode, Ward
from app.hotspots.models import WardDeprivation
from geo.coords import Point
from geo.deprivation import ward_deprivation
from geo.errors import UnknownPostcode
from geo.postcodes import normalise_postcode, outward_code
from geo.wards import WardMatch, find_ward


@dataclass(frozen=True)
class LoadResult:
    wards: int
    boundaries: int
    postcodes: int
    deprivation_wards: int
    lsoas: int


def _multipolygon(geometry: dict[str, object]) -> WKTElement:
    geom = shape(geometry)
    if geom.geom_type == "Polygon":
        geom = MultiPolygon([geom])
    return WKTElement(geom.wkt, srid=4326)


def _features(path: Path) -> list[dict]:  # type: ignore[type-arg]
    with path.open(encoding="utf-8") as fh:
        features: list[dict] = json.load(fh)["features"]  # type: ignore[type-arg]
    return features


def load_reference_data(session: Session, data_dir: Path) -> LoadResult:
    """Insert or update wards, the city boundary, postcodes and ward IMD 2025 from ``data_dir``.

    Ward deprivation is aggregated from ``lsoa21_imd2025.geojson`` (``geo.deprivation``) and
    its rows replaced. Running it again updates rows in place, so it is harmless. Raises
    FileNotFoundError if a file is missing and KeyError if a file lacks an expected property.
    """
    wards = {w.code: w for w in session.scalars(sa.select(Ward))}
    ward_features = _features(data_dir / "wards.geojson")
    for feature in ward_features:
        props = feature["properties"]
        ward = wards.get(props["ward_code"]) or Ward(code=props["ward_code"])
        ward.name = props["ward_name"]
        ward.vintage = props["vintage"]
        ward.geom = _multipolygon(feature["geometry"])
        session.add(ward)

    boundaries = {b.code: b for b in session.scalars(sa.select(CityBoundary))}
    boundary_features = _features(data_dir / "coventry_boundary.geojson")
    for feature in boundary_features:
        props = feature["properties"]
        boundary = boundaries.get(props["lad_code"]) or CityBoundary(code=props["lad_code"])
        boundary.name = props["lad_name"]
        boundary.vintage = props["vintage"]
        boundary.geom = _multipolygon(feature["geometry"])
        session.add(boundary)

    with (data_dir / "postcodes.csv").open(encoding="utf-8", newline="") as fh:
        rows = [
            {
                "postcode": normalise_postcode(row["postcode"]),
                "lon": float(row["longitude"]),
                "lat": float(row["latitude"]),
                "ward_code": row["ward_code"],
                "lsoa21_code": row["lsoa21_code"],
            }
            for row in csv.DictReader(fh)
        ]
    session.execute(sa.delete(Postcode))
    session.execute(sa.insert(Postcode), rows)

    lsoa_features = _features(data_dir / "lsoa21_imd2025.geojson")
    deprivation = ward_deprivation(lsoa_features, ward_features)
    session.execute(sa.delete(WardDeprivation))
    if deprivation:
        session.execute(
            sa.insert(WardDeprivation),
            [
                {
                    "ward_code": imd.ward_code,
                    "lsoa_count": imd.lsoa_count,
                    "mean_score": imd.mean_score,
                    "median_decile": imd.median_decile,
                    "most_deprived_count": imd.most_deprived_count,
                }
                for imd in deprivation.values()
            ],
        )
    session.flush()
    return LoadResult(
        wards=len(ward_features),
        boundaries=len(boundary_features),
        postcodes=len(rows),
        deprivation_wards=len(deprivation),
        lsoas=len(lsoa_features),
    )


@dataclass(frozen=True)
class PostcodeMatch:
    postcode: str
    point: Point
    ward_code: str


def lookup_postcode(session: Session, text: str | None) -> PostcodeMatch:
    """Find a Coventry postcode's centroid, whatever its case and spacing.

    Raises InvalidPostcode if ``text`` is not shaped like a postcode, and UnknownPostcode
    if it is not a live Coventry postcode (with a message saying which).
    """
    postcode = normalise_postcode(text)
    row = session.get(Postcode, postcode)
    if row is not None:
        return PostcodeMatch(postcode, Point(row.lon, row.lat), row.ward_code)
    outward = outward_code(postcode)
    known_area = session.scalar(sa.select(sa.literal(1)).where(Postcode.postcode.like(f"{outward} %")).limit(1))
    if known_area:
        raise UnknownPostcode(f"We cannot find {postcode}. Check it is right, or find the place on the map instead")
    raise UnknownPostcode(
        f"{postcode} is not a Coventry postcode. TellUs covers Coventry only: "
        "enter a Coventry postcode, or find the place on the map"
    )


def ward_for_point(session: Session, point: Point) -> WardMatch:
    """Return the ward for ``point``; raises OutsideCoventry as ``geo.wards.find_ward`` does."""
    return find_ward(session, Ward.__table__, point)  # type: ignore[arg-type]


def ward_names(session: Session) -> dict[str, str]:
    """Return {ward code: ward name}, in name order."""
    return dict(session.execute(sa.select(Ward.code, Ward.name).order_by(Ward.name)).tuples().all())


def ward_outlines(session: Session) -> dict[str, object]:
    """Return the wards as a GeoJSON FeatureCollection (for drawing maps)."""
    rows = session.execute(sa.select(Ward.code, Ward.name, sa.func.ST_AsGeoJSON(Ward.geom)).order_by(Ward.name)).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": json.loads(geom)}
            for code, name, geom in rows
        ],
    }
