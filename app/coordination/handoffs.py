"""Hand-off: the lead organisation offers the lead role to another organisation, which accepts
or refuses it; the lead changes only on acceptance.

A case has at most one open offer. The database enforces it (``uq_case_handoffs_one_open``, a
partial unique index), so when two offers are made at the same instant exactly one is kept and
the other gets ``HandoffConflict`` naming the open offer. An offer to an organisation that is
not on the case routes the case to it, so that it sees it in its inbox. Answering (accepting,
refusing, withdrawing) moves the offer out of "offered" with one conditional UPDATE, so two
answers at once cannot both succeed.

On acceptance the old lead becomes a supporting partner and the receiving organisation the
lead, in one transaction; the reporter's name and email address go with the lead role
(``permissions.can_see_reporter``), and the history says so. Both sides are emailed. Every
function flushes but never commits, and writes a ``CaseEvent`` and an audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, raiseload

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import deadlines
from app.coordination.errors import CoordinationError
from app.coordination.history import log
from app.coordination.models import (
    REASON_MAX,
    Case,
    CaseClaim,
    CaseHandoff,
    CaseRoute,
    ClaimRole,
    EventKind,
    HandoffState,
)
from app.coordination.queries import load_case
from app.coordination.routing import checked_reason
from app.db import utcnow
from app.mail.services import queue_email
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports.models import Report
from app.templating import local_date


class HandoffConflict(CoordinationError):
    """The case already has an open offer of the lead; ``offer`` is that offer."""

    def __init__(self, offer: CaseHandoff) -> None:
        super().__init__(
            {
                "to": f"{offer.from_organisation.label} has already offered the lead to "
                f"{offer.to_organisation.label}. That offer must be answered or withdrawn before another is made."
            }
        )
        self.offer = offer


def personal_data_note(new_lead: Organisation, old_lead: Organisation, at: dt.datetime) -> str:
    """What the history and the case page say when the lead, and with it the reporter's
    personal data, passes from ``old_lead`` to ``new_lead``."""
    return (
        f"From {local_date(at)}, {new_lead.label} can see the reporter's name and email address; "
        f"{old_lead.label} no longer can."
    )


def route_reason(organisation: Organisation, reason: str) -> str:
    """The reason on the route an offer gives an organisation that was not on the case."""
    text = f"Lead hand-off offered by {organisation.label}: {reason}"
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


# --- Reading ---------------------------------------------------------------------------------


def open_offer(session: Session, report_id: int) -> CaseHandoff | None:
    """The case's open offer, read afresh from the database, or None."""
    return session.scalar(
        sa.select(CaseHandoff)
        .where(CaseHandoff.report_id == report_id, CaseHandoff.state == HandoffState.OFFERED)
        .execution_options(populate_existing=True)
    )


def case_handoffs(session: Session, report_id: int) -> list[CaseHandoff]:
    """Every offer of the case's lead, newest first (both organisations loaded with it)."""
    return list(
        session.scalars(
            sa.select(CaseHandoff)
            .where(CaseHandoff.report_id == report_id)
            .order_by(CaseHandoff.offered_at.desc(), CaseHandoff.id.desc())
        )
    )


def load_handoff(session: Session, report_id: int, handoff_id: int) -> CaseHandoff | None:
    """The offer with this id on this case, or None (also when it belongs to another case)."""
    handoff = session.get(CaseHandoff, handoff_id)
    return handoff if handoff is not None and handoff.report_id == report_id else None


def offered_to(session: Session, organisation: Organisation) -> list[tuple[CaseHandoff, Report]]:
    """Open offers of the lead made to ``organisation``, oldest first, with their reports:
    one query."""
    rows = session.execute(
        sa.select(CaseHandoff, Report)
        .join(Report, Report.id == CaseHandoff.report_id)
        .options(raiseload(Report.photos))
        .where(CaseHandoff.to_organisation_id == organisation.id, CaseHandoff.state == HandoffState.OFFERED)
        .order_by(CaseHandoff.offered_at, CaseHandoff.id)
    ).tuples()
    return list(rows)


# --- Offering --------------------------------------------------------------------------------


def _case(session: Session, report_id: int) -> Case:
    case = load_case(session, report_id)
    if case is None:
        raise NotAllowed("You cannot do that")
    return case


