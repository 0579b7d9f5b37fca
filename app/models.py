"""Imports every model so that the metadata is complete for Alembic and the tests."""

from app.accounts.models import Token, User, UserSession
from app.audit.models import AuditEvent
from app.coordination.models import CaseClaim, CaseEvent, CaseRoute
from app.geography.models import CityBoundary, Postcode, Ward
from app.mail.models import OutboxEmail
from app.partners.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationCategory,
    OrganisationWard,
    WardOfficerWard,
)
from app.reports.models import Category, Photo, Report, ReportCell

__all__ = [
    "AuditEvent",
    "CaseClaim",
    "CaseEvent",
    "CaseRoute",
    "Category",
    "CityBoundary",
    "Invitation",
    "Membership",
    "Organisation",
    "OrganisationCategory",
    "OrganisationWard",
    "OutboxEmail",
    "Photo",
    "Postcode",
    "Report",
    "ReportCell",
    "Token",
    "User",
    "UserSession",
    "Ward",
    "WardOfficerWard",
]
