"""Reference geography loaded from ../shared/data/coventry/ by ``flask geo load``."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry, WKBElement, WKTElement
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Ward(Base):
    """An electoral ward of one boundary vintage (GSS codes change when boundaries do)."""

    __tablename__ = "wards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(9), unique=True, comment="ONS GSS code, e.g. E05001218")
    name: Mapped[str] = mapped_column(sa.String(100))
    vintage: Mapped[str] = mapped_column(sa.String(7), comment="Boundary vintage, YYYY-MM")
    geom: Mapped[WKBElement | WKTElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True, nullable=False)
    )


class CityBoundary(Base):
    """The local authority outline: drawn on maps and used to explain refusals."""

    __tablename__ = "city_boundaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(9), unique=True, comment="ONS LAD code")
    name: Mapped[str] = mapped_column(sa.String(100))
    vintage: Mapped[str] = mapped_column(sa.String(7))
    geom: Mapped[WKBElement | WKTElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True, nullable=False)
    )


class Postcode(Base):
    """A live postcode's centroid (OS Code-Point Open)."""

    __tablename__ = "postcodes"

    postcode: Mapped[str] = mapped_column(sa.String(8), primary_key=True, comment="Normalised, e.g. CV1 5RR")
    lon: Mapped[float]
    lat: Mapped[float]
    ward_code: Mapped[str] = mapped_column(sa.String(9))
    lsoa21_code: Mapped[str] = mapped_column(sa.String(9))