def offer_handoff(
    session: Session,
    report: Report,
    organisation: Organisation,
    to: Organisation | None,
    *,
    reason: str,
    by: User,
    case_url: str,
    ip: str = "",
    now: dt.datetime | None = None,
) -> CaseHandoff:
    """Offer the lead of ``report``, which ``organisation`` leads, to ``to``, saying why.

    If ``to`` is not on the case (no live route, no claim) it gets a live route, so the case is
    in its inbox. Emails ``to``'s contact address (``case_url`` is the link to the case).
    Raises NotAllowed unless ``by`` is a member of ``organisation`` and it leads the case;
    HandoffConflict if the case has an open offer already (also when another offer got in at
    the same instant); CoordinationError for no organisation or an inactive one, the lead
    itself, a report that is not open, or a missing or too long reason.
    """
    case = _case(session, report.id)
    if not permissions.can_offer_handoff(by, case, organisation):
        raise NotAllowed("You cannot do that")
    errors: dict[str, str] = {}
    if not report.status.is_open:
        errors["to"] = f"This report is {report.status.label.lower()}: its lead cannot be handed off"
    elif to is None:
        errors["to"] = "Choose the organisation to offer the lead to"
    elif to.id == organisation.id:
        errors["to"] = f"{organisation.label} leads this case already: choose another organisation"
    elif not to.active:
        errors["to"] = f"{to.label} is inactive: choose an active organisation"
    try:
        text = checked_reason(reason, "reason", "Say why you are offering the lead to this organisation")
    except CoordinationError as exc:
        errors.update(exc.errors)
    if not errors:
        existing = open_offer(session, report.id)
        if existing is not None:
            raise HandoffConflict(existing)
    if errors:
        raise CoordinationError(errors)
    assert to is not None
    moment = now or utcnow()
    offer = CaseHandoff(
        report_id=report.id,
        from_organisation=organisation,
        to_organisation=to,
        reason=text,
        state=HandoffState.OFFERED,
        offered_by_id=by.id,
        offered_at=moment,
    )
    try:
        # The savepoint keeps the transaction usable if the one-open-offer index refuses it.
        with session.begin_nested():
            session.add(offer)
            session.flush()
    except IntegrityError:
        existing = open_offer(session, report.id)
        if existing is None:
            raise
        raise HandoffConflict(existing) from None
    log(
        session,
        report,
        EventKind.HANDOFF_OFFERED,
        by=by,
        organisation=organisation,
        old=organisation.label,
        new=to.label,
        detail=text,
        at=moment,
    )
    if to.id not in case.organisation_ids:
        _route_for_offer(session, case, organisation, to, text, by=by, ip=ip, at=moment)
    record(
        session,
        "handoff_offered",
        actor=by,
        target=f"report:{report.id}",
        ip=ip,
        detail=f"{organisation.name} to {to.name}: {text}",
    )
    queue_email(
        session,
        to=to.contact_email,
        template="handoff_offered",
        context={
            "from_name": organisation.label,
            "to_name": to.label,
            "offered_by": by.display_name,
            "reason": text,
            "report_reference": report.reference,
            "report_title": report.title,
            "case_url": case_url,
        },
        kind="handoff_offered",
    )
    return offer


def _route_for_offer(
    session: Session,
    case: Case,
    organisation: Organisation,
    to: Organisation,
    reason: str,
    *,
    by: User,
    ip: str,
    at: dt.datetime,
) -> CaseRoute:
    """Give ``to`` a live route to the case (again, if it declined it before)."""
    report = case.report
    route = case.route_of(to)
    if route is None:
        route = CaseRoute(report_id=report.id, organisation=to)
        session.add(route)
    route.routed_at, route.routed_by_id, route.reason = at, by.id, route_reason(organisation, reason)
    route.declined_at, route.decline_reason = None, ""
    log(session, report, EventKind.ROUTED, by=by, organisation=to, new=to.label, detail=route.reason, at=at)
    session.flush()
    deadlines.refresh(session, report)
    record(
        session, "case_routed", actor=by, target=f"report:{report.id}", ip=ip, detail=f"To {to.name}: {route.reason}"
    )
    return route


# --- Answering -------------------------------------------------------------------------------


def _not_open(handoff: CaseHandoff) -> CoordinationError:
    return CoordinationError({"handoff": f"This offer has been {handoff.state.label.lower()} already"})


