"""Partner pages through the browser's eyes: invitations end to end, member management,
coverage, object-level isolation between organisations, and query counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.partners.models import Invitation, Membership, Organisation, OrgRole
from app.reports.models import Category
from tests.conftest import PASSWORD
from tests.partners.conftest import BABLAKE, ST_MICHAELS, invitation_link

MakeUser = Callable[..., User]
MakeOrg = Callable[..., Organisation]
Login = Callable[[User], None]


def actions(session: Session) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def membership_of(org: Organisation, user: User) -> Membership:
    return next(m for m in org.memberships if m.user_id == user.id)


def invite(client: FlaskClient, org: Organisation, email: str, role: str = "member") -> Any:
    return client.post(f"/organisations/{org.id}/invite", data={"email": email, "role": role})


# --- Invitations end to end ------------------------------------------------------------------


def test_a_coordinator_invites_a_new_person_who_creates_an_account_and_joins(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Can a coordinator invite someone new, who follows the link, creates an account and is signed in as a member?"""
    coordinator = make_user()
    org = make_organisation(name="Org A", members={coordinator: "coordinator"})
    login(coordinator)
    response = invite(client, org, "newcomer@example.org")
    assert response.status_code == 302 and response.location.endswith(f"/organisations/{org.id}")
    page = client.get(response.location)
    assert "Invitation sent to newcomer@example.org" in page.text and "newcomer@example.org" in page.text
    client.post("/sign-out")

    path = invitation_link(db_session, "newcomer@example.org")
    form = client.get(path)
    assert form.status_code == 200 and "Create your account to accept" in form.text and "Org A" in form.text
    weak = client.post(path, data={"name": "Nia Newcomer", "password": "short", "password_confirm": "short"})
    assert weak.status_code == 400 and "There is a problem" in weak.text and 'value="Nia Newcomer"' in weak.text
    joined = client.post(path, data={"name": "Nia Newcomer", "password": PASSWORD, "password_confirm": PASSWORD})
    assert joined.status_code == 302 and joined.location.endswith(f"/organisations/{org.id}")
    assert "You have joined Org A as a member" in client.get(joined.location).text

    user = db_session.scalar(sa.select(User).where(User.email == "newcomer@example.org"))
    assert user is not None and user.is_verified
    assert [(m.organisation_id, m.role) for m in user.memberships] == [(org.id, OrgRole.MEMBER)]
    assert client.get(path).status_code == 400  # single use
    assert {"invitation_sent", "account_created", "invitation_accepted"} <= set(actions(db_session))


