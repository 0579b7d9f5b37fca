"""Partner services called directly: organisations, coverage, members, invitations, ward officers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.models import AuditEvent
from app.db import utcnow
from app.mail.models import OutboxEmail
from app.partners import invitations, services
from app.partners.invitations import InvitationError
from app.partners.models import Invitation, InviteRole, Membership, Organisation, OrgRole
from app.partners.services import LastCoordinator, NotAllowed, OrganisationDetails, PartnerError
from app.reports.models import Category, Sector
from tests.conftest import PASSWORD
from tests.partners.conftest import BABLAKE, ST_MICHAELS, Links

MakeUser = Callable[..., User]
MakeOrg = Callable[..., Organisation]


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def details(**overrides: Any) -> OrganisationDetails:
    values: dict[str, Any] = {
        "name": "Coventry Street Services",
        "sector": "council",
        "contact_email": "streets@example.org",
        "working_hours": "Monday to Friday, 9am to 5pm",
        **overrides,
    }
    return OrganisationDetails(**values)


# --- Organisations ---------------------------------------------------------------------------


def test_an_administrator_creates_an_organisation_and_it_is_audited(db_session: Session, make_user: MakeUser) -> None:
    """Does creating an organisation store tidy values and write an organisation_created event?"""
    admin = make_user(admin=True)
    org = services.create_organisation(
        db_session, details(name="  Coventry   Street Services ", contact_email="Streets@Example.org"), by=admin
    )
    assert (org.name, org.sector, org.contact_email, org.active) == (
        "Coventry Street Services",
        Sector.COUNCIL,
        "streets@example.org",
        True,
    )
    [event] = events(db_session, "organisation_created")
    assert event.actor_id == admin.id and event.target == f"organisation:{org.id}"


def test_organisation_details_are_checked_field_by_field(db_session: Session, make_user: MakeUser) -> None:
    """Are a missing name, an unknown sector, a bad email and empty hours all reported at once?"""
    admin = make_user(admin=True)
    with pytest.raises(PartnerError) as caught:
        services.create_organisation(
            db_session, details(name=" ", sector="pirates", contact_email="nope", working_hours=""), by=admin
        )
    assert set(caught.value.errors) == {"name", "sector", "contact_email", "working_hours"}


def test_organisation_names_are_unique_whatever_the_case(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Is a second organisation called the same (in any case) refused?"""
    make_organisation(name="Coventry Street Services")
    with pytest.raises(PartnerError) as caught:
        services.create_organisation(db_session, details(name="coventry street SERVICES"), by=make_user(admin=True))
    assert "already" in caught.value.errors["name"]


