"""Merging a duplicate report into another and undoing it: the closure, followers and
supporters moving (and moving back), the reporter told, who may do it, what is refused, and
the case pages' banners and forms."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.coordination import merge, messages, queries
from app.coordination.claims import claim_case
from app.coordination.errors import CoordinationError
from app.coordination.lifecycle import Actor, Closure
from app.coordination.models import CaseMerge, CaseMessage, EventKind
from app.coordination.status import change_status
from app.partners.services import NotAllowed
from app.reports.models import CloseReason, Report, ReportFollower, ReportStatus, ReportSupport
from tests.coordination.conftest import Partners
from tests.coordination.messaging import addresses, case_of, emails, led_by_council

MakeReport = Callable[..., Report]
Login = Callable[[User], None]


def followers(session: Session, report: Report) -> dict[str, int | None]:
    rows = session.execute(
        sa.select(ReportFollower.email, ReportFollower.via_merge_id).where(ReportFollower.report_id == report.id)
    )
    return dict(rows.tuples().all())


def supporters(session: Session, report: Report) -> dict[str, int | None]:
    rows = session.execute(
        sa.select(ReportSupport.email, ReportSupport.via_merge_id).where(ReportSupport.report_id == report.id)
    )
    return dict(rows.tuples().all())


@pytest.fixture
def pair(db_session: Session, partners: Partners, make_report: MakeReport) -> tuple[Report, Report]:
    """A duplicate (with two followers and two supporters, one of each already on the original)
    and the original, both led by the council."""
    original = make_report(reporter_email="first@example.org", title="Sofa on Hill Street")
    duplicate = make_report(reporter_email="second@example.org", reporter_id=None)
    for report in (original, duplicate):
        led_by_council(db_session, partners, report)
    db_session.add_all(
        [
            ReportFollower(report_id=duplicate.id, email="mover@example.org"),
            ReportFollower(report_id=duplicate.id, email="both@example.org"),
            ReportFollower(report_id=original.id, email="both@example.org"),
            ReportSupport(report_id=duplicate.id, email="helper@example.org", note="Blocks my drive"),
            ReportSupport(report_id=duplicate.id, email="both@example.org"),
            ReportSupport(report_id=original.id, email="both@example.org"),
        ]
    )
    db_session.flush()
    return duplicate, original


def test_merging_closes_the_duplicate_and_moves_its_people(
    db_session: Session, partners: Partners, pair: tuple[Report, Report]
) -> None:
    """Does merging close the duplicate as a duplicate of the original with a public update,
    move its followers and supporters (those not already there) marked with the merge, make
    its reporter a follower of the original, log both cases, and email them case_merged (not
    the usual update)?"""
    duplicate, original = pair
    before = len(emails(db_session, "case_update"))
    made = merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=partners.council_member)
    assert (made.report_id, made.into_id, made.previous_status) == (duplicate.id, original.id, "acknowledged")
    assert duplicate.status == ReportStatus.CLOSED and duplicate.close_reason == CloseReason.DUPLICATE
    assert duplicate.duplicate_of_id == original.id
    update = db_session.scalars(
        sa.select(CaseMessage).where(CaseMessage.report_id == duplicate.id).order_by(CaseMessage.id.desc())
    ).first()
    assert update is not None and f"This is the same problem as {original.reference}" in update.body
    assert followers(db_session, original) == {
        "both@example.org": None,
        "mover@example.org": made.id,
        "second@example.org": made.id,
    }
    assert followers(db_session, duplicate) == {"both@example.org": None}
    assert supporters(db_session, original) == {"both@example.org": None, "helper@example.org": made.id}
    for report, other in ((duplicate, original), (original, duplicate)):
        event = queries.history(db_session, report.id)[-1]
        assert event.kind == EventKind.MERGED and other.reference in event.detail
    assert db_session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() == "case_merged"
    assert len(emails(db_session, "case_update")) == before
    assert addresses(db_session, "case_merged") == ["second@example.org", "mover@example.org", "both@example.org"]
    told = emails(db_session, "case_merged")[0]
    assert told.subject == f"TellUs Coventry: {duplicate.reference} is now part of {original.reference}"
    # The duplicate's reporter now gets the original's updates.
    messages.post_update(
        db_session,
        case_of(db_session, original),
        by=partners.council_member,
        organisation=partners.council,
        body="Booked.",
    )
    assert "second@example.org" in addresses(db_session, "case_update")[before:]


def test_undoing_a_merge_restores_the_status_and_moves_everyone_back(
    db_session: Session, partners: Partners, pair: tuple[Report, Report]
) -> None:
    """Does undoing put the duplicate back to its status before (with a public update emailed to
    its people), move the followers and supporters back, delete the follow made for its
    reporter, mark the merge undone and log both cases, and refuse a second undo?"""
    duplicate, original = pair
    acknowledged_at = duplicate.acknowledged_at
    made = merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=partners.council_member)
    before = len(emails(db_session, "case_update"))
    update = merge.undo(db_session, case_of(db_session, duplicate), made, by=partners.council_member)
    assert duplicate.status == ReportStatus.ACKNOWLEDGED and duplicate.acknowledged_at == acknowledged_at
    assert (duplicate.closed_at, duplicate.close_reason, duplicate.duplicate_of_id) == (None, None, None)
    assert (update.status_from, update.status_to) == ("closed", "acknowledged")
    assert f"not the same as {original.reference}" in update.body
    assert followers(db_session, duplicate) == {"both@example.org": None, "mover@example.org": None}
    assert followers(db_session, original) == {"both@example.org": None}
    assert supporters(db_session, duplicate) == {"both@example.org": None, "helper@example.org": None}
    assert made.undone_at is not None and made.undone_by_id == partners.council_member.id
    assert merge.active_merge(db_session, duplicate.id) is None and merge.merged_into(db_session, original.id) == []
    for report in (duplicate, original):
        assert queries.history(db_session, report.id)[-1].kind == EventKind.MERGE_UNDONE
    assert sorted(addresses(db_session, "case_update")[before:]) == [
        "both@example.org",
        "mover@example.org",
        "second@example.org",
    ]
    with pytest.raises(CoordinationError, match="undone already"):
        merge.undo(db_session, case_of(db_session, duplicate), made, by=partners.council_member)


def test_an_administrator_merges_for_the_council(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can an administrator merge a new report nobody leads (closed by "Council"), and undo it
    back to new?"""
    original = make_report()
    led_by_council(db_session, partners, original)
    duplicate = make_report()
    made = merge.merge(db_session, case_of(db_session, duplicate), str(original.id), by=partners.admin)
    closing = db_session.scalars(
        sa.select(CaseMessage).where(CaseMessage.report_id == duplicate.id).order_by(CaseMessage.id.desc())
    ).first()
    assert closing is not None and closing.author_name == "Council" and duplicate.status == ReportStatus.CLOSED
    merge.undo(db_session, case_of(db_session, duplicate), made, by=partners.admin)
    assert duplicate.status == ReportStatus.NEW