def test_an_existing_account_signs_in_to_accept(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """If the invited address has an account, must its owner sign in (no second account), then accept?"""
    coordinator, invitee = make_user(), make_user(email="has-account@example.org")
    org = make_organisation(members={coordinator: "coordinator"})
    login(coordinator)
    invite(client, org, invitee.email)
    client.post("/sign-out")

    path = invitation_link(db_session, invitee.email)
    page = client.get(path)
    assert (
        page.status_code == 200 and "Sign in to accept" in page.text and f"next={path}" in page.text.replace("%2F", "/")
    )
    sneaky = client.post(path, data={"name": "Someone", "password": PASSWORD, "password_confirm": PASSWORD})
    assert sneaky.status_code == 400 and invitee.memberships == []
    signed_in = client.post(f"/sign-in?next={path}", data={"email": invitee.email, "password": PASSWORD})
    assert signed_in.location == path
    assert "Accept invitation" in client.get(path).text
    assert client.post(path).status_code == 302
    db_session.refresh(invitee)
    assert [m.organisation_id for m in invitee.memberships] == [org.id]


def test_a_forwarded_invitation_cannot_be_used_by_someone_else(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Does someone signed in with another address get 403 and join nothing?"""
    coordinator, other = make_user(), make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    login(coordinator)
    invite(client, org, "intended@example.org")
    client.post("/sign-out")
    path = invitation_link(db_session, "intended@example.org")
    login(other)
    page = client.get(path)
    assert page.status_code == 403 and "intended@example.org" in page.text
    assert client.post(path).status_code == 403
    assert other.memberships == []
    assert db_session.scalar(sa.select(Invitation.accepted_at)) is None


def test_an_expired_invitation_link_is_refused(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Does a link older than 72 hours show the problem page and create nothing?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    login(coordinator)
    invite(client, org, "late@example.org")
    client.post("/sign-out")
    invitation = db_session.scalars(sa.select(Invitation)).one()
    invitation.expires_at = invitation.created_at - dt.timedelta(seconds=1)
    db_session.flush()
    path = invitation_link(db_session, "late@example.org")
    page = client.get(path)
    assert page.status_code == 400 and "expired" in page.text
    post = client.post(path, data={"name": "Late", "password": PASSWORD, "password_confirm": PASSWORD})
    assert post.status_code == 400
    assert db_session.scalar(sa.select(User).where(User.email == "late@example.org")) is None


def test_the_invite_form_keeps_what_was_entered(
    client: FlaskClient, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Is a bad address shown in the error summary, with the address and chosen role kept?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    login(coordinator)
    response = invite(client, org, "not-an-address", role="coordinator")
    assert response.status_code == 400
    assert 'href="#email"' in response.text and 'value="not-an-address"' in response.text
    assert 'value="coordinator" checked' in response.text


def test_a_coordinator_withdraws_an_invitation(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Does withdrawing a pending invitation from the organisation page stop its link?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    login(coordinator)
    invite(client, org, "maybe@example.org")
    invitation = db_session.scalars(sa.select(Invitation)).one()
    assert "maybe@example.org" in client.get(f"/organisations/{org.id}").text
    response = client.post(f"/organisations/{org.id}/invitations/{invitation.id}/revoke")
    assert response.status_code == 302 and invitation.revoked_at is not None
    client.post("/sign-out")
    assert client.get(invitation_link(db_session, "maybe@example.org")).status_code == 400


# --- Members ---------------------------------------------------------------------------------


def test_a_coordinator_changes_a_role_and_it_is_audited(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Does the change-role page promote a member and write a role_changed event?"""
    coordinator, member = make_user(), make_user(name="Mo Member")
    org = make_organisation(members={coordinator: "coordinator", member: "member"})
    membership = membership_of(org, member)
    login(coordinator)
    url = f"/organisations/{org.id}/members/{membership.id}/role"
    assert 'value="member" checked' in client.get(url).text
    response = client.post(url, data={"role": "coordinator"})
    assert response.status_code == 302
    assert membership.role == OrgRole.COORDINATOR
    assert "role_changed" in actions(db_session)


def test_the_last_coordinator_cannot_be_removed_through_the_page(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Does removing or demoting the only coordinator show an error and change nothing?"""
    coordinator, member = make_user(), make_user()
    org = make_organisation(members={coordinator: "coordinator", member: "member"})
    mine = membership_of(org, coordinator)
    login(coordinator)
    removed = client.post(f"/organisations/{org.id}/members/{mine.id}/remove")
    assert removed.status_code == 400 and "only coordinator" in removed.text and 'href="#membership"' in removed.text
    demoted = client.post(f"/organisations/{org.id}/members/{mine.id}/role", data={"role": "member"})
    assert demoted.status_code == 400 and "at least one coordinator" in demoted.text
    assert mine.role == OrgRole.COORDINATOR and db_session.get(Membership, mine.id) is not None


def test_a_coordinator_removes_a_member(
    client: FlaskClient, db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Does the remove page ask first, then remove the member (audited) and keep their account?"""
    coordinator, member = make_user(), make_user(name="Leaving Person")
    org = make_organisation(members={coordinator: "coordinator", member: "member"})
    membership = membership_of(org, member)
    login(coordinator)
    url = f"/organisations/{org.id}/members/{membership.id}/remove"
    assert "Remove Leaving Person?" in client.get(url).text
    assert client.post(url).status_code == 302
    assert db_session.get(Membership, membership.id) is None
    assert db_session.get(User, member.id) is not None
    assert "member_removed" in actions(db_session)


# --- Object-level isolation ------------------------------------------------------------------


@pytest.fixture
def two_orgs(make_user: MakeUser, make_organisation: MakeOrg) -> dict[str, Any]:
    """Org A with a coordinator and a member; org B with its own coordinator, member and coverage."""
    people = {name: make_user(name=name) for name in ("coord_a", "member_a", "coord_b", "member_b")}
    org_a = make_organisation(name="Org A", members={people["coord_a"]: "coordinator", people["member_a"]: "member"})
    org_b = make_organisation(
        name="Org B",
        members={people["coord_b"]: "coordinator", people["member_b"]: "member"},
        wards=[ST_MICHAELS],
        categories=["litter"],
    )
    return {**people, "org_a": org_a, "org_b": org_b}


def test_org_b_member_ids_posted_to_org_a_urls_are_not_found(
    client: FlaskClient, db_session: Session, login: Login, two_orgs: dict[str, Any]
) -> None:
    """Does org A's coordinator get 404 for org B's memberships through org A's URLs, with nothing changed?"""
    org_a, org_b = two_orgs["org_a"], two_orgs["org_b"]
    target = membership_of(org_b, two_orgs["member_b"])
    login(two_orgs["coord_a"])
    base = f"/organisations/{org_a.id}/members/{target.id}"
    assert client.post(f"{base}/remove").status_code == 404
    assert client.post(f"{base}/role", data={"role": "coordinator"}).status_code == 404
    assert client.get(f"{base}/role").status_code == 404
    assert db_session.get(Membership, target.id) is not None and target.role == OrgRole.MEMBER


def test_org_a_staff_are_forbidden_everything_of_org_b(
    client: FlaskClient,
    db_session: Session,
    login: Login,
    two_orgs: dict[str, Any],
    category: Callable[[str], Category],
) -> None:
    """Whatever the URL or form says, can org A's coordinator see or change any of org B? (403, nothing changes.)"""
    org_b = two_orgs["org_b"]
    target = membership_of(org_b, two_orgs["member_b"])
    invitation = Invitation(
        email="x@example.org",
        role="member",
        organisation_id=org_b.id,
        token_hash="0" * 64,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    db_session.add(invitation)
    db_session.flush()
    before = set(actions(db_session))
    login(two_orgs["coord_a"])
    b = f"/organisations/{org_b.id}"
    requests = [
        ("GET", b, {}),
        ("GET", f"{b}/invite", {}),
        ("POST", f"{b}/invite", {"email": "spy@example.org", "role": "coordinator"}),
        ("GET", f"{b}/members/{target.id}/role", {}),
        ("POST", f"{b}/members/{target.id}/role", {"role": "coordinator"}),
        ("GET", f"{b}/members/{target.id}/remove", {}),
        ("POST", f"{b}/members/{target.id}/remove", {}),
        ("POST", f"{b}/invitations/{invitation.id}/revoke", {}),
        ("GET", f"{b}/coverage", {}),
        ("POST", f"{b}/coverage", {"wards": BABLAKE, "categories": str(category("graffiti").id)}),
        ("GET", f"{b}/details", {}),
        ("POST", f"{b}/details", {"contact_email": "spy@example.org", "working_hours": "Never"}),
    ]
    for method, url, data in requests:
        assert client.open(url, method=method, data=data).status_code == 403, (method, url)
    db_session.expire_all()
    assert target.role == OrgRole.MEMBER and org_b.ward_codes == {ST_MICHAELS}
    assert org_b.contact_email != "spy@example.org" and invitation.revoked_at is None
    assert db_session.scalar(sa.select(Invitation).where(Invitation.email == "spy@example.org")) is None
    assert set(actions(db_session)) - before <= {"sign_in"}


def test_form_fields_cannot_point_at_another_organisation(
    client: FlaskClient, db_session: Session, login: Login, two_orgs: dict[str, Any]
) -> None:
    """If org A's coordinator adds organisation_id or membership ids of org B to A's forms, is only A affected?"""
    org_a, org_b = two_orgs["org_a"], two_orgs["org_b"]
    login(two_orgs["coord_a"])
    fields = {"organisation_id": str(org_b.id), "org_id": str(org_b.id)}
    client.post(f"/organisations/{org_a.id}/invite", data={"email": "new@example.org", "role": "member", **fields})
    client.post(f"/organisations/{org_a.id}/coverage", data={"wards": BABLAKE, **fields})
    invitation = db_session.scalars(sa.select(Invitation)).one()
    assert invitation.organisation_id == org_a.id
    db_session.expire_all()
    assert org_a.ward_codes == {BABLAKE} and org_b.ward_codes == {ST_MICHAELS}


def test_a_member_sees_their_organisation_but_cannot_manage_it(
    client: FlaskClient, login: Login, two_orgs: dict[str, Any]
) -> None:
    """Does a member see org A's page without management links, get 403 on management pages, and 403 on org B?"""
    org_a, org_b = two_orgs["org_a"], two_orgs["org_b"]
    login(two_orgs["member_a"])
    page = client.get(f"/organisations/{org_a.id}")
    assert page.status_code == 200 and "Members" in page.text
    assert "Invite someone" not in page.text and "Change role" not in page.text
    assert client.get(f"/organisations/{org_a.id}/invite").status_code == 403
    assert client.get(f"/organisations/{org_b.id}").status_code == 403
    mine = client.get("/organisations")
    assert "Org A" in mine.text and "Org B" not in mine.text


# --- Coverage and details --------------------------------------------------------------------


def test_coverage_form_saves_and_keeps_choices_on_error(
    client: FlaskClient,
    db_session: Session,
    make_user: MakeUser,
    make_organisation: MakeOrg,
    login: Login,
    category: Callable[[str], Category],
) -> None:
    """Are an unknown ward's error and the ticked boxes kept, and a valid choice saved and audited?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    login(coordinator)
    litter = str(category("litter").id)
    url = f"/organisations/{org.id}/coverage"
    bad = client.post(url, data={"wards": [BABLAKE, "E05999999"], "categories": [litter]})
    assert bad.status_code == 400 and 'href="#wards"' in bad.text
    assert f'value="{BABLAKE}" checked' in bad.text and f'value="{litter}" checked' in bad.text
    good = client.post(url, data={"wards": [BABLAKE, ST_MICHAELS], "categories": [litter]})
    assert good.status_code == 302
    assert org.ward_codes == {BABLAKE, ST_MICHAELS} and org.category_ids == {int(litter)}
    page = client.get(f"/organisations/{org.id}").text
    assert "Bablake" in page and "Litter and overflowing bins" in page
    assert "coverage_changed" in actions(db_session)


def test_contact_details_form_keeps_values_on_error(
    client: FlaskClient, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Is a bad contact email refused with both typed values kept, and a good one saved?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    login(coordinator)
    url = f"/organisations/{org.id}/details"
    bad = client.post(url, data={"contact_email": "nope", "working_hours": "Weekdays 8 till 8"})
    assert bad.status_code == 400 and 'value="nope"' in bad.text and 'value="Weekdays 8 till 8"' in bad.text
    good = client.post(url, data={"contact_email": "desk@example.org", "working_hours": "Weekdays, 8am to 8pm"})
    assert good.status_code == 302
    assert org.contact_email == "desk@example.org"


def test_demo_organisations_say_so(
    client: FlaskClient, make_user: MakeUser, make_organisation: MakeOrg, login: Login
) -> None:
    """Is a demo organisation labelled "(demo)" on the list and its own page?"""
    member = make_user()
    org = make_organisation(name="Street Services", members={member: "member"}, is_demo=True)
    login(member)
    assert "Street Services (demo)" in client.get("/organisations").text
    assert "Street Services (demo)" in client.get(f"/organisations/{org.id}").text


# --- Query counts ----------------------------------------------------------------------------


def test_the_organisation_page_does_not_query_per_member(
    client: FlaskClient,
    make_user: MakeUser,
    make_organisation: MakeOrg,
    login: Login,
    count_queries: Callable[[], Any],
) -> None:
    """Does the organisation page run the same number of queries with 2 members as with 12?"""
    coordinator = make_user()
    small = make_organisation(members={coordinator: "coordinator", make_user(): "member"})
    big = make_organisation(
        members={coordinator: "coordinator", **{make_user(): "member" for _ in range(11)}}, wards=[BABLAKE]
    )
    login(coordinator)
    counts = []
    for org in (small, big):
        with count_queries() as q:
            assert client.get(f"/organisations/{org.id}").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_the_organisations_list_does_not_query_per_organisation(
    client: FlaskClient,
    make_user: MakeUser,
    make_organisation: MakeOrg,
    login: Login,
    count_queries: Callable[[], Any],
) -> None:
    """Does "your organisations" run the same number of queries for 1 organisation as for 8?"""
    few, many = make_user(), make_user()
    make_organisation(members={few: "member"})
    for _ in range(8):
        make_organisation(members={many: "member"}, wards=[BABLAKE])
    counts = []
    for person in (few, many):
        login(person)
        with count_queries() as q:
            assert client.get("/organisations").status_code == 200
        counts.append(q.count)
        client.post("/sign-out")
    assert counts[0] == counts[1], counts