def test_only_administrators_create_or_rename_organisations(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Can a coordinator create an organisation or rename their own? (No.)"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    with pytest.raises(NotAllowed):
        services.create_organisation(db_session, details(), by=coordinator)
    with pytest.raises(NotAllowed):
        services.update_organisation(db_session, org, details(name="Renamed"), by=coordinator)


def test_updating_an_organisation_records_what_changed(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Does an edit record each changed field, and an edit changing nothing record nothing?"""
    admin = make_user(admin=True)
    org = make_organisation(name="Old name")
    same = details(name="Old name", contact_email=org.contact_email, working_hours=org.working_hours)
    services.update_organisation(db_session, org, same, by=admin)
    assert events(db_session, "organisation_updated") == []
    services.update_organisation(db_session, org, details(name="New name", sector="police", active=False), by=admin)
    [event] = events(db_session, "organisation_updated")
    assert "name: 'Old name' → 'New name'" in event.detail and "sector: 'council' → 'police'" in event.detail
    assert "active: True → False" in event.detail
    assert org.sector == Sector.POLICE and not org.active


def test_a_coordinator_edits_only_their_own_organisations_contact_details(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """May a coordinator change their organisation's contact details, but not another's?"""
    coordinator = make_user()
    mine = make_organisation(members={coordinator: "coordinator"})
    theirs = make_organisation()
    services.update_contact_details(
        db_session, mine, contact_email="new@example.org", working_hours="Every day, 8am to 8pm", by=coordinator
    )
    assert (mine.contact_email, mine.working_hours) == ("new@example.org", "Every day, 8am to 8pm")
    with pytest.raises(NotAllowed):
        services.update_contact_details(
            db_session, theirs, contact_email="x@example.org", working_hours="Never", by=coordinator
        )
    assert theirs.contact_email != "x@example.org"


# --- Coverage --------------------------------------------------------------------------------


def test_coverage_is_replaced_with_existing_wards_and_categories(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, category: Callable[[str], Category]
) -> None:
    """Does setting coverage add and remove wards and categories, and audit the difference?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"}, wards=[ST_MICHAELS], categories=["litter"])
    services.set_coverage(
        db_session,
        org,
        ward_codes=[BABLAKE, ST_MICHAELS],
        category_ids=[str(category("fly-tipping").id)],
        by=coordinator,
    )
    assert org.ward_codes == {BABLAKE, ST_MICHAELS}
    assert org.category_ids == {category("fly-tipping").id}
    [event] = events(db_session, "coverage_changed")
    assert f"wards added: {BABLAKE}" in event.detail and "categories removed" in event.detail


def test_coverage_refuses_unknown_wards_and_categories(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Are a ward code not in the wards table and a category id that does not exist refused, changing nothing?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"}, wards=[ST_MICHAELS])
    with pytest.raises(PartnerError) as caught:
        services.set_coverage(db_session, org, ward_codes=["E05999999"], category_ids=["999999"], by=coordinator)
    assert set(caught.value.errors) == {"wards", "categories"}
    with pytest.raises(PartnerError):
        services.set_coverage(db_session, org, ward_codes=[], category_ids=["not a number"], by=coordinator)
    assert org.ward_codes == {ST_MICHAELS}


def test_coverage_of_another_organisation_cannot_be_changed(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Can a coordinator of A, or a member of B, change B's coverage? (No.)"""
    coordinator_a, member_b = make_user(), make_user()
    make_organisation(members={coordinator_a: "coordinator"})
    org_b = make_organisation(members={member_b: "member"})
    for person in (coordinator_a, member_b):
        with pytest.raises(NotAllowed):
            services.set_coverage(db_session, org_b, ward_codes=[BABLAKE], category_ids=[], by=person)
    assert org_b.ward_codes == set()


# --- Members ---------------------------------------------------------------------------------


def test_the_last_coordinator_cannot_be_removed_or_demoted_by_a_coordinator(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Is a coordinator stopped from removing or demoting the only coordinator, themselves included?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    [membership] = org.memberships
    with pytest.raises(LastCoordinator):
        services.remove_member(db_session, membership, by=coordinator)
    with pytest.raises(LastCoordinator):
        services.change_role(db_session, membership, "member", by=coordinator)
    assert membership.role == OrgRole.COORDINATOR
    assert db_session.get(Membership, membership.id) is not None


def test_a_coordinator_can_leave_once_there_is_another_coordinator(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """With two coordinators, can one remove themselves, leaving the other?"""
    first, second = make_user(), make_user()
    org = make_organisation(members={first: "coordinator", second: "coordinator"})
    mine = next(m for m in org.memberships if m.user_id == first.id)
    services.remove_member(db_session, mine, by=first)
    assert [m.user_id for m in org.memberships] == [second.id]
    assert first.memberships == []
    assert not permissions.can_view_organisation(first, org)


def test_an_administrator_may_remove_the_last_coordinator(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Can an administrator remove an organisation's only coordinator (to replace them)?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    services.remove_member(db_session, org.memberships[0], by=make_user(admin=True))
    assert org.memberships == []
    [event] = events(db_session, "member_removed")
    assert event.target == f"user:{coordinator.id}" and coordinator.email in event.detail


def test_role_changes_are_audited(db_session: Session, make_user: MakeUser, make_organisation: MakeOrg) -> None:
    """Does promoting a member write a role_changed event naming the organisation and both roles?"""
    coordinator, member = make_user(), make_user()
    org = make_organisation(name="Org A", members={coordinator: "coordinator", member: "member"})
    membership = next(m for m in org.memberships if m.user_id == member.id)
    services.change_role(db_session, membership, "coordinator", by=coordinator)
    assert membership.role == OrgRole.COORDINATOR
    [event] = events(db_session, "role_changed")
    assert (event.actor_id, event.target, event.detail) == (
        coordinator.id,
        f"user:{member.id}",
        "Org A: member → coordinator",
    )
    with pytest.raises(PartnerError):
        services.change_role(db_session, membership, "overlord", by=coordinator)


def test_members_of_another_organisation_cannot_be_changed(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Can the coordinator of A change the role of, or remove, a member of B? (No.)"""
    coordinator_a, member_b = make_user(), make_user()
    make_organisation(members={coordinator_a: "coordinator"})
    org_b = make_organisation(members={member_b: "member"})
    [membership] = org_b.memberships
    with pytest.raises(NotAllowed):
        services.change_role(db_session, membership, "coordinator", by=coordinator_a)
    with pytest.raises(NotAllowed):
        services.remove_member(db_session, membership, by=coordinator_a)
    assert membership.role == OrgRole.MEMBER and db_session.get(Membership, membership.id) is not None


def test_a_deactivated_organisation_is_closed_to_its_members(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Does deactivating an organisation take away its coordinator's access while keeping the membership?"""
    coordinator = make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    services.update_organisation(
        db_session,
        org,
        details(name=org.name, contact_email=org.contact_email, active=False),
        by=make_user(admin=True),
    )
    assert not permissions.can_view_organisation(coordinator, org)
    assert not permissions.can_manage_members(coordinator, org)
    assert services.organisations_for(db_session, coordinator) == []
    assert len(coordinator.memberships) == 1


# --- Invitations -----------------------------------------------------------------------------


def test_an_invitation_is_emailed_with_a_hashed_72_hour_token(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Does inviting store only the token's hash, expire in 72 hours, email the link and audit it?"""
    coordinator = make_user(name="Cora Ordinator")
    org = make_organisation(name="Org A", members={coordinator: "coordinator"})
    now = utcnow()
    invitation = invitations.invite(
        db_session, org, email="New@Example.org", role="member", by=coordinator, accept_link=links, now=now
    )
    raw = links.last
    assert invitation.email == "new@example.org" and invitation.role == InviteRole.MEMBER
    assert invitation.token_hash != raw and raw not in invitation.token_hash
    assert invitation.expires_at - now == dt.timedelta(hours=72)
    email = db_session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == "new@example.org")).one()
    assert email.kind == "invitation" and raw in email.text_body and "Cora Ordinator" in email.text_body
    assert "Org A" in email.subject and "3 days" in email.text_body
    [event] = events(db_session, "invitation_sent")
    assert event.actor_id == coordinator.id and "new@example.org as member of Org A" in event.detail


def test_an_invitation_works_once(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Does accepting make the person a member, and is the same link refused after that?"""
    coordinator, invitee = make_user(), make_user(email="invitee@example.org")
    org = make_organisation(members={coordinator: "coordinator"})
    invitations.invite(db_session, org, email=invitee.email, role="member", by=coordinator, accept_link=links)
    invitations.accept(db_session, links.last, user=invitee)
    assert [(m.organisation_id, m.role) for m in invitee.memberships] == [(org.id, OrgRole.MEMBER)]
    assert permissions.can_view_organisation(invitee, org)
    with pytest.raises(InvitationError, match="already been used"):
        invitations.accept(db_session, links.last, user=invitee)
    [event] = events(db_session, "invitation_accepted")
    assert event.actor_id == invitee.id


def test_an_invitation_expires_after_72_hours(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Is an invitation usable just before 72 hours and refused at 72 hours?"""
    coordinator, early, late = make_user(), make_user(), make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    sent = utcnow() - dt.timedelta(days=10)
    for person in (early, late):
        invitations.invite(
            db_session, org, email=person.email, role="member", by=coordinator, accept_link=links, now=sent
        )
    early_raw, late_raw = links.tokens
    invitations.accept(db_session, early_raw, user=early, now=sent + dt.timedelta(hours=72) - dt.timedelta(seconds=1))
    with pytest.raises(InvitationError, match="expired"):
        invitations.accept(db_session, late_raw, user=late, now=sent + dt.timedelta(hours=72))
    with pytest.raises(InvitationError, match="expired"):
        invitations.find_invitation(db_session, late_raw)  # and by the real clock, ten days on
    assert late.memberships == []


def test_only_the_invited_address_can_accept(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Can someone signed in with another address use a forwarded invitation? (No.)"""
    coordinator, other = make_user(), make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    invitations.invite(db_session, org, email="invitee@example.org", role="member", by=coordinator, accept_link=links)
    with pytest.raises(NotAllowed):
        invitations.accept(db_session, links.last, user=other)
    assert other.memberships == []
    assert invitations.find_invitation(db_session, links.last).accepted_at is None


def test_a_coordinator_invites_only_to_their_own_organisation(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Can a coordinator of A or a plain member invite people to B, or a member invite to A? (No.)"""
    coordinator_a, member_a = make_user(), make_user()
    org_a = make_organisation(members={coordinator_a: "coordinator", member_a: "member"})
    org_b = make_organisation()
    with pytest.raises(NotAllowed):
        invitations.invite(db_session, org_b, email="x@example.org", role="member", by=coordinator_a, accept_link=links)
    with pytest.raises(NotAllowed):
        invitations.invite(db_session, org_a, email="x@example.org", role="member", by=member_a, accept_link=links)
    assert links.tokens == []
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_inviting_someone_already_in_the_organisation_is_refused(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Is an invitation to an existing member refused, and a bad address or role reported?"""
    coordinator, member = make_user(), make_user()
    org = make_organisation(members={coordinator: "coordinator", member: "member"})
    with pytest.raises(PartnerError, match="already in"):
        invitations.invite(
            db_session, org, email=member.email.upper(), role="member", by=coordinator, accept_link=links
        )
    with pytest.raises(PartnerError) as caught:
        invitations.invite(
            db_session, org, email="x@example.org", role="ward_officer", by=coordinator, accept_link=links
        )
    assert "role" in caught.value.errors
    with pytest.raises(PartnerError) as caught:
        invitations.invite(db_session, org, email="not an email", role="member", by=coordinator, accept_link=links)
    assert "email" in caught.value.errors


def test_a_new_invitation_replaces_the_pending_one(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """When someone is invited again, does only the newest link work?"""
    coordinator, invitee = make_user(), make_user(email="invitee@example.org")
    org = make_organisation(members={coordinator: "coordinator"})
    for role in ("member", "coordinator"):
        invitations.invite(db_session, org, email=invitee.email, role=role, by=coordinator, accept_link=links)
    old, new = links.tokens
    with pytest.raises(InvitationError, match="withdrawn"):
        invitations.accept(db_session, old, user=invitee)
    invitations.accept(db_session, new, user=invitee)
    assert invitee.memberships[0].role == OrgRole.COORDINATOR
    assert len(invitations.pending_for(db_session, org)) == 0


def test_a_revoked_invitation_cannot_be_accepted(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Does withdrawing an invitation stop its link, audit it, and refuse a second withdrawal?"""
    coordinator, invitee = make_user(), make_user()
    org = make_organisation(members={coordinator: "coordinator"})
    invitation = invitations.invite(
        db_session, org, email=invitee.email, role="member", by=coordinator, accept_link=links
    )
    invitations.revoke(db_session, invitation, by=coordinator)
    with pytest.raises(InvitationError, match="withdrawn"):
        invitations.accept(db_session, links.last, user=invitee)
    with pytest.raises(PartnerError, match="already revoked"):
        invitations.revoke(db_session, invitation, by=coordinator)
    assert [e.target for e in events(db_session, "invitation_revoked")] == [f"invitation:{invitation.id}"]


def test_another_organisations_coordinator_cannot_revoke(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Can the coordinator of B withdraw an invitation sent by A? (No.)"""
    coordinator_a, coordinator_b = make_user(), make_user()
    org_a = make_organisation(members={coordinator_a: "coordinator"})
    make_organisation(members={coordinator_b: "coordinator"})
    invitation = invitations.invite(
        db_session, org_a, email="x@example.org", role="member", by=coordinator_a, accept_link=links
    )
    with pytest.raises(NotAllowed):
        invitations.revoke(db_session, invitation, by=coordinator_b)
    assert invitation.revoked_at is None


def test_accepting_never_lowers_a_role(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """If a coordinator accepts a member invitation sent before their promotion, do they stay coordinator?"""
    admin, person = make_user(admin=True), make_user()
    org = make_organisation()
    invitations.invite(db_session, org, email=person.email, role="member", by=admin, accept_link=links)
    services.add_member(db_session, org, person, OrgRole.COORDINATOR)
    invitations.accept(db_session, links.last, user=person)
    assert [m.role for m in person.memberships] == [OrgRole.COORDINATOR]


def test_an_invitation_to_a_deactivated_organisation_stops_working(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Is a pending invitation refused once its organisation is deactivated?"""
    admin, person = make_user(admin=True), make_user()
    org = make_organisation()
    invitations.invite(db_session, org, email=person.email, role="coordinator", by=admin, accept_link=links)
    org.active = False
    with pytest.raises(InvitationError, match="no longer active"):
        invitations.accept(db_session, links.last, user=person)


def test_accepting_with_a_new_account(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Does a new invitee get a verified account with the invited address, and a member role?"""
    org = make_organisation()
    invitations.invite(
        db_session, org, email="fresh@example.org", role="member", by=make_user(admin=True), accept_link=links
    )
    with pytest.raises(PartnerError) as caught:
        invitations.accept_with_new_account(db_session, links.last, name="", password="short", password_confirm="short")
    assert set(caught.value.errors) == {"name", "password"}
    with pytest.raises(PartnerError) as caught:
        invitations.accept_with_new_account(
            db_session, links.last, name="Fresh", password=PASSWORD, password_confirm=PASSWORD + "x"
        )
    assert set(caught.value.errors) == {"password_confirm"}
    user = invitations.accept_with_new_account(
        db_session, links.last, name="  Fresh  Person ", password=PASSWORD, password_confirm=PASSWORD
    )
    assert (user.email, user.display_name, user.is_verified) == ("fresh@example.org", "Fresh Person", True)
    assert [m.organisation_id for m in user.memberships] == [org.id]


def test_an_existing_account_must_sign_in_to_accept(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """If the invited address has an account, is creating a second account with it refused?"""
    existing = make_user(email="taken@example.org")
    org = make_organisation()
    invitations.invite(
        db_session, org, email=existing.email, role="member", by=make_user(admin=True), accept_link=links
    )
    with pytest.raises(PartnerError) as caught:
        invitations.accept_with_new_account(
            db_session, links.last, name="Imposter", password=PASSWORD, password_confirm=PASSWORD
        )
    assert "sign in" in caught.value.errors["email"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == existing.email)) == 1


# --- Ward officers ---------------------------------------------------------------------------


def test_an_administrator_invites_a_ward_officer_with_chosen_wards(
    db_session: Session, make_user: MakeUser, links: Links
) -> None:
    """Does accepting a ward officer invitation assign exactly the chosen wards (and call for a second factor)?"""
    admin, person = make_user(admin=True), make_user(email="officer@example.org")
    invitation = invitations.invite_ward_officer(
        db_session, email=person.email, ward_codes=[ST_MICHAELS, BABLAKE], by=admin, accept_link=links
    )
    assert invitation.organisation_id is None and invitation.ward_code_list == [BABLAKE, ST_MICHAELS]
    email = db_session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == person.email)).one()
    assert "Ward officer for Bablake, St Michael's" in email.text_body
    assert not permissions.requires_second_factor(person)
    invitations.accept(db_session, links.last, user=person)
    assert person.ward_codes == {BABLAKE, ST_MICHAELS}
    assert permissions.requires_second_factor(person)


def test_only_administrators_invite_ward_officers_and_wards_must_exist(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg, links: Links
) -> None:
    """Is a coordinator refused, and are no wards or an unknown ward reported?"""
    coordinator = make_user()
    make_organisation(members={coordinator: "coordinator"})
    with pytest.raises(NotAllowed):
        invitations.invite_ward_officer(
            db_session, email="x@example.org", ward_codes=[BABLAKE], by=coordinator, accept_link=links
        )
    admin = make_user(admin=True)
    with pytest.raises(PartnerError) as caught:
        invitations.invite_ward_officer(db_session, email="bad", ward_codes=[], by=admin, accept_link=links)
    assert set(caught.value.errors) == {"email", "wards"}
    with pytest.raises(PartnerError, match="Select wards from the list"):
        invitations.invite_ward_officer(
            db_session, email="x@example.org", ward_codes=["E05999999"], by=admin, accept_link=links
        )


def test_ward_officer_wards_are_assigned_and_unassigned(db_session: Session, make_user: MakeUser) -> None:
    """Can an administrator change an officer's wards (audited), and does no ward end the role?"""
    admin, officer = make_user(admin=True), make_user(wards=[ST_MICHAELS])
    services.set_ward_officer_wards(db_session, officer, [BABLAKE], by=admin)
    assert officer.ward_codes == {BABLAKE}
    [event] = events(db_session, "ward_officer_wards_changed")
    assert event.detail == f"added: {BABLAKE}; removed: {ST_MICHAELS}"
    with pytest.raises(PartnerError):
        services.set_ward_officer_wards(db_session, officer, ["E05999999"], by=admin)
    with pytest.raises(NotAllowed):
        services.set_ward_officer_wards(db_session, officer, [], by=officer)
    services.set_ward_officer_wards(db_session, officer, [], by=admin)
    assert not officer.is_ward_officer
    assert officer not in services.ward_officers(db_session)


# --- Listing ---------------------------------------------------------------------------------


def test_people_see_their_own_organisations_and_administrators_see_all(
    db_session: Session, make_user: MakeUser, make_organisation: MakeOrg
) -> None:
    """Does a person in two organisations see both (and not a third), and an administrator all three?"""
    person = make_user()
    a = make_organisation(name="A", members={person: "member"})
    b = make_organisation(name="B", members={person: "coordinator"})
    c = make_organisation(name="C")
    assert services.organisations_for(db_session, person) == [a, b]
    assert services.organisations_for(db_session, make_user(admin=True)) == [a, b, c]
    assert permissions.can_manage_members(person, b) and not permissions.can_manage_members(person, a)
