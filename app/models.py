"""Imports every model so that the metadata is complete for Alembic and the tests."""

from app.geography.models import CityBoundary, Postcode, Ward
from app.reports.models import Category, Photo, Report, ReportCell

__all__ = ["Category", "CityBoundary", "Photo", "Postcode", "Report", "ReportCell", "Ward"]
