"""Claims: an organisation takes a case on as lead or supporting partner, or declines it.

A case has at most one lead. The database enforces it (``uq_case_claims_one_lead``), so when
two organisations claim the lead at the same instant exactly one succeeds and the other gets
``ClaimConflict`` naming the organisation that leads now. Claiming the lead acknowledges a
new report (``app.coordination.lifecycle``: new → acknowledged needs a public update; this
module writes it for the partner, "Acknowledged by <organisation>.", as the first public update,
through ``status.change_status``, which emails it to the reporter). Every function flushes but
never commits, and writes a ``CaseEvent`` and an audit event.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import deadlines
from app.coordination.errors import ClaimConflict, CoordinationError
from app.coordination.history import log
from app.coordination.lifecycle import Actor, check_transition
from app.coordination.models import Case, CaseClaim, ClaimRole, EventKind
from app.coordination.queries import current_lead, load_case
from app.coordination.routing import checked_reason
from app.coordination.status import change_status
from app.db import utcnow
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports.models import Report, ReportStatus


def acknowledgement(organisation: Organisation) -> str:
    """The public update written when ``organisation`` claims the lead of a new report."""
    return f"Acknowledged by {organisation.label}."


def _case(session: Session, report: Report, organisation: Organisation, by: User) -> Case:
    case = load_case(session, report.id)
    if case is None or not permissions.can_work_on_case(by, case, organisation):
        raise NotAllowed("You cannot do that")
    return case


def claim_case(
    session: Session,
    report: Report,
    organisation: Organisation,
    *,
    role: ClaimRole | str,
    by: User,
    ip: str = "",
    now: dt.datetime | None = None,
) -> CaseClaim:
    """Record ``organisation`` as lead or supporting partner on ``report``, for ``by``.

    A supporting partner may go on to claim the lead. Claiming the lead of a new report moves
    it to acknowledged, with the public update ``acknowledgement(organisation)``.

    Raises NotAllowed unless ``by`` is a member of ``organisation`` and it is on the case (a
    live route or a claim); ClaimConflict if another organisation leads it; CoordinationError
    for an unknown role, a closed or resolved report, a role it already holds, or a lead
    stepping down to supporting.
    """
    case = _case(session, report, organisation, by)
    try:
        wanted = ClaimRole(role)
    except ValueError:
        raise CoordinationError({"role": "Choose whether to lead or support this case"}) from None
    if not report.status.is_open:
        raise CoordinationError({"role": f"This report is {report.status.label.lower()}: it cannot be claimed"})
    existing = case.claim_of(organisation)
    if existing is not None and existing.role == wanted:
        raise CoordinationError({"role": f"{organisation.label} is already the {wanted.label.lower()} on this case"})
    if existing is not None and existing.role == ClaimRole.LEAD:
        raise CoordinationError(
            {
                "role": f"{organisation.label} leads this case and cannot step down to supporting: "
                "hand the lead to another organisation instead"
            }
        )
    moment = now or utcnow()
    note = acknowledgement(organisation)
    acknowledging = wanted == ClaimRole.LEAD and report.status == ReportStatus.NEW
    if wanted == ClaimRole.LEAD:
        if case.lead is not None:
            raise ClaimConflict(case.lead.organisation)
        if acknowledging:
            check_transition(report.status, ReportStatus.ACKNOWLEDGED, Actor.LEAD_PARTNER, now=moment, note=note)
    claim = existing or CaseClaim(report_id=report.id, organisation=organisation)
    before = existing.role.value if existing else ""
    try:
        # The savepoint keeps the transaction usable if the one-lead index refuses the claim.
        with session.begin_nested():
            claim.role, claim.claimed_at, claim.claimed_by_id = wanted, moment, by.id
            session.add(claim)
            session.flush()
    except IntegrityError:
        if wanted != ClaimRole.LEAD:
            raise
        lead = current_lead(session, report.id)
        if lead is None:
            raise
        raise ClaimConflict(lead) from None
    log(session, report, EventKind.CLAIMED, by=by, organisation=organisation, old=before, new=wanted.value, at=moment)
    if acknowledging:
        # The case as it is now, with this lead claim, so that ``by`` counts as the lead partner.
        led = load_case(session, report.id)
        assert led is not None
        change_status(
            session,
            led,
            ReportStatus.ACKNOWLEDGED,
            by=by,
            organisation=organisation,
            actor=Actor.LEAD_PARTNER,
            note=note,
            now=moment,
            ip=ip,
        )
    session.flush()
    if wanted == ClaimRole.LEAD:
        deadlines.refresh(session, report)
    record(
        session,
        "case_claimed",
        actor=by,
        target=f"report:{report.id}",
        ip=ip,
        detail=f"{organisation.name}: {wanted.value}" + (" (report acknowledged)" if acknowledging else ""),
    )
    return claim


def decline_case(
    session: Session,
    report: Report,
    organisation: Organisation,
    *,
    reason: str,
    by: User,
    ip: str = "",
    now: dt.datetime | None = None,
) -> bool:
    """Decline a report routed to ``organisation``, saying why. Returns True if that leaves it
    with no live route and no lead, so it goes back to the council triage queue.

    Raises NotAllowed unless ``by`` is a member of ``organisation`` and it is on the case;
    CoordinationError if the organisation leads the case (it hands the lead to another
    organisation instead: ``app.coordination.handoffs``) or supports it, has no live route, or
    gives no reason.
    """
    case = _case(session, report, organisation, by)
    claim = case.claim_of(organisation)
    if claim is not None and claim.role == ClaimRole.LEAD:
        raise CoordinationError(
            {
                "reason": f"{organisation.label} leads this case, so it cannot decline it: "
                "hand the lead to another organisation instead"
            }
        )
    if claim is not None:
        raise CoordinationError({"reason": f"{organisation.label} has claimed this case, so it cannot decline it"})
    route = case.route_of(organisation)
    if route is None or not route.is_live:
        raise CoordinationError({"reason": f"This report is not routed to {organisation.label}"})
    text = checked_reason(reason, "reason", "Say why your organisation is declining this report")
    moment = now or utcnow()
    route.declined_at, route.decline_reason = moment, text
    log(
        session,
        report,
        EventKind.DECLINED,
        by=by,
        organisation=organisation,
        old=organisation.label,
        detail=text,
        at=moment,
    )
    to_triage = case.in_triage
    if to_triage:
        log(
            session,
            report,
            EventKind.TO_TRIAGE,
            by=by,
            organisation=organisation,
            detail="Every route was declined",
            at=moment,
        )
    session.flush()
    deadlines.refresh(session, report)
    record(
        session,
        "case_declined",
        actor=by,
        target=f"report:{report.id}",
        ip=ip,
        detail=f"{organisation.name}: {text}" + ("; back to triage" if to_triage else ""),
    )
    return to_triage
