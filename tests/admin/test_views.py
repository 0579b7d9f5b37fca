"""Administration pages: organisations, coordinators, ward officers, the audit log and the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent, AuditLogIsAppendOnly
from app.audit.services import record
from app.mail.models import EmailStatus, OutboxEmail
from app.mail.services import queue_email
from app.partners.models import Invitation, Organisation, OrgRole
from app.reports.models import Sector
from tests.conftest import PASSWORD
from tests.partners.conftest import BABLAKE, ST_MICHAELS, invitation_link

MakeUser = Callable[..., User]
MakeOrg = Callable[..., Organisation]
Login = Callable[[User], None]


def actions(session: Session) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def admin(make_user: MakeUser, login: Login) -> User:
    person = make_user(admin=True, name="Ada Admin", email="ada@example.org")
    login(person)
    return person


# --- Organisations ---------------------------------------------------------------------------


def test_an_administrator_creates_an_organisation_keeping_input_on_error(
    client: FlaskClient, db_session: Session, admin: User
) -> None:
    """Does the new-organisation form keep every value on error, then create it (audited)?"""
    form = {"name": "", "sector": "police", "contact_email": "npt@example.org", "working_hours": "Daily, 8am to 8pm"}
    bad = client.post("/admin/organisations/new", data=form)
    assert bad.status_code == 400 and 'href="#name"' in bad.text
    assert 'value="police" checked' in bad.text and 'value="npt@example.org"' in bad.text
    assert 'value="Daily, 8am to 8pm"' in bad.text
    good = client.post("/admin/organisations/new", data={**form, "name": "West Midlands Police", "active": "yes"})
    org = db_session.scalar(sa.select(Organisation).where(Organisation.name == "West Midlands Police"))
    assert org is not None and org.sector == Sector.POLICE and org.active
    assert good.location.endswith(f"/organisations/{org.id}")
    assert "organisation_created" in actions(db_session)


def test_an_administrator_edits_and_deactivates_an_organisation(
    client: FlaskClient, db_session: Session, admin: User, make_organisation: MakeOrg
) -> None:
    """Does the edit form show current values, save changes and record them in the audit log?"""
    org = make_organisation(name="Old Name")
    page = client.get(f"/admin/organisations/{org.id}/edit")
    assert 'value="Old Name"' in page.text and 'value="yes" checked' in page.text
    response = client.post(
        f"/admin/organisations/{org.id}/edit",
        data={"name": "New Name", "sector": "fire", "contact_email": "fire@example.org", "working_hours": "24/7"},
    )
    assert response.status_code == 302
    assert (org.name, org.sector, org.active) == ("New Name", Sector.FIRE, False)
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "organisation_updated")).one()
    assert event.actor_id == admin.id and "name: 'Old Name' → 'New Name'" in event.detail


def test_an_administrator_invites_the_first_coordinator(
    client: FlaskClient, db_session: Session, admin: User, make_organisation: MakeOrg
) -> None:
    """Does the invited coordinator, after accepting, manage the organisation's members?"""
    org = make_organisation(name="Food Network")
    assert "Invite coordinator" in client.get("/admin/organisations").text
    response = client.post(f"/admin/organisations/{org.id}/invite-coordinator", data={"email": "lead@example.org"})
    assert response.status_code == 302
    client.post("/sign-out")
    path = invitation_link(db_session, "lead@example.org")
    client.post(path, data={"name": "Lead Person", "password": PASSWORD, "password_confirm": PASSWORD})
    lead = db_session.scalar(sa.select(User).where(User.email == "lead@example.org"))
    assert lead is not None and [m.role for m in lead.memberships] == [OrgRole.COORDINATOR]
    assert client.get(f"/organisations/{org.id}/invite").status_code == 200


# --- Ward officers ---------------------------------------------------------------------------


def test_a_ward_officer_is_invited_accepts_and_must_set_up_a_second_factor(
    client: FlaskClient, db_session: Session, admin: User
) -> None:
    """Does an invited ward officer get the chosen wards and then have to set up TOTP before anything else?"""
    bad = client.post("/admin/ward-officers/invite", data={"email": "wo@example.org"})
    assert bad.status_code == 400 and "Select at least one ward" in bad.text and 'value="wo@example.org"' in bad.text
    sent = client.post("/admin/ward-officers/invite", data={"email": "wo@example.org", "wards": [BABLAKE]})
    assert sent.status_code == 302
    assert "wo@example.org" in client.get("/admin/ward-officers").text
    client.post("/sign-out")

    path = invitation_link(db_session, "wo@example.org")
    assert "ward officer for Bablake" in client.get(path).text
    accepted = client.post(path, data={"name": "Wendy Officer", "password": PASSWORD, "password_confirm": PASSWORD})
    assert accepted.status_code == 302
    officer = db_session.scalar(sa.select(User).where(User.email == "wo@example.org"))
    assert officer is not None and officer.ward_codes == {BABLAKE}
    assert client.get("/organisations").location.endswith("/account/two-factor")


