"""``status.change_status``, the one place a report's status changes: every branch of the
lifecycle it goes through, what it writes (public update, history, audit, map counts,
lifecycle times, deadlines, emails) and what it refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.coordination import queries
from app.coordination.lifecycle import Actor, Closure, TransitionError
from app.coordination.models import CaseMessage, EventKind, MessageKind, NoteAudience
from app.coordination.status import change_status, closure_from_form, parse_reference
from app.db import utcnow
from app.partners.services import NotAllowed
from app.reports.models import CloseReason, Report, ReportCell, ReportStatus
from tests.coordination.conftest import Partners
from tests.coordination.messaging import addresses, case_of, led_by_council

MakeReport = Callable[..., Report]
S = ReportStatus


def counted(session: Session, report: Report) -> dict[str, int]:
    rows = session.execute(
        sa.select(ReportCell.status, sa.func.sum(ReportCell.n))
        .where(ReportCell.level == 0, ReportCell.category_id == report.category_id)
        .group_by(ReportCell.status)
    ).all()
    return {status: int(n) for status, n in rows if n}


def messages_of(session: Session, report: Report) -> list[CaseMessage]:
    return list(
        session.scalars(sa.select(CaseMessage).where(CaseMessage.report_id == report.id).order_by(CaseMessage.id))
    )


def lead_change(session: Session, partners: Partners, report: Report, target: S, note: str = "Done.", **kw):  # type: ignore[no-untyped-def]
    return change_status(
        session,
        case_of(session, report),
        target,
        by=partners.council_member,
        organisation=partners.council,
        actor=Actor.LEAD_PARTNER,
        note=note,
        **kw,
    )


def test_claiming_the_lead_writes_the_acknowledgement_as_a_public_update(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does claiming the lead of a new report write "Acknowledged by Council." as a real public
    update with the status change, set acknowledged_at, and email the reporter?"""
    report = make_report(reporter_email="resident@example.org")
    led_by_council(db_session, partners, report, police_supports=False)
    [message] = messages_of(db_session, report)
    assert (message.kind, message.audience, message.body) == (
        MessageKind.PUBLIC_UPDATE,
        NoteAudience.PUBLIC,
        "Acknowledged by Council.",
    )
    assert (message.status_from, message.status_to, message.organisation_id, message.author_id) == (
        "new",
        "acknowledged",
        partners.council.id,
        partners.council_member.id,
    )
    assert message.author_name == "Council" and report.acknowledged_at == message.created_at
    assert addresses(db_session, "case_update") == ["resident@example.org"]