def test_only_the_lead_or_an_administrator_merges(
    db_session: Session, partners: Partners, pair: tuple[Report, Report]
) -> None:
    """Is a supporting partner, or an organisation not on the case, not allowed to merge or undo?"""
    duplicate, original = pair
    for outsider in (partners.police_member, partners.housing_member):
        with pytest.raises(NotAllowed):
            merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=outsider)
    made = merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=partners.council_member)
    with pytest.raises(NotAllowed):
        merge.undo(db_session, case_of(db_session, duplicate), made, by=partners.police_member)


@pytest.mark.parametrize(
    ("into", "message"),
    [
        ("", "Enter the reference of the report this one duplicates"),
        ("the sofa one", "Enter a report reference like TC-000123"),
        ("self", "cannot be merged into itself"),
        ("TC-999999", "it is not a published report on a case your organisation is on"),
        ("unpublished", "it is not a published report on a case your organisation is on"),
        ("not-ours", "it is not a published report on a case your organisation is on"),
        ("closed", "is closed: merge only into a report that is still open"),
        ("merged-away", "is itself merged into another report"),
    ],
)
def test_merging_into_the_wrong_report_is_refused(
    db_session: Session,
    partners: Partners,
    pair: tuple[Report, Report],
    make_report: MakeReport,
    into: str,
    message: str,
) -> None:
    """Is a merge into nothing, itself, a report the person cannot see, a closed report or one
    merged away refused, saying why, with nothing changed?"""
    duplicate, original = pair
    if into == "self":
        into = duplicate.reference
    elif into == "unpublished":
        into = make_report(publish=False).reference
    elif into == "not-ours":
        into = make_report(slug="noise").reference  # only housing has it
    elif into == "closed":
        change_status(
            db_session,
            case_of(db_session, original),
            ReportStatus.CLOSED,
            by=partners.council_member,
            organisation=partners.council,
            actor=Actor.LEAD_PARTNER,
            note="Done",
            closure=Closure(CloseReason.NO_FURTHER_ACTION),
        )
        into = original.reference
    elif into == "merged-away":
        third = make_report()
        led_by_council(db_session, partners, third)
        merge.merge(db_session, case_of(db_session, original), third.reference, by=partners.council_member)
        into = original.reference
    with pytest.raises(CoordinationError) as refused:
        merge.merge(db_session, case_of(db_session, duplicate), into, by=partners.council_member)
    assert message in refused.value.errors["into"]
    assert duplicate.status == ReportStatus.ACKNOWLEDGED and merge.active_merge(db_session, duplicate.id) is None


