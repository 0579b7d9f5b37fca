"""Editing an organisation's response targets: the page (working hours, worked example,
defaults), validation that keeps what was typed, who may edit, and recomputing the deadlines
of its open cases; and working hours that cannot be read are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.coordination import targets
from app.coordination.models import ResponseTarget
from app.coordination.working_hours import parse_working_hours
from app.coordination.working_time import LONDON, Target, Targets
from app.partners.demo import ORGANISATIONS
from app.partners.models import Membership, Organisation, OrgRole
from app.reports.models import Category, Report, ReportStatus, Sector
from tests.coordination.conftest import Partners
from tests.coordination.test_deadlines import route_due

MakeReport = Callable[..., Report]
Login = Callable[[User], None]


def category_id(db_session: Session, slug: str) -> int:
    found = db_session.scalar(sa.select(Category.id).where(Category.slug == slug))
    assert found is not None
    return found


def boxes(
    cid: int, ack_hours: str = "", ack_days: str = "", resolve_hours: str = "", resolve_days: str = ""
) -> dict[str, str]:
    return {
        f"target-{cid}-acknowledge-hours": ack_hours,
        f"target-{cid}-acknowledge-days": ack_days,
        f"target-{cid}-resolve-hours": resolve_hours,
        f"target-{cid}-resolve-days": resolve_days,
    }


def test_the_targets_page_shows_hours_defaults_and_a_worked_example(
    client: FlaskClient, partners: Partners, login: Login
) -> None:
    """Does a coordinator's targets page show the organisation's working hours as written and
    as counted, the standard targets for blank boxes, and a worked example from 4pm on a Friday?"""
    login(partners.police_member)
    page = client.get(f"/organisations/{partners.police.id}/targets")
    assert page.status_code == 200
    text = page.text
    assert "Monday to Friday, 9am to 5pm" in text and "Fly-tipping" in text
    assert "the standard targets" in text and "2 working days" in text and "20 working days" in text
    assert "A report routed at 4pm on Friday" in text and "is due to be acknowledged by 5pm on Tuesday" in text


def test_an_unreadable_working_hours_text_is_flagged_on_the_targets_page(
    client: FlaskClient, partners: Partners, login: Login
) -> None:
    """When the stored working hours cannot be read, does the page say office hours are counted instead?"""
    partners.police.working_hours = "School days, 8am to 4:30pm"
    login(partners.police_member)
    page = client.get(f"/organisations/{partners.police.id}/targets").text
    assert "Cannot be read" in page and "office hours instead" in page


def test_a_coordinator_saves_targets_and_the_open_cases_are_recomputed(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does saving "acknowledge within 4 working hours, resolve within 5 working days" store
    it, audit it, and move the deadlines of the organisation's open cases in that category
    (but not closed ones, nor other organisations' routes)?"""
    tuesday = dt.datetime(2026, 11, 17, 10, 0, tzinfo=LONDON).astimezone(dt.UTC)
    open_case = make_report(created_at=tuesday)
    closed = make_report(created_at=tuesday)
    closed.status = ReportStatus.CLOSED
    db_session.flush()
    fly = category_id(db_session, "fly-tipping")
    login(partners.police_member)
    url = f"/organisations/{partners.police.id}/targets"
    done = client.post(url, data=boxes(fly, ack_hours="4", resolve_days="5"))
    assert done.status_code == 302
    assert "Targets saved for Fly-tipping" in client.get(done.location).text
    row = db_session.scalars(sa.select(ResponseTarget)).one()
    assert (row.acknowledge_minutes, row.acknowledge_days, row.resolve_minutes, row.resolve_days) == (
        240,
        None,
        None,
        5,
    )
    four_hours = tuesday + dt.timedelta(hours=4)
    assert route_due(db_session, open_case, partners.police) == four_hours
    assert route_due(db_session, closed, partners.police) != four_hours
    assert route_due(db_session, open_case, partners.council) != four_hours
    assert open_case.acknowledge_due_at == four_hours
    audit = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "response_targets_updated")).one()
    assert "Fly-tipping: the standard targets → acknowledge within 4 working hours" in audit.detail
    page = client.get(url).text
    assert 'value="4"' in page and "its own targets" in page
    # All four blank again: back to the standard targets.
    assert client.post(url, data=boxes(fly)).status_code == 302
    assert db_session.scalars(sa.select(ResponseTarget)).all() == []


def test_bad_targets_are_refused_with_every_value_kept(
    client: FlaskClient, db_session: Session, partners: Partners, login: Login
) -> None:
    """Are a word, a zero, a number over the limit and a target with neither hours nor days
    refused with 400, an error summary linking each box, and every typed value kept?"""
    fly = category_id(db_session, "fly-tipping")
    login(partners.police_member)
    url = f"/organisations/{partners.police.id}/targets"
    bad = client.post(url, data=boxes(fly, ack_hours="four", ack_days="0", resolve_days="9999"))
    assert bad.status_code == 400 and "There is a problem" in bad.text
    for suffix in ("acknowledge-hours", "acknowledge-days", "resolve-days"):
        assert f'href="#target-{fly}-{suffix}"' in bad.text
    assert "must be a whole number of working hours" in bad.text and "at least 1 working day" in bad.text
    assert "365 working days or fewer" in bad.text
    assert 'value="four"' in bad.text and 'value="0"' in bad.text and 'value="9999"' in bad.text
    pair = client.post(url, data=boxes(fly, ack_hours="8"))
    assert pair.status_code == 400 and f'href="#target-{fly}-resolve-hours"' in pair.text
    assert "leave all four boxes blank to use the standard targets" in pair.text and 'value="8"' in pair.text
    assert db_session.scalars(sa.select(ResponseTarget)).all() == []