def _close(
    session: Session, handoff: CaseHandoff, state: HandoffState, *, by: User, answer: str, at: dt.datetime
) -> None:
    """Move an open offer to ``state``. One conditional UPDATE: of two answers at the same
    instant, the second finds the offer no longer open. Raises CoordinationError if it is not
    open."""
    result = session.execute(
        sa.update(CaseHandoff)
        .where(CaseHandoff.id == handoff.id, CaseHandoff.state == HandoffState.OFFERED)
        .values(state=state, answered_by_id=by.id, answered_at=at, answer=answer)
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", result).rowcount != 1:
        session.refresh(handoff)
        raise _not_open(handoff)
    session.refresh(handoff)


def withdraw_handoff(
    session: Session, handoff: CaseHandoff, *, by: User, ip: str = "", now: dt.datetime | None = None
) -> None:
    """Withdraw an open offer of the lead. The organisation it was offered to keeps any route
    the offer gave it (it can decline the case).

    Raises NotAllowed unless ``by`` is a member of the organisation that made the offer and it
    is on the case; CoordinationError if the offer is no longer open.
    """
    case = _case(session, handoff.report_id)
    if not permissions.can_withdraw_handoff(by, case, handoff):
        raise NotAllowed("You cannot do that")
    moment = now or utcnow()
    _close(session, handoff, HandoffState.WITHDRAWN, by=by, answer="", at=moment)
    log(
        session,
        case.report,
        EventKind.HANDOFF_WITHDRAWN,
        by=by,
        organisation=handoff.from_organisation,
        old=handoff.to_organisation.label,
        at=moment,
    )
    record(
        session,
        "handoff_withdrawn",
        actor=by,
        target=f"report:{case.report.id}",
        ip=ip,
        detail=f"{handoff.from_organisation.name} to {handoff.to_organisation.name}",
    )


def accept_handoff(
    session: Session,
    handoff: CaseHandoff,
    *,
    by: User,
    case_url: str,
    ip: str = "",
    now: dt.datetime | None = None,
) -> str:
    """Accept an open offer of the lead: in one transaction the old lead becomes a supporting
    partner and the receiving organisation the lead (reusing its supporting claim if it has
    one), and the deadlines are recomputed. Emails the offering organisation and the person who
    made the offer. Returns the personal-data note written to the history.

    Raises NotAllowed unless ``by`` is a member of the organisation the lead was offered to and
    it is on the case; CoordinationError if the offer is no longer open, or the organisation
    that made it no longer leads the case.
    """
    case = _case(session, handoff.report_id)
    if not permissions.can_answer_handoff(by, case, handoff):
        raise NotAllowed("You cannot do that")
    if handoff.state != HandoffState.OFFERED:
        raise _not_open(handoff)
    old = case.lead
    if old is None or old.organisation_id != handoff.from_organisation_id:
        raise CoordinationError(
            {"handoff": f"{handoff.from_organisation.label} no longer leads this case, so its offer cannot be accepted"}
        )
    moment = now or utcnow()
    _close(session, handoff, HandoffState.ACCEPTED, by=by, answer="", at=moment)
    new_lead, old_lead = handoff.to_organisation, old.organisation
    # The old claim first, flushed: the one-lead index must never see two leads.
    old.role = ClaimRole.SUPPORTING
    session.flush()
    claim = case.claim_of(new_lead) or CaseClaim(report_id=case.report.id, organisation=new_lead)
    claim.role, claim.claimed_at, claim.claimed_by_id = ClaimRole.LEAD, moment, by.id
    session.add(claim)
    session.flush()
    note = personal_data_note(new_lead, old_lead, moment)
    log(
        session,
        case.report,
        EventKind.HANDOFF_ACCEPTED,
        by=by,
        organisation=new_lead,
        old=old_lead.label,
        new=new_lead.label,
        detail=note,
        at=moment,
    )
    deadlines.refresh(session, case.report)
    record(
        session,
        "handoff_accepted",
        actor=by,
        target=f"report:{case.report.id}",
        ip=ip,
        detail=f"Lead from {old_lead.name} to {new_lead.name}",
    )
    _tell_offerer(session, handoff, case.report, accepted=True, by=by, case_url=case_url, note=note)
    return note


def refuse_handoff(
    session: Session,
    handoff: CaseHandoff,
    *,
    reason: str,
    by: User,
    case_url: str,
    ip: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Refuse an open offer of the lead, saying why; the lead stays where it is. Emails the
    offering organisation and the person who made the offer.

    Raises NotAllowed unless ``by`` is a member of the organisation the lead was offered to and
    it is on the case; CoordinationError for a missing or too long reason, or an offer that is
    no longer open.
    """
    case = _case(session, handoff.report_id)
    if not permissions.can_answer_handoff(by, case, handoff):
        raise NotAllowed("You cannot do that")
    text = checked_reason(reason, "reason", "Say why your organisation is refusing the lead")
    moment = now or utcnow()
    _close(session, handoff, HandoffState.REFUSED, by=by, answer=text, at=moment)
    log(
        session,
        case.report,
        EventKind.HANDOFF_REFUSED,
        by=by,
        organisation=handoff.to_organisation,
        old=handoff.from_organisation.label,
        detail=text,
        at=moment,
    )
    record(
        session,
        "handoff_refused",
        actor=by,
        target=f"report:{case.report.id}",
        ip=ip,
        detail=f"{handoff.to_organisation.name} refused the lead from {handoff.from_organisation.name}: {text}",
    )
    _tell_offerer(session, handoff, case.report, accepted=False, by=by, case_url=case_url, note="")


def _tell_offerer(
    session: Session,
    handoff: CaseHandoff,
    report: Report,
    *,
    accepted: bool,
    by: User,
    case_url: str,
    note: str,
) -> None:
    """Email the answer to the offering organisation's contact address and to the person who
    made the offer (once, if they are the same address)."""
    offerer = session.get(User, handoff.offered_by_id) if handoff.offered_by_id else None
    addresses = [handoff.from_organisation.contact_email]
    if (
        offerer is not None
        and offerer.deleted_at is None
        and offerer.email.lower() not in {a.lower() for a in addresses}
    ):
        addresses.append(offerer.email)
    for address in addresses:
        queue_email(
            session,
            to=address,
            template="handoff_answered",
            context={
                "accepted": accepted,
                "from_name": handoff.from_organisation.label,
                "to_name": handoff.to_organisation.label,
                "answered_by": by.display_name,
                "answer": handoff.answer,
                "note": note,
                "report_reference": report.reference,
                "report_title": report.title,
                "case_url": case_url,
            },
            kind="handoff_answered",
        )
