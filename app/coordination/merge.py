"""Merging a duplicate report into the report where the problem is dealt with, and undoing it.

Merging report A into report B:

- records a ``CaseMerge`` (with A's status before, for undoing);
- closes A as a duplicate of B (``status.change_status``), with a public update saying where
  it is dealt with;
- moves A's followers and supporters (``ReportFollower``, ``ReportSupport``) to B, marking
  each with ``via_merge_id``; an address already on B stays where it is;
- makes A's reporter a follower of B (also marked), so they get B's updates, and emails them
  and A's followers (``case_merged``) instead of the usual update email;
- logs ``MERGED`` on both cases.

Who: a member of the organisation leading A, or an administrator. B must be published, open,
not A, not merged into another report itself, and a case that person can see; A must be
open, not merged already, and have no duplicates merged into it (merge those into B, or undo
them, first: otherwise undoing would lose track of their followers).

Undoing (the same people, once): moves the marked followers and supporters back to A (the
follower row made for A's reporter is deleted), puts A back to its status before the merge
with a public update (``status.restore_status``; its reporter and followers are emailed),
marks the merge undone and logs ``MERGE_UNDONE`` on both cases.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import notify, status
from app.coordination.errors import CoordinationError
from app.coordination.history import log
from app.coordination.lifecycle import Actor, Closure, TransitionError
from app.coordination.models import Case, CaseMerge, CaseMessage, EventKind
from app.coordination.queries import load_case
from app.db import utcnow
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports.models import CloseReason, Report, ReportFollower, ReportStatus, ReportSupport


def active_merge(session: Session, report_id: int) -> CaseMerge | None:
    """The merge of ``report_id`` into another report, if it has not been undone."""
    return session.scalar(sa.select(CaseMerge).where(CaseMerge.report_id == report_id, CaseMerge.undone_at.is_(None)))


def merged_into(session: Session, report_id: int) -> list[tuple[CaseMerge, Report]]:
    """The duplicates merged into ``report_id`` (not undone), oldest merge first; one query."""
    rows = session.execute(
        sa.select(CaseMerge, Report)
        .join(Report, Report.id == CaseMerge.report_id)
        .where(CaseMerge.into_id == report_id, CaseMerge.undone_at.is_(None))
        .order_by(CaseMerge.merged_at, CaseMerge.id)
    ).all()
    return [(m, r) for m, r in rows]


def _acting(by: User, case: Case) -> tuple[Organisation | None, Actor]:
    """For whom ``by`` closes or reopens ``case``: the lead organisation if they are in it,
    otherwise the council (an administrator)."""
    lead = case.lead
    if lead is not None and permissions.can_work_on_case(by, case, lead.organisation):
        return lead.organisation, Actor.LEAD_PARTNER
    return None, Actor.ADMIN


def _note(duplicate: Report, into: Report) -> str:
    return (
        f"This is the same problem as {into.reference}, so we have joined the two reports. The work is done "
        f"on {into.reference}: follow its updates there. Anyone following this report now follows "
        f"{into.reference}."
    )


def merge(
    session: Session,
    case: Case,
    into_reference: str,
    *,
    by: User,
    now: dt.datetime | None = None,
    ip: str = "",
) -> CaseMerge:
    """Merge ``case``'s report into the report ``into_reference`` names ("TC-000123" or
    "123"), as ``by``. Returns the merge.

    Raises NotAllowed unless ``by`` may merge ``case`` (``permissions.can_merge``);
    CoordinationError({"into": ...}) if the reference cannot be read, names no published report
    that ``by`` can see, names this report, a closed or resolved report, or one merged away
    itself, or ({"status": ...}) if this report is not open, is merged already, or has
    duplicates merged into it.
    """
    if not permissions.can_merge(by, case):
        raise NotAllowed("You cannot merge this report")
    duplicate = case.report
    moment = now or utcnow()
    if not duplicate.status.is_open:
        raise CoordinationError(
            {"status": f"{duplicate.reference} is {duplicate.status.label.lower()}: only an open report can be merged."}
        )
    if active_merge(session, duplicate.id) is not None:
        raise CoordinationError({"status": f"{duplicate.reference} is merged into another report already."})
    if merged_into(session, duplicate.id):
        raise CoordinationError(
            {
                "status": f"Other reports are merged into {duplicate.reference}. Merge the other report into this one "
                "instead, or undo those merges first."
            }
        )
    into = _target(session, case, into_reference, by)
    organisation, actor = _acting(by, case)
    record_ = CaseMerge(
        report_id=duplicate.id,
        into_id=into.report.id,
        previous_status=duplicate.status.value,
        merged_by_id=by.id,
        merged_at=moment,
    )
    session.add(record_)
    session.flush()
    try:
        status.change_status(
            session,
            case,
            ReportStatus.CLOSED,
            by=by,
            organisation=organisation,
            actor=actor,
            note=_note(duplicate, into.report),
            closure=Closure(CloseReason.DUPLICATE, duplicate_of=into.report.id),
            now=moment,
            ip=ip,
            notify_people=False,
        )
    except TransitionError as exc:
        raise CoordinationError({"status": " ".join(exc.errors.values())}) from None
    told = _move(session, duplicate, into.report, record_)
    log(
        session,
        duplicate,
        EventKind.MERGED,
        by=by,
        organisation=organisation,
        new=into.report.reference,
        detail=f"Merged into {into.report.reference} as its duplicate",
        at=moment,
    )
    log(
        session,
        into.report,
        EventKind.MERGED,
        by=by,
        organisation=organisation,
        old=duplicate.reference,
        detail=f"{duplicate.reference} merged into this case as a duplicate",
        at=moment,
    )
    session.flush()
    record(
        session,
        "case_merged",
        actor=by,
        target=f"report:{duplicate.id}",
        ip=ip,
        detail=f"into report {into.report.id}; {len(told)} people moved",
    )
    notify.send_merged(session, duplicate, into.report, told, now=moment)
    return record_


def _target(session: Session, case: Case, reference: str, by: User) -> Case:
    try:
        target_id = status.parse_reference(reference)
    except ValueError as exc:
        raise CoordinationError({"into": str(exc)}) from None
    if target_id is None:
        raise CoordinationError({"into": "Enter the reference of the report this one duplicates, like TC-000123."})
    shown = f"TC-{target_id:06d}"
    if target_id == case.report.id:
        raise CoordinationError({"into": "A report cannot be merged into itself: enter the other report's reference."})
    into = load_case(session, target_id)
    if into is None or not permissions.can_view_case(by, into):
        raise CoordinationError(
            {"into": f"You cannot merge into {shown}: it is not a published report on a case your organisation is on."}
        )
    if active_merge(session, target_id) is not None:
        raise CoordinationError(
            {"into": f"{shown} is itself merged into another report: merge into that report instead."}
        )
    if not into.report.status.is_open:
        raise CoordinationError(
            {"into": f"{shown} is {into.report.status.label.lower()}: merge only into a report that is still open."}
        )
    return into


def _move(session: Session, duplicate: Report, into: Report, merge_row: CaseMerge) -> list[str]:
    """Move followers and supporters from ``duplicate`` to ``into`` and make the reporter a
    follower of ``into``; returns the addresses to tell (reporter first)."""
    on_into = {
        e.lower() for e in session.scalars(sa.select(ReportFollower.email).where(ReportFollower.report_id == into.id))
    }
    on_into.add(into.reporter_email.lower())
    told: list[str] = []
    reporter = notify.usable_address(duplicate.reporter_email)
    if reporter is not None:
        told.append(reporter)
    for follower in session.scalars(
        sa.select(ReportFollower).where(ReportFollower.report_id == duplicate.id).order_by(ReportFollower.id)
    ):
        told.append(follower.email)
        if follower.email.lower() in on_into:
            continue
        follower.report_id, follower.via_merge_id = into.id, merge_row.id
        on_into.add(follower.email.lower())
    supporting = {
        e.lower() for e in session.scalars(sa.select(ReportSupport.email).where(ReportSupport.report_id == into.id))
    }
    for support in session.scalars(sa.select(ReportSupport).where(ReportSupport.report_id == duplicate.id)):
        if support.email.lower() not in supporting:
            support.report_id, support.via_merge_id = into.id, merge_row.id
            supporting.add(support.email.lower())
    if reporter is not None and reporter.lower() not in on_into:
        session.add(
            ReportFollower(report_id=into.id, email=reporter, user_id=duplicate.reporter_id, via_merge_id=merge_row.id)
        )
    session.flush()
    return told


def undo(
    session: Session,
    case: Case,
    merge_row: CaseMerge,
    *,
    by: User,
    now: dt.datetime | None = None,
    ip: str = "",
) -> CaseMessage:
    """Undo ``merge_row`` (the merge of ``case``'s report into another), as ``by``: see the
    module docstring. Returns the public update that reopens the report.

    Raises NotAllowed unless ``by`` may merge ``case``; CoordinationError({"status": ...}) if
    the merge is not of this report, is undone already, or the report is no longer closed as
    that duplicate (its status changed since).
    """
    if not permissions.can_merge(by, case):
        raise NotAllowed("You cannot undo this merge")
    duplicate = case.report
    if merge_row.report_id != duplicate.id:
        raise CoordinationError({"status": "That merge is not of this report."})
    if merge_row.undone_at is not None:
        raise CoordinationError({"status": "This merge has been undone already."})
    if duplicate.status != ReportStatus.CLOSED or duplicate.duplicate_of_id != merge_row.into_id:
        raise CoordinationError(
            {"status": f"{duplicate.reference} has changed since it was merged, so the merge cannot be undone here."}
        )
    into = session.get(Report, merge_row.into_id)
    assert into is not None  # reports are never deleted
    moment = now or utcnow()
    _move_back(session, duplicate, into, merge_row)
    merge_row.undone_at, merge_row.undone_by_id = moment, by.id
    organisation, _actor = _acting(by, case)
    previous = ReportStatus(merge_row.previous_status)
    message = status.restore_status(
        session,
        case,
        previous,
        by=by,
        organisation=organisation,
        note=f"This report is not the same as {into.reference} after all, so we have separated them again. "
        f"It is {previous.label.lower()} again.",
        now=moment,
        ip=ip,
    )
    log(
        session,
        duplicate,
        EventKind.MERGE_UNDONE,
        by=by,
        organisation=organisation,
        old=into.reference,
        detail=f"No longer merged into {into.reference}",
        at=moment,
    )
    log(
        session,
        into,
        EventKind.MERGE_UNDONE,
        by=by,
        organisation=organisation,
        old=duplicate.reference,
        detail=f"{duplicate.reference} separated from this case again",
        at=moment,
    )
    session.flush()
    record(
        session, "case_merge_undone", actor=by, target=f"report:{duplicate.id}", ip=ip, detail=f"from report {into.id}"
    )
    return message


def _move_back(session: Session, duplicate: Report, into: Report, merge_row: CaseMerge) -> None:
    reporter = (notify.usable_address(duplicate.reporter_email) or "").lower()
    here = {
        e.lower()
        for e in session.scalars(sa.select(ReportFollower.email).where(ReportFollower.report_id == duplicate.id))
    }
    for follower in session.scalars(sa.select(ReportFollower).where(ReportFollower.via_merge_id == merge_row.id)):
        if follower.email.lower() == reporter or follower.email.lower() in here:
            session.delete(follower)
        else:
            follower.report_id, follower.via_merge_id = duplicate.id, None
    supporting = {
        e.lower()
        for e in session.scalars(sa.select(ReportSupport.email).where(ReportSupport.report_id == duplicate.id))
    }
    for support in session.scalars(sa.select(ReportSupport).where(ReportSupport.via_merge_id == merge_row.id)):
        if support.email.lower() in supporting:
            session.delete(support)
        else:
            support.report_id, support.via_merge_id = duplicate.id, None
    session.flush()
