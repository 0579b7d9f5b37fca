"""Routing: sending a published report to the organisations that should see it.

When a report is published, ``route_published_report`` sends it to every active organisation
whose coverage includes both its ward and its category (several at once where several fit).
A report that matches nobody, or that every organisation declines, waits in the council
triage queue (no live route and no lead), where an administrator routes it with
``route_to``. Every function flushes but never commits, and writes a ``CaseEvent`` and an
audit event for each change.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import deadlines, trigger
from app.coordination.errors import CoordinationError
from app.coordination.history import log
from app.coordination.models import REASON_MAX, CaseRoute, EventKind
from app.coordination.queries import load_case
from app.db import utcnow
from app.partners.models import Organisation, OrganisationCategory, OrganisationWard
from app.partners.services import NotAllowed
from app.reports.models import Report

NO_MATCH = "No organisation covers this ward and category"


def matching_organisations(session: Session, report: Report) -> list[Organisation]:
    """Active organisations whose coverage includes ``report``'s ward and category, by name."""
    return list(
        session.scalars(
            sa.select(Organisation)
            .where(
                Organisation.active.is_(True),
                sa.exists().where(
                    OrganisationWard.organisation_id == Organisation.id,
                    OrganisationWard.ward_code == report.ward_code,
                ),
                sa.exists().where(
                    OrganisationCategory.organisation_id == Organisation.id,
                    OrganisationCategory.category_id == report.category_id,
                ),
            )
            .order_by(Organisation.name)
        )
    )


def route_published_report(session: Session, report: Report, *, now: dt.datetime | None = None) -> list[CaseRoute]:
    """Route a report that has just been published to every organisation that covers it.

    Returns the new routes; none means the report is in the triage queue. Called by
    ``app.reports.services`` on publication; nobody acts, so events have no actor. An
    anti-social behaviour report is also checked for the Community Trigger hint
    (``app.coordination.trigger``).
    """
    moment = now or utcnow()
    organisations = matching_organisations(session, report)
    routes = [CaseRoute(report_id=report.id, organisation=org, routed_at=moment) for org in organisations]
    session.add_all(routes)
    for org in organisations:
        log(session, report, EventKind.ROUTED, by=None, organisation=org, new=org.label, detail="Coverage", at=moment)
    if not organisations:
        log(session, report, EventKind.TO_TRIAGE, by=None, detail=NO_MATCH, at=moment)
    session.flush()
    deadlines.refresh(session, report)
    record(
        session,
        "case_routed" if organisations else "case_to_triage",
        target=f"report:{report.id}",
        detail=f"By coverage to {', '.join(o.name for o in organisations)}" if organisations else NO_MATCH,
    )
    # An anti-social behaviour report may make a Community Trigger case for council triage.
    trigger.flag_if_needed(session, report, now=moment)
    return routes


def checked_reason(reason: str, field: str, missing: str) -> str:
    """The reason, tidied; raises CoordinationError naming ``field`` if empty or too long."""
    text = " ".join((reason or "").split())
    if not text:
        raise CoordinationError({field: missing})
    if len(text) > REASON_MAX:
        raise CoordinationError({field: f"The reason must be {REASON_MAX} characters or fewer"})
    return text


def route_to(
    session: Session,
    report: Report,
    organisation: Organisation,
    *,
    reason: str,
    by: User,
    ip: str = "",
    now: dt.datetime | None = None,
) -> CaseRoute:
    """Triage: send ``report`` to ``organisation`` (any active one), saying why.

    An organisation that declined it before gets it again. Raises NotAllowed unless ``by`` is
    a council administrator; CoordinationError if the report is not published or no longer
    open, the organisation is inactive, the reason is missing or too long, or the
    organisation already has the report.
    """
    if not permissions.can_triage(by):
        raise NotAllowed("You cannot do that")
    errors: dict[str, str] = {}
    if not report.is_published or not report.status.is_open:
        errors["organisation"] = "Only published, open reports can be routed"
    elif not organisation.active:
        errors["organisation"] = f"{organisation.label} is inactive: choose an active organisation"
    case = load_case(session, report.id)
    if case is not None and not errors and organisation.id in case.organisation_ids:
        errors["organisation"] = f"{organisation.label} already has this report"
    try:
        text = checked_reason(reason, "reason", "Say why you are routing it to this organisation")
    except CoordinationError as exc:
        errors.update(exc.errors)
    if errors:
        raise CoordinationError(errors)
    moment = now or utcnow()
    route = case.route_of(organisation) if case else None
    again = route is not None
    if route is None:
        route = CaseRoute(report_id=report.id, organisation=organisation)
        session.add(route)
    route.routed_at, route.routed_by_id, route.reason = moment, by.id, text
    route.declined_at, route.decline_reason = None, ""
    log(
        session,
        report,
        EventKind.ROUTED,
        by=by,
        organisation=organisation,
        new=organisation.label,
        detail=("Routed again: " if again else "") + text,
        at=moment,
    )
    session.flush()
    deadlines.refresh(session, report)
    record(
        session, "case_routed", actor=by, target=f"report:{report.id}", ip=ip, detail=f"To {organisation.name}: {text}"
    )
    return route