def test_a_report_merged_already_or_with_duplicates_of_its_own_is_refused(
    db_session: Session, partners: Partners, pair: tuple[Report, Report], make_report: MakeReport
) -> None:
    """Is a report that is merged already refused a second merge, and a report with duplicates
    merged into it refused too (so undoing never loses anyone)?"""
    duplicate, original = pair
    third = make_report()
    led_by_council(db_session, partners, third)
    merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=partners.council_member)
    with pytest.raises(CoordinationError) as closed:
        merge.merge(db_session, case_of(db_session, duplicate), third.reference, by=partners.council_member)
    assert "only an open report can be merged" in closed.value.errors["status"]
    with pytest.raises(CoordinationError) as has_duplicates:
        merge.merge(db_session, case_of(db_session, original), third.reference, by=partners.council_member)
    assert "Other reports are merged into" in has_duplicates.value.errors["status"]


def test_a_merge_is_not_undone_once_the_report_has_moved_on(
    db_session: Session, partners: Partners, pair: tuple[Report, Report]
) -> None:
    """Is undoing refused when the duplicate is no longer closed as that duplicate (an
    administrator reopened it since)?"""
    duplicate, original = pair
    made = merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=partners.council_member)
    change_status(
        db_session,
        case_of(db_session, duplicate),
        ReportStatus.NEW,
        by=partners.admin,
        organisation=None,
        actor=Actor.ADMIN,
        note="Not a duplicate.",
    )
    with pytest.raises(CoordinationError, match="has changed since it was merged"):
        merge.undo(db_session, case_of(db_session, duplicate), made, by=partners.admin)


# --- The case pages ---------------------------------------------------------------------------------


def test_merging_and_undoing_from_the_case_pages(
    client: FlaskClient, db_session: Session, partners: Partners, pair: tuple[Report, Report], login: Login
) -> None:
    """Does the lead merge from the duplicate's page (a bad reference comes back 400 keeping
    it), see "Merged into" with an undo button there and the duplicate listed on the original's
    page, and undo it?"""
    duplicate, original = pair
    login(partners.council_member)
    page = client.get(f"/cases/{duplicate.id}")
    assert "Merge into another report" in page.text
    bad = client.post(f"/cases/{duplicate.id}/merge", data={"merge-into": "TC-99999x"})
    assert bad.status_code == 400 and 'href="#merge-into"' in bad.text and 'value="TC-99999x"' in bad.text
    done = client.post(f"/cases/{duplicate.id}/merge", data={"merge-into": original.reference})
    assert done.status_code == 302
    merged = client.get(done.location).text
    assert f'Merged into <a class="govuk-link" href="/reports/{original.id}">{original.reference}</a>' in merged
    assert "Undo the merge" in merged and "Merge into another report" not in merged
    on_original = client.get(f"/cases/{original.id}").text
    assert "Duplicates merged into this case" in on_original and duplicate.reference in on_original
    made = merge.active_merge(db_session, duplicate.id)
    assert made is not None
    assert client.post(f"/cases/{original.id}/merges/{made.id}/undo").status_code == 404
    undone = client.post(f"/cases/{duplicate.id}/merges/{made.id}/undo")
    assert undone.status_code == 302 and duplicate.status == ReportStatus.ACKNOWLEDGED
    again = client.post(f"/cases/{duplicate.id}/merges/{made.id}/undo")
    assert again.status_code == 400 and "undone already" in again.text


def test_a_supporting_partner_cannot_merge_from_the_page(
    client: FlaskClient, db_session: Session, partners: Partners, pair: tuple[Report, Report], login: Login
) -> None:
    """Is the supporting police shown no merge form and refused (403) a crafted merge or undo?"""
    duplicate, original = pair
    made = merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=partners.council_member)
    merge.undo(db_session, case_of(db_session, duplicate), made, by=partners.council_member)
    login(partners.police_member)
    assert "Merge into another report" not in client.get(f"/cases/{duplicate.id}").text
    assert client.post(f"/cases/{duplicate.id}/merge", data={"merge-into": original.reference}).status_code == 403
    assert client.post(f"/cases/{duplicate.id}/merges/{made.id}/undo").status_code == 403
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseMerge)) == 1


def test_claims_still_work_after_a_merge_is_undone(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """After an administrator merges and undoes a new report, can an organisation still claim
    its lead and acknowledge it?"""
    original = make_report()
    led_by_council(db_session, partners, original)
    duplicate = make_report()
    made = merge.merge(db_session, case_of(db_session, duplicate), original.reference, by=partners.admin)
    merge.undo(db_session, case_of(db_session, duplicate), made, by=partners.admin)
    claim_case(db_session, duplicate, partners.police, role="lead", by=partners.police_member)
    assert duplicate.status == ReportStatus.ACKNOWLEDGED