def test_an_administrator_changes_a_ward_officers_wards(
    client: FlaskClient, db_session: Session, admin: User, make_user: MakeUser
) -> None:
    """Does the wards page keep ticks on error, save valid wards, and audit the change?"""
    officer = make_user(wards=[ST_MICHAELS], name="Olu Officer")
    url = f"/admin/ward-officers/{officer.id}/wards"
    assert f'value="{ST_MICHAELS}" checked' in client.get(url).text
    bad = client.post(url, data={"wards": [BABLAKE, "E05999999"]})
    assert bad.status_code == 400 and f'value="{BABLAKE}" checked' in bad.text
    assert client.post(url, data={"wards": [BABLAKE]}).status_code == 302
    assert officer.ward_codes == {BABLAKE}
    assert "ward_officer_wards_changed" in actions(db_session)


def test_a_ward_officer_invitation_can_be_withdrawn(client: FlaskClient, db_session: Session, admin: User) -> None:
    """Does withdrawing a ward officer invitation stop its link?"""
    client.post("/admin/ward-officers/invite", data={"email": "maybe@example.org", "wards": [BABLAKE]})
    invitation = db_session.scalars(sa.select(Invitation)).one()
    assert client.post(f"/admin/ward-officers/invitations/{invitation.id}/revoke").status_code == 302
    assert invitation.revoked_at is not None and "invitation_revoked" in actions(db_session)


# --- Audit log -------------------------------------------------------------------------------


def _event(session: Session, action: str, email: str, at: dt.datetime) -> None:
    event = record(session, action, actor_email=email, target="user:1", detail=f"{action} by {email}")
    session.execute(sa.update(AuditEvent).where(AuditEvent.id == event.id).values(at=at))


def test_the_audit_log_filters_by_action_person_and_dates(
    client: FlaskClient, db_session: Session, admin: User
) -> None:
    """Do the action, person and date filters each narrow the list, with UK dates?"""
    _event(db_session, "role_changed", "carol@example.org", dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    _event(db_session, "invitation_sent", "dan@example.org", dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC))
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST).
    _event(db_session, "invitation_sent", "erin@example.org", dt.datetime(2026, 5, 31, 23, 30, tzinfo=dt.UTC))
    db_session.expire_all()

    def shown(**args: str) -> set[str]:
        page = client.get("/admin/audit", query_string=args)
        assert page.status_code == 200
        return {e for e in ("carol@", "dan@", "erin@") if e in page.text}

    assert shown() == {"carol@", "dan@", "erin@"}
    assert shown(action="invitation_sent") == {"dan@", "erin@"}
    assert shown(person="CAROL") == {"carol@"}
    assert shown(**{"from": "2026-03-15", "to": "2026-05-31"}) == {"dan@"}
    assert shown(**{"from": "2026-06-01", "to": "2026-06-01"}) == {"erin@"}
    bad = client.get("/admin/audit", query_string={"from": "2026-04-01", "to": "2026-03-01"})
    assert bad.status_code == 400 and 'href="#to"' in bad.text


def test_the_audit_log_is_paginated(client: FlaskClient, db_session: Session, admin: User) -> None:
    """With 120 events, does page 1 show 50, page 3 the rest, and a page beyond the end give 404?"""
    for n in range(120):
        record(db_session, "test_event", actor_email=f"p{n}@example.org")
    first = client.get("/admin/audit", query_string={"action": "test_event"})
    assert "120 events" in first.text and "showing 1 to 50" in first.text
    assert "action=test_event" in first.text and "page=2" in first.text
    third = client.get("/admin/audit", query_string={"action": "test_event", "page": 3})
    assert "showing 101 to 120" in third.text
    assert client.get("/admin/audit", query_string={"action": "test_event", "page": 4}).status_code == 404


def test_nobody_can_edit_the_audit_log(app: Flask, client: FlaskClient, db_session: Session, admin: User) -> None:
    """Is the audit log read-only: GET-only pages without forms that post, and the ORM refusing changes?"""
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule or "audit" in r.endpoint]
    assert audit_rules, "the audit page is missing"
    for rule in audit_rules:
        assert rule.methods is not None and rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.open("/admin/audit", method=method).status_code == 405
    page = client.get("/admin/audit").text
    assert 'method="post"' not in page.split("<main", 1)[1].split("</main>", 1)[0]
    event = db_session.scalars(sa.select(AuditEvent)).first()
    assert event is not None
    event.detail = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.delete(db_session.scalars(sa.select(AuditEvent)).first())
        db_session.flush()