def test_a_lead_moves_a_case_on_with_history_audit_and_map_counts(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does the lead marking a case in progress, then resolved, write the update, the history
    event and the audit event, keep the map's counts, and set resolved_at?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    acknowledged_at = report.acknowledged_at
    message = lead_change(db_session, partners, report, S.IN_PROGRESS, note="  Crew booked for Tuesday.  ")
    assert report.status == S.IN_PROGRESS and message.body == "Crew booked for Tuesday."
    assert (message.status_from, message.status_to) == ("acknowledged", "in_progress")
    event = queries.history(db_session, report.id)[-1]
    assert (event.kind, event.old_value, event.new_value, event.detail) == (
        EventKind.STATUS_CHANGED,
        "acknowledged",
        "in_progress",
        "Crew booked for Tuesday.",
    )
    audit = db_session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert audit is not None and audit.action == "case_status_changed"
    assert audit.detail == "acknowledged to in_progress for Council"
    assert counted(db_session, report) == {"in_progress": 1}
    later = utcnow() + dt.timedelta(minutes=1)
    lead_change(db_session, partners, report, S.RESOLVED, note="Removed.", now=later)
    assert report.resolved_at == later and report.acknowledged_at == acknowledged_at
    assert counted(db_session, report) == {"resolved": 1}


@pytest.mark.parametrize(
    ("closure", "field"),
    [
        (Closure(CloseReason.NOT_ACTIONABLE), None),
        (Closure(CloseReason.NO_FURTHER_ACTION), None),
        (Closure(CloseReason.REFERRED, referred_to="Canal & River Trust"), "referred_to"),
        (Closure(CloseReason.DUPLICATE, duplicate_of=-1), "duplicate_of_id"),
    ],
    ids=["not_actionable", "no_further_action", "referred", "duplicate"],
)
def test_closing_for_each_reason_records_it(
    db_session: Session, partners: Partners, make_report: MakeReport, closure: Closure, field: str | None
) -> None:
    """Does closing for each reason set closed_at, the reason and its detail?"""
    original = make_report()
    if closure.duplicate_of == -1:
        closure = Closure(CloseReason.DUPLICATE, duplicate_of=original.id)
    report = make_report()
    led_by_council(db_session, partners, report)
    message = lead_change(db_session, partners, report, S.CLOSED, note="Closing.", closure=closure)
    assert report.status == S.CLOSED and report.closed_at == message.created_at
    assert report.close_reason == closure.reason
    assert report.duplicate_of_id == (original.id if field == "duplicate_of_id" else None)
    assert report.referred_to == ("Canal & River Trust" if field == "referred_to" else None)
    assert counted(db_session, report).get("closed") == 1


@pytest.mark.parametrize(
    ("closure", "errors"),
    [
        (None, {"reason"}),
        (Closure(CloseReason.DUPLICATE), {"duplicate_of"}),
        (Closure(CloseReason.REFERRED), {"referred_to"}),
        (Closure(CloseReason.REFERRED, referred_to="   "), {"referred_to"}),
        (Closure(CloseReason.DUPLICATE, duplicate_of=999_999_999), {"duplicate_of"}),
        (Closure(CloseReason.REFERRED, referred_to="x" * 201), {"referred_to"}),
    ],
    ids=["no-reason", "duplicate-of-nothing", "referred-to-nobody", "referred-to-blank", "unknown-report", "too-long"],
)
def test_closing_without_the_reasons_detail_is_refused_and_changes_nothing(
    db_session: Session, partners: Partners, make_report: MakeReport, closure: Closure | None, errors: set[str]
) -> None:
    """Is a closure without a reason, or without the detail its reason needs (or naming no
    published report), refused field by field, with the report left as it was?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    before = len(messages_of(db_session, report))
    with pytest.raises(TransitionError) as refused:
        lead_change(db_session, partners, report, S.CLOSED, closure=closure)
    assert set(refused.value.errors) == errors
    assert report.status == S.ACKNOWLEDGED and report.closed_at is None
    assert len(messages_of(db_session, report)) == before


def test_a_report_cannot_duplicate_itself_or_an_unpublished_one(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is closing a report as a duplicate of itself, or of a report not yet published, refused?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    hidden = make_report(publish=False)
    for other, message in ((report.id, "itself"), (hidden.id, "no published report")):
        with pytest.raises(TransitionError) as refused:
            lead_change(
                db_session, partners, report, S.CLOSED, closure=Closure(CloseReason.DUPLICATE, duplicate_of=other)
            )
        assert message in refused.value.errors["duplicate_of"]


def test_a_change_needs_a_public_update_within_the_limit(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a status change with no update (or only whitespace), or an update over 5,000
    characters, refused on the note?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    for note, expected in (
        (" \n\x00 ", "Write a public update saying why the report is now in progress."),
        ("x" * 5001, "Write 5,000 characters or fewer: this has 5,001, so remove 1."),
    ):
        with pytest.raises(TransitionError) as refused:
            lead_change(db_session, partners, report, S.IN_PROGRESS, note=note)
        assert refused.value.errors == {"note": expected}


def test_only_the_table_decides_who_changes_what(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a supporting partner refused a status change, and an impossible change refused, with
    the lifecycle's message?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)
    with pytest.raises(TransitionError) as supporting:
        change_status(
            db_session,
            case,
            S.IN_PROGRESS,
            by=partners.police_member,
            organisation=partners.police,
            actor=Actor.SUPPORTING_PARTNER,
            note="We started.",
        )
    assert "Only the lead partner or a council administrator" in supporting.value.errors["status"]
    with pytest.raises(TransitionError) as impossible:
        lead_change(db_session, partners, report, S.NEW)
    assert impossible.value.errors["status"] == "A report cannot go from acknowledged to new."


def test_no_one_can_claim_a_part_they_do_not_have(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is someone refused (NotAllowed) when they say they are the lead partner but are not, act
    for an organisation that is not theirs, or say they are an administrator or the reporter?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)
    attempts = [
        (partners.police_member, partners.police, Actor.LEAD_PARTNER),
        (partners.police_member, partners.council, Actor.LEAD_PARTNER),
        (partners.housing_member, partners.housing, Actor.LEAD_PARTNER),
        (partners.council_member, None, Actor.ADMIN),
        (partners.council_member, None, Actor.REPORTER),
        (None, partners.council, Actor.REPORTER),
        (None, None, Actor.ADMIN),
    ]
    for by, organisation, actor in attempts:
        with pytest.raises(NotAllowed):
            change_status(db_session, case, S.IN_PROGRESS, by=by, organisation=organisation, actor=actor, note="Go.")
    assert report.status == S.ACKNOWLEDGED


def resolved(db_session: Session, partners: Partners, make_report: MakeReport, at: dt.datetime) -> Report:
    report = make_report()
    led_by_council(db_session, partners, report)
    lead_change(db_session, partners, report, S.RESOLVED, note="Fixed.", now=at)
    return report


def test_the_reporter_reopens_within_28_days(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Can the reporter reopen a resolved report 27 days on, back to in progress, with their
    reason as a public update from "The person who reported this", clearing resolved_at?"""
    at = utcnow() - dt.timedelta(days=27)
    report = resolved(db_session, partners, make_report, at)
    message = change_status(
        db_session,
        case_of(db_session, report),
        S.IN_PROGRESS,
        by=None,
        organisation=None,
        actor=Actor.REPORTER,
        note="Still there.",
    )
    assert report.status == S.IN_PROGRESS and report.resolved_at is None
    assert (message.author_name, message.author_id, message.organisation_id) == (
        "The person who reported this",
        None,
        None,
    )
    assert queries.history(db_session, report.id)[-1].actor_id is None


def test_the_reporter_cannot_reopen_after_28_days(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is the reporter's reopening refused 29 days after it was resolved, saying so, while the
    lead may still reopen it?"""
    report = resolved(db_session, partners, make_report, utcnow() - dt.timedelta(days=29))
    case = case_of(db_session, report)
    with pytest.raises(TransitionError) as late:
        change_status(
            db_session, case, S.IN_PROGRESS, by=None, organisation=None, actor=Actor.REPORTER, note="Still there."
        )
    assert "resolved more than 28 days ago" in late.value.errors["status"]
    assert report.status == S.RESOLVED
    lead_change(db_session, partners, report, S.IN_PROGRESS, note="Reopened at the resident's request.")
    assert report.status == S.IN_PROGRESS


def test_a_report_resolved_without_a_time_cannot_be_reopened_by_its_reporter(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a resolved report with no resolved_at (older data) refused for the reporter, rather
    than failing?"""
    report = resolved(db_session, partners, make_report, utcnow())
    report.resolved_at = None
    with pytest.raises(TransitionError) as refused:
        change_status(
            db_session,
            case_of(db_session, report),
            S.IN_PROGRESS,
            by=None,
            organisation=None,
            actor=Actor.REPORTER,
            note="Still there.",
        )
    assert "cannot be reopened online" in refused.value.errors["status"]


def test_an_administrator_closes_from_triage_and_undoes_it(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can an administrator close a new report (a public update from "Council"), and undo the
    closure back to new, clearing the closure and refreshing its acknowledgement deadline?"""
    report = make_report()
    case = case_of(db_session, report)
    closed = change_status(
        db_session,
        case,
        S.CLOSED,
        by=partners.admin,
        organisation=None,
        actor=Actor.ADMIN,
        note="This is on private land.",
        closure=Closure(CloseReason.REFERRED, referred_to="The landowner"),
    )
    assert closed.author_name == "Council" and report.referred_to == "The landowner"
    report.acknowledge_due_at = None
    change_status(
        db_session, case, S.NEW, by=partners.admin, organisation=None, actor=Actor.ADMIN, note="Closed by mistake."
    )
    assert report.status == S.NEW
    assert (report.closed_at, report.close_reason, report.referred_to, report.duplicate_of_id) == (None,) * 4
    # The deadlines were worked out again from the live routes.
    assert report.acknowledged_at is None and report.acknowledge_due_at is not None


def test_every_public_update_emails_the_reporter_and_followers_once_not_the_author(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does a status change email the reporter and each follower once (however their address
    is written), and not the person who wrote the update?"""
    from app.reports.models import ReportFollower

    report = make_report(reporter_email="resident@example.org")
    led_by_council(db_session, partners, report)
    db_session.add_all(
        [
            ReportFollower(report_id=report.id, email="neighbour@example.org"),
            ReportFollower(report_id=report.id, email="RESIDENT@example.org"),
            ReportFollower(report_id=report.id, email=partners.council_member.email),
        ]
    )
    db_session.flush()
    before = len(addresses(db_session, "case_update"))
    lead_change(db_session, partners, report, S.IN_PROGRESS, note="On it.")
    assert addresses(db_session, "case_update")[before:] == ["resident@example.org", "neighbour@example.org"]


def test_parse_reference_reads_what_people_type() -> None:
    """Are "TC-000123", "tc-123", "TC000123" and "123" all report 123, blanks None, and
    anything else refused with an example?"""
    for typed in ("TC-000123", " tc-123 ", "TC000123", "123"):
        assert parse_reference(typed) == 123
    assert parse_reference("  ") is None and parse_reference(None) is None
    for bad in ("TC-", "12a", "TC-000000", "#123"):
        with pytest.raises(ValueError, match="like TC-000123"):
            parse_reference(bad)


def test_closure_from_form_reads_only_the_chosen_reasons_detail() -> None:
    """Does the form's closure take the duplicate's reference or the referral's recipient only
    with its reason, and report an unreadable reference or unknown reason?"""
    assert closure_from_form("duplicate", "TC-000042", "Ignored") == (
        Closure(CloseReason.DUPLICATE, duplicate_of=42),
        {},
    )
    assert closure_from_form("referred", "TC-000042", " The canal\ntrust ") == (
        Closure(CloseReason.REFERRED, referred_to="The canal trust"),
        {},
    )
    assert closure_from_form("no_further_action", "x", "y") == (Closure(CloseReason.NO_FURTHER_ACTION), {})
    assert closure_from_form("", "", "") == (None, {})
    closure, errors = closure_from_form("duplicate", "the other one", "")
    assert closure == Closure(CloseReason.DUPLICATE) and "TC-000123" in errors["duplicate_of"]
    assert closure_from_form("lost", "", "")[1].keys() == {"reason"}