def test_parse_targets_reads_only_the_organisations_own_categories(db_session: Session) -> None:
    """Are boxes for categories the organisation does not cover ignored, blanks read as the
    default, and both hours and days kept together?"""
    fly, litter = (db_session.get(Category, category_id(db_session, s)) for s in ("fly-tipping", "litter"))
    assert fly is not None and litter is not None
    form = {**boxes(fly.id, ack_hours="2", ack_days="1", resolve_days="10"), **boxes(litter.id, ack_hours="x")}
    chosen, errors = targets.parse_targets([fly], form)
    assert errors == {}
    assert chosen == {fly.id: Targets(Target(dt.timedelta(hours=2), 1), Target(None, 10))}
    assert targets.parse_targets([fly], {}) == ({fly.id: None}, {})


def test_only_the_organisations_coordinators_and_administrators_edit_its_targets(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    login: Login,
    make_user: Callable[..., User],
) -> None:
    """Is a coordinator of another organisation refused (403) however they ask, a member of
    the organisation refused, and an administrator allowed for any organisation?"""
    fly = category_id(db_session, "fly-tipping")
    other = make_user()
    db_session.add(Membership(user_id=other.id, organisation_id=partners.housing.id, role=OrgRole.COORDINATOR))
    db_session.flush()
    db_session.refresh(other)
    url = f"/organisations/{partners.police.id}/targets"
    login(other)
    assert client.get(url).status_code == 403
    assert client.post(url, data=boxes(fly, ack_hours="1", resolve_days="1")).status_code == 403
    client.post("/sign-out")
    login(partners.council_member)  # a member, not a coordinator, of the council
    assert client.get(f"/organisations/{partners.council.id}/targets").status_code == 403
    client.post("/sign-out")
    login(partners.admin)
    assert client.get(url).status_code == 200
    assert client.post(url, data=boxes(fly, ack_hours="1", resolve_days="1")).status_code == 302
    assert client.get("/organisations/999999999/targets").status_code == 404
    assert db_session.scalars(sa.select(ResponseTarget.organisation_id)).all() == [partners.police.id]


def test_the_organisation_page_links_to_its_targets_for_those_who_may_edit_them(
    client: FlaskClient, partners: Partners, login: Login
) -> None:
    """Does the organisation page link to the targets for its coordinator, and not for a member?"""
    login(partners.police_member)
    assert f"/organisations/{partners.police.id}/targets" in client.get(f"/organisations/{partners.police.id}").text
    client.post("/sign-out")
    login(partners.council_member)
    assert "/targets" not in client.get(f"/organisations/{partners.council.id}").text


def test_working_hours_that_cannot_be_read_are_refused_with_the_text_kept(
    client: FlaskClient, partners: Partners, login: Login
) -> None:
    """Does the contact-details form refuse working hours it cannot count (a day with no times),
    saying how to write them and keeping the text?"""
    login(partners.police_member)
    url = f"/organisations/{partners.police.id}/details"
    bad = client.post(url, data={"contact_email": "npt@example.org", "working_hours": "School days, 8am to 4:30pm"})
    assert bad.status_code == 400 and 'href="#working_hours"' in bad.text
    assert "Monday to Friday, 9am to 5pm" in bad.text and 'value="School days, 8am to 4:30pm"' in bad.text
    assert partners.police.working_hours != "School days, 8am to 4:30pm"


def test_every_demo_organisations_working_hours_can_be_read() -> None:
    """Can every demo organisation's working-hours text be counted?"""
    for spec in ORGANISATIONS:
        assert parse_working_hours(spec.hours).days, spec.name


def test_the_worked_example_starts_at_4pm_on_the_next_friday() -> None:
    """Does the example start at 4pm UK time on the coming Friday (the next one once that has passed)?"""
    wednesday = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    assert targets.example_start(wednesday) == dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.UTC)
    friday_evening = dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC)
    assert targets.example_start(friday_evening) == dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert targets.example_start(summer) == dt.datetime(2026, 7, 3, 15, 0, tzinfo=dt.UTC)  # 4pm BST


def test_an_organisation_with_no_categories_has_no_targets_to_set(
    client: FlaskClient, db_session: Session, make_user: Callable[..., User], login: Login
) -> None:
    """Does the targets page of an organisation that covers no categories say so?"""
    coordinator = make_user()
    org = Organisation(name="Empty", sector=Sector.COUNCIL, contact_email="e@example.org")
    db_session.add(org)
    db_session.flush()
    db_session.add(Membership(user_id=coordinator.id, organisation_id=org.id, role=OrgRole.COORDINATOR))
    db_session.flush()
    db_session.refresh(coordinator)
    login(coordinator)
    assert "covers no categories yet" in client.get(f"/organisations/{org.id}/targets").text