def test_invitations_role_changes_and_admin_edits_reach_the_audit_log_page(
    client: FlaskClient, db_session: Session, admin: User, make_organisation: MakeOrg, make_user: MakeUser
) -> None:
    """After an invitation, a role change and an edit, does the audit page list each with the administrator and IP?"""
    member = make_user()
    org = make_organisation(members={member: "member"})
    client.post(f"/admin/organisations/{org.id}/invite-coordinator", data={"email": "c@example.org"})
    membership = org.memberships[0]
    client.post(f"/organisations/{org.id}/members/{membership.id}/role", data={"role": "coordinator"})
    client.post(f"/organisations/{org.id}/details", data={"contact_email": "d@example.org", "working_hours": "24/7"})
    page = client.get("/admin/audit").text
    for action in ("invitation sent", "role changed", "organisation updated"):
        assert action in page
    assert "ada@example.org" in page and "127.0.0.1" in page


# --- Outbox ----------------------------------------------------------------------------------


def test_the_outbox_page_lists_emails_needing_attention(client: FlaskClient, db_session: Session, admin: User) -> None:
    """Are failed and uncertain emails listed with their error, and sent ones only counted?"""
    context = {"name": "Sam", "verify_url": "http://127.0.0.1:5000/x"}
    failed = queue_email(db_session, to="failed@example.org", template="verify_email", context=context)
    failed.status, failed.last_error = EmailStatus.FAILED, "550 mailbox unavailable"
    uncertain = queue_email(db_session, to="unsure@example.org", template="verify_email", context=context)
    uncertain.status = EmailStatus.UNCERTAIN
    queue_email(db_session, to="fine@example.org", template="verify_email", context=context)
    db_session.flush()
    page = client.get("/admin/outbox").text
    assert "failed@example.org" in page and "550 mailbox unavailable" in page and "unsure@example.org" in page
    assert "fine@example.org" not in page
    assert "2 need attention" in client.get("/admin").text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == 3


# --- Query counts ----------------------------------------------------------------------------


def test_the_admin_organisations_list_does_not_query_per_organisation(
    client: FlaskClient,
    admin: User,
    make_user: MakeUser,
    make_organisation: MakeOrg,
    count_queries: Callable[[], Any],
) -> None:
    """Does the organisations list run the same number of queries for 2 organisations as for 12?"""

    def measure() -> int:
        with count_queries() as q:
            assert client.get("/admin/organisations").status_code == 200
        return q.count

    for _ in range(2):
        make_organisation(members={make_user(): "coordinator"}, wards=[BABLAKE])
    few = measure()
    for _ in range(10):
        make_organisation(members={make_user(): "coordinator", make_user(): "member"}, wards=[ST_MICHAELS])
    assert measure() == few


def test_the_audit_log_does_not_query_per_event(
    client: FlaskClient, db_session: Session, admin: User, count_queries: Callable[[], Any]
) -> None:
    """Does the audit log run the same number of queries with 3 events as with 50?"""

    def measure() -> int:
        with count_queries() as q:
            assert client.get("/admin/audit").status_code == 200
        return q.count

    few = measure()
    for n in range(50):
        record(db_session, "test_event", actor_email=f"p{n}@example.org")
    assert measure() == few


def test_the_ward_officers_list_does_not_query_per_officer(
    client: FlaskClient, admin: User, make_user: MakeUser, count_queries: Callable[[], Any]
) -> None:
    """Does the ward officers list run the same number of queries for 1 officer as for 8?"""

    def measure() -> int:
        with count_queries() as q:
            assert client.get("/admin/ward-officers").status_code == 200
        return q.count

    make_user(wards=[BABLAKE])
    few = measure()
    for _ in range(7):
        make_user(wards=[ST_MICHAELS, BABLAKE])
    assert measure() == few


def test_an_administrator_signs_in_with_a_code_before_seeing_administration(
    client: FlaskClient, make_user: MakeUser
) -> None:
    """Does an administrator reach /admin only after the second factor?"""
    person = make_user(admin=True)
    first = client.post("/sign-in", data={"email": person.email, "password": PASSWORD})
    assert first.location.endswith("/sign-in/code")
    assert client.get("/admin").status_code == 302
    assert person.totp_secret is not None
    client.post("/sign-in/code", data={"code": pyotp.TOTP(person.totp_secret).now()})
    assert client.get("/admin").status_code == 200
