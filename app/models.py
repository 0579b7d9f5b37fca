"""Imports every model so that the metadata is complete for Alembic and the tests."""

from app.accounts.models import Token, User, UserSession
from app.audit.models import AuditEvent
from app.coordination.models import (
    CaseAction,
    CaseClaim,
    CaseEvent,
    CaseHandoff,
    CaseMention,
    CaseMerge,
    CaseMessage,
    CaseRoute,
    JobRun,
    ResponseTarget,
)
from app.geography.models import CityBoundary, Postcode, Ward
from app.hotspots.models import AlertDelivery, AlertSubscription, Finding, HexCount, WardDeprivation, WardPopulation
from app.mail.models import OutboxEmail
from app.partners.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationCategory,
    OrganisationWard,
    WardOfficerWard,
)
from app.reports.models import Category, Photo, Report, ReportCell, ReportFollower, ReportSupport

__all__ = [
    "AlertDelivery",
    "AlertSubscription",
    "AuditEvent",
    "CaseAction",
    "CaseClaim",
    "CaseEvent",
    "CaseHandoff",
    "CaseMention",
    "CaseMerge",
    "CaseMessage",
    "CaseRoute",
    "Category",
    "CityBoundary",
    "Finding",
    "HexCount",
    "Invitation",
    "JobRun",
    "Membership",
    "Organisation",
    "OrganisationCategory",
    "OrganisationWard",
    "OutboxEmail",
    "Photo",
    "Postcode",
    "Report",
    "ReportCell",
    "ReportFollower",
    "ReportSupport",
    "ResponseTarget",
    "Token",
    "User",
    "UserSession",
    "Ward",
    "WardDeprivation",
    "WardOfficerWard",
    "WardPopulation",
]
