"""Changing a report's status: the one place it happens.

``change_status`` checks the change against the lifecycle table (``lifecycle.check_transition``),
writes the public update that says why (a ``CaseMessage`` with ``status_from``/``status_to``),
keeps the map's cell counts and the report's lifecycle times right, logs the change, refreshes
the deadlines and emails the reporter and followers. Claiming the lead of a new report
(``claims.claim_case``), posting a public update with a new status, the reporter reopening
their report and merging a duplicate all come through here.

What each status sets on the report:

- acknowledged: ``acknowledged_at``;
- resolved: ``resolved_at`` (the 28-day reopening window counts from it);
- closed: ``closed_at``, ``close_reason`` and its detail (``duplicate_of_id``, ``referred_to``);
- reopened (resolved or closed to an open status): the closure fields and ``resolved_at`` are
  cleared; back to new (an administrator undoing a closure) also clears ``acknowledged_at``, so
  the report is due to be acknowledged again.

Only ``restore_status`` (undoing a merge) changes a status outside the table, back to what it
was before the merge closed it.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import deadlines, notify, text
from app.coordination.history import log
from app.coordination.lifecycle import Actor, Closure, TransitionError, check_transition
from app.coordination.models import Case, CaseMessage, EventKind, MessageKind, NoteAudience
from app.db import utcnow
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports import aggregates
from app.reports.models import REFERRED_TO_MAX, CloseReason, Report, ReportStatus

_REFERENCE = re.compile(r"(?:TC-?)?0*(\d{1,12})", re.IGNORECASE)


def parse_reference(value: str | None) -> int | None:
    """A report id from what someone typed: "TC-000123", "tc-123", "TC000123" or "123" (spaces
    around it ignored). None if nothing was typed.

    Raises ValueError (with a message to show) for anything else.
    """
    typed = (value or "").strip()
    if not typed:
        return None
    match = _REFERENCE.fullmatch(typed)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"Enter a report reference like TC-000123, not “{typed[:40]}”.")
    return int(match.group(1))


def closure_from_form(
    reason: str | None, duplicate_of: str | None, referred_to: str | None
) -> tuple[Closure | None, dict[str, str]]:
    """The closure that form fields describe, and what could not be read from them (by field).

    Only the detail that goes with the chosen reason is read; a missing reason or detail is left
    for ``check_transition`` to report. Raises nothing.
    """
    errors: dict[str, str] = {}
    if not (reason or "").strip():
        return None, errors
    try:
        chosen = CloseReason((reason or "").strip())
    except ValueError:
        choices = ", ".join(r.label.lower() for r in CloseReason)
        return None, {"reason": f"Choose why the report is being closed: {choices}."}
    if chosen == CloseReason.DUPLICATE:
        try:
            return Closure(chosen, duplicate_of=parse_reference(duplicate_of)), errors
        except ValueError as exc:
            return Closure(chosen), {"duplicate_of": str(exc)}
    if chosen == CloseReason.REFERRED:
        whom = text.normalise(referred_to).replace("\n", " ")
        if len(whom) > REFERRED_TO_MAX:
            errors["referred_to"] = f"Say who it was referred to in {REFERRED_TO_MAX} characters or fewer."
        return Closure(chosen, referred_to=whom or None), errors
    return Closure(chosen), errors


def problems(
    session: Session,
    case: Case,
    target: ReportStatus,
    *,
    actor: Actor,
    note: str,
    closure: Closure | None,
    now: dt.datetime,
) -> dict[str, str]:
    """Everything wrong with changing ``case`` to ``target`` like this, by form field ("status",
    "note", "reason", "duplicate_of", "referred_to"); empty if the change may go ahead.

    Raises ValueError only for a naive ``now``.
    """
    report = case.report
    errors: dict[str, str] = {}
    reopening = actor == Actor.REPORTER and report.status == ReportStatus.RESOLVED
    if reopening and report.resolved_at is None:
        # Resolved before resolution times were kept (the demo data, say): the window is unknown.
        errors["status"] = "This report cannot be reopened online. Make a new report instead."
    else:
        try:
            check_transition(
                report.status,
                target,
                actor,
                now=now,
                resolved_at=min(report.resolved_at, now) if reopening and report.resolved_at else None,
                reason=closure,
                note=note,
                report_id=report.id,
            )
        except TransitionError as exc:
            errors.update(exc.errors)
    long_note = text.too_long(note)
    if long_note:
        errors.setdefault("note", long_note)
    if closure is not None and closure.duplicate_of is not None and "duplicate_of" not in errors:
        original = session.get(Report, closure.duplicate_of)
        if original is None or not original.is_published:
            errors["duplicate_of"] = (
                f"There is no published report TC-{closure.duplicate_of:06d}. Check the reference and try again."
            )
    if closure is not None and closure.referred_to and len(closure.referred_to) > REFERRED_TO_MAX:
        errors.setdefault("referred_to", f"Say who it was referred to in {REFERRED_TO_MAX} characters or fewer.")
    return errors


def author_name(actor: Actor, organisation: Organisation | None) -> str:
    """Who a public update is from, as residents see it."""
    if organisation is not None:
        return organisation.label
    return notify.REPORTER if actor == Actor.REPORTER else notify.COUNCIL


def _authorise(by: User | None, case: Case, organisation: Organisation | None, actor: Actor) -> None:
    if by is None:
        # The reporter through a reply link (app.coordination.messages checks the link).
        if actor != Actor.REPORTER or organisation is not None:
            raise NotAllowed("Only the reporter may act without signing in")
        return
    if organisation is not None and not permissions.can_work_on_case(by, case, organisation):
        raise NotAllowed(f"You cannot act for {organisation.label} on this case")
    reporter = actor == Actor.REPORTER and organisation is None and permissions.is_reporter(by, case.report)
    if not reporter and permissions.case_actor(by, case, organisation) != actor:
        raise NotAllowed(f"You are not {actor.label} on this case")


def change_status(
    session: Session,
    case: Case,
    target: ReportStatus | str,
    *,
    by: User | None,
    organisation: Organisation | None,
    actor: Actor,
    note: str,
    closure: Closure | None = None,
    now: dt.datetime | None = None,
    ip: str = "",
    notify_people: bool = True,
) -> CaseMessage:
    """Move ``case``'s report to ``target``, with the public update ``note`` saying why, as
    ``by`` acting for ``organisation`` (None: for nobody, e.g. an administrator or the
    reporter) in the part ``actor``. ``by`` None means the reporter, who followed a reply link
    the caller has checked. Returns the public update.

    ``closure`` says why it is closed (a duplicate's ``duplicate_of`` is a report id; it must
    be a published report). With ``notify_people`` False nobody is emailed (a merge sends its
    own email instead).

    Raises NotAllowed if ``by`` is not ``actor`` on the case (or may not act for
    ``organisation``); TransitionError, with a message per form field, if the change is not in
    the lifecycle table, not open to ``actor``, outside the reopening window, or lacks a note,
    a closing reason or its detail (all at once); ValueError for an unknown status.
    """
    moment = now or utcnow()
    wanted = ReportStatus(target)
    _authorise(by, case, organisation, actor)
    body = text.normalise(note)
    errors = problems(session, case, wanted, actor=actor, note=body, closure=closure, now=moment)
    if errors:
        raise TransitionError(errors)
    # The reporter is not emailed their own reopening, whichever address their account has now.
    author_email = case.report.reporter_email if actor == Actor.REPORTER else (by.email if by else None)
    return _apply(
        session,
        case,
        wanted,
        by=by,
        organisation=organisation,
        name=author_name(actor, organisation),
        body=body,
        closure=closure,
        now=moment,
        ip=ip,
        author_email=author_email if notify_people else None,
        notify_people=notify_people,
    )


def restore_status(
    session: Session,
    case: Case,
    previous: ReportStatus,
    *,
    by: User,
    organisation: Organisation | None,
    note: str,
    now: dt.datetime,
    ip: str = "",
) -> CaseMessage:
    """Put a report closed by a merge back to the status it had before (undoing the merge is
    not a change the lifecycle table lists: it takes back a closure that was a mistake), with
    the public update ``note``. Only ``app.coordination.merge`` calls this, having checked who
    may undo the merge. Raises ValueError if the report is not closed."""
    if case.report.status != ReportStatus.CLOSED:
        raise ValueError(f"{case.report.reference} is not closed")
    actor = Actor.LEAD_PARTNER if organisation is not None else Actor.ADMIN
    return _apply(
        session,
        case,
        previous,
        by=by,
        organisation=organisation,
        name=author_name(actor, organisation),
        body=text.normalise(note),
        closure=None,
        now=now,
        ip=ip,
        author_email=by.email,
        notify_people=True,
        restoring=True,
    )


def _apply(
    session: Session,
    case: Case,
    target: ReportStatus,
    *,
    by: User | None,
    organisation: Organisation | None,
    name: str,
    body: str,
    closure: Closure | None,
    now: dt.datetime,
    ip: str,
    author_email: str | None,
    notify_people: bool,
    restoring: bool = False,
) -> CaseMessage:
    report = case.report
    before = report.status
    aggregates.remove(session, [report])
    report.status = target
    session.flush()
    aggregates.add(session, [report])
    if target.is_open and not before.is_open:
        report.resolved_at = report.closed_at = None
        report.close_reason = report.duplicate_of_id = report.referred_to = None
    if restoring:
        pass  # back as it was before the merge: its acknowledgement and resolution times stand
    elif target == ReportStatus.NEW:
        report.acknowledged_at = None
    elif target == ReportStatus.ACKNOWLEDGED:
        report.acknowledged_at = now
    elif target == ReportStatus.RESOLVED:
        report.resolved_at = now
    elif target == ReportStatus.CLOSED:
        assert closure is not None  # check_transition requires one
        report.closed_at = now
        report.close_reason = closure.reason
        report.duplicate_of_id = closure.duplicate_of
        report.referred_to = closure.referred_to
    message = CaseMessage(
        report_id=report.id,
        kind=MessageKind.PUBLIC_UPDATE,
        audience=NoteAudience.PUBLIC,
        organisation=organisation,
        author_id=by.id if by else None,
        author_name=name,
        body=body,
        status_from=before.value,
        status_to=target.value,
        created_at=now,
    )
    session.add(message)
    detail = body
    if closure is not None:
        detail = f"{closure.reason.label}{_closure_detail(closure)}. {body}"
    log(
        session,
        report,
        EventKind.STATUS_CHANGED,
        by=by,
        organisation=organisation,
        old=before.value,
        new=target.value,
        detail=detail,
        at=now,
    )
    session.flush()
    deadlines.refresh(session, report)
    record(
        session,
        "case_status_changed",
        actor=by,
        actor_email="" if by else f"reporter of report {report.id}",
        target=f"report:{report.id}",
        ip=ip,
        detail=f"{before.value} to {target.value}"
        + (f" ({closure.reason.value}{_closure_detail(closure)})" if closure else "")
        + (f" for {organisation.name}" if organisation else ""),
    )
    if notify_people:
        notify.send_public_update(session, report, message, author_email=author_email, now=now)
    return message


def _closure_detail(closure: Closure) -> str:
    if closure.duplicate_of is not None:
        return f" of TC-{closure.duplicate_of:06d}"
    if closure.referred_to:
        return f" to {closure.referred_to}"
    return ""
