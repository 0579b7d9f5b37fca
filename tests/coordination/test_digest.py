"""The coordinators' daily digest: what it lists for each organisation, that it is one email a
day per coordinator at most, and that nothing is sent when there is nothing to say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import digest
from app.coordination.claims import claim_case
from app.coordination.models import ActionStatus, CaseAction, CaseHandoff, HandoffState
from app.coordination.queries import load_case
from app.mail.models import OutboxEmail
from app.partners.models import Membership, Organisation, OrgRole
from app.reports.models import Report, ReportStatus
from tests.coordination.conftest import ST_MICHAELS, Partners

MakeReport = Callable[..., Report]
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 7am on Wednesday 25 November
BASE = "http://127.0.0.1:5000"


def digests(db_session: Session, to: str | None = None) -> list[OutboxEmail]:
    query = sa.select(OutboxEmail).where(OutboxEmail.kind == "coordinator_digest").order_by(OutboxEmail.id)
    if to is not None:
        query = query.where(OutboxEmail.to_address == to)
    return list(db_session.scalars(query))


def routed_at(db_session: Session, report: Report, when: dt.datetime) -> None:
    """Pretend ``report`` was routed (and published) at ``when``, with deadlines to match."""
    from app.coordination import deadlines

    report.published_at = when
    case = load_case(db_session, report.id)
    assert case is not None
    for route in case.routes:
        route.routed_at = when
    deadlines.refresh(db_session, report)


def test_the_digest_lists_each_kind_of_waiting_and_overdue_work_with_links(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does the police coordinator's digest count and link: reports routed and unled, overdue
    acknowledgements, overdue resolutions, overdue open actions and hand-offs offered to the
    police, without report titles, and leave out what is not due or done?"""
    fresh = make_report(title="Secret title A", created_at=NOW - dt.timedelta(hours=2))
    late = make_report(title="Secret title B")
    routed_at(db_session, late, NOW - dt.timedelta(days=10))
    ours = make_report()
    routed_at(db_session, ours, NOW - dt.timedelta(days=40))
    claim_case(
        db_session, ours, partners.police, role="lead", by=partners.police_member, now=NOW - dt.timedelta(days=39)
    )
    offered = make_report()
    claim_case(db_session, offered, partners.council, role="lead", by=partners.council_member)
    yesterday = dt.date(2026, 11, 24)
    db_session.add_all(
        [
            CaseAction(
                report_id=ours.id,
                organisation_id=partners.police.id,
                title="Clear the alley",
                assignee_id=partners.police_member.id,
                due_on=yesterday,
                status=ActionStatus.IN_PROGRESS,
            ),
            CaseAction(report_id=ours.id, organisation_id=partners.police.id, title="Due today", due_on=NOW.date()),
            CaseAction(
                report_id=ours.id,
                organisation_id=partners.police.id,
                title="Done late",
                due_on=yesterday,
                status=ActionStatus.DONE,
            ),
            CaseHandoff(
                report_id=offered.id,
                from_organisation_id=partners.council.id,
                to_organisation_id=partners.police.id,
                reason="Yours",
                state=HandoffState.OFFERED,
                offered_at=NOW - dt.timedelta(hours=20),
            ),
        ]
    )
    db_session.flush()
    assert digest.send_digests(db_session, now=NOW) >= 1
    [email] = digests(db_session, partners.police_member.email)
    body = email.text_body
    assert email.subject == "TellUs Coventry: Waiting and overdue work for Wednesday 25 November"
    assert "Police\n======" in body
    assert "Routed to you, and nobody leads them yet: 2" in body
    assert f"- {fresh.reference}: Fly-tipping, routed 2 hours ago" in body
    assert f"{BASE}/cases/{fresh.id}" in body
    assert "Acknowledgements overdue: 1" in body and f"- {late.reference}: Fly-tipping, overdue by" in body
    assert "Resolutions overdue: 1" in body and f"- {ours.reference}: Fly-tipping, overdue by" in body
    assert "Actions overdue: 1" in body and "“Clear the alley”, due 24 November, assigned to" in body
    assert "Due today" not in body and "Done late" not in body
    assert "Lead hand-offs offered to you: 1" in body and f"- {offered.reference}: offered by Council" in body
    assert f"{BASE}/inbox?org={partners.police.id}" in body
    assert "Secret title" not in body and "Secret title" not in email.html_body
    assert f'href="{BASE}/cases/{late.id}"' in email.html_body


def test_only_ten_references_are_listed_with_how_many_more(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """With 12 reports routed and unled, does the digest count 12, list 10 and say "and 2 more"?"""
    for _ in range(12):
        make_report(created_at=NOW - dt.timedelta(hours=1))
    digest.send_digests(db_session, now=NOW)
    [email] = digests(db_session, partners.police_member.email)
    assert "Routed to you, and nobody leads them yet: 12" in email.text_body
    assert email.text_body.count(f"{BASE}/cases/") == 10 and "- and 2 more" in email.text_body


def test_a_coordinator_gets_at_most_one_digest_a_day(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Run twice on the same UK day, is the digest sent once; and again the next day?"""
    make_report(created_at=NOW - dt.timedelta(hours=1))
    assert digest.send_digests(db_session, now=NOW) == 1
    assert digest.send_digests(db_session, now=NOW + dt.timedelta(hours=16)) == 0  # 11pm, same day
    assert len(digests(db_session)) == 1
    assert digest.send_digests(db_session, now=NOW + dt.timedelta(days=1)) == 1
    assert len(digests(db_session)) == 2


def test_nothing_is_sent_when_there_is_nothing_to_say(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """With only a report the police lead on time, and a closed one, is no digest sent at all?"""
    report = make_report(created_at=NOW - dt.timedelta(hours=1))
    claim_case(db_session, report, partners.police, role="lead", by=partners.police_member)
    closed = make_report(created_at=NOW - dt.timedelta(days=60))
    closed.status = ReportStatus.CLOSED
    db_session.flush()
    assert digest.send_digests(db_session, now=NOW) == 0
    assert digests(db_session) == []


def test_one_email_covers_every_organisation_a_coordinator_coordinates_and_only_coordinators(
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
) -> None:
    """Does a coordinator of two busy organisations get one email with a section for each
    (an organisation with nothing left out), while members and deactivated organisations get none?"""
    person = make_user(email="two@example.org")
    quiet = make_organisation(name="Quiet", members={person: "coordinator"}, wards=[ST_MICHAELS])
    for org in (partners.council, partners.housing):
        db_session.add(Membership(user_id=person.id, organisation_id=org.id, role=OrgRole.COORDINATOR))
    make_report(slug="fly-tipping", created_at=NOW - dt.timedelta(hours=1))
    make_report(slug="noise", created_at=NOW - dt.timedelta(hours=1))
    partners.police.active = False
    db_session.flush()
    digest.send_digests(db_session, now=NOW)
    [email] = digests(db_session, "two@example.org")
    assert "Council\n=======" in email.text_body and "Housing\n=======" in email.text_body
    assert quiet.name not in email.text_body.split("You received")[0]
    assert digests(db_session, partners.council_member.email) == []  # a member, not a coordinator
    assert digests(db_session, partners.police_member.email) == []  # the police are deactivated
