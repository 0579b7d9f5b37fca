"""Invitations: to an organisation (member or coordinator) or to be a ward officer.

An invitation is an emailed link, valid for 72 hours and usable once; only the token's
SHA-256 hash is stored. Only the person it was sent to can accept it: they sign in with
that address, or create an account with it (following the link proves they own it).
Functions flush but never commit, and record audit events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.accounts.passwords import hash_password, password_problems
from app.accounts.services import AccountError, find_user, normalise_email
from app.accounts.tokens import hash_token, new_raw_token
from app.audit.services import record
from app.db import utcnow
from app.geography.services import ward_names
from app.mail.services import queue_email
from app.partners.models import Invitation, InviteRole, Organisation, OrgRole, WardOfficerWard
from app.partners.services import NotAllowed, PartnerError, add_member, existing_ward_codes

LIFETIME = dt.timedelta(hours=72)
NAME_MAX = 100  # must match User.display_name

Link = Callable[[str], str]


class InvitationError(ValueError):
    """The invitation link cannot be used; ``str(err)`` says why and what to do."""


def _pending(invitation: Invitation, now: dt.datetime) -> bool:
    return invitation.state(now) == "pending"


def _invitee(session: Session, email: str) -> str:
    try:
        return normalise_email(email)
    except AccountError as exc:
        raise PartnerError({"email": str(exc)}) from None


def _replace_pending(
    session: Session, *, email: str, organisation_id: int | None, role: InviteRole, now: dt.datetime
) -> list[int]:
    """Revoke earlier pending invitations of the same kind, so only the newest link works."""
    query = sa.select(Invitation).where(
        Invitation.email == email,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    if organisation_id is None:
        query = query.where(Invitation.organisation_id.is_(None), Invitation.role == role)
    else:
        query = query.where(Invitation.organisation_id == organisation_id)
    replaced = list(session.scalars(query))
    for old in replaced:
        old.revoked_at = now
    return [old.id for old in replaced]


def _issue(
    session: Session,
    *,
    email: str,
    role: InviteRole,
    organisation: Organisation | None,
    ward_codes: list[str],
    by: User,
    accept_link: Link,
    ip: str,
    now: dt.datetime,
) -> Invitation:
    replaced = _replace_pending(
        session, email=email, organisation_id=organisation.id if organisation else None, role=role, now=now
    )
    raw = new_raw_token()
    invitation = Invitation(
        email=email,
        role=role,
        organisation=organisation,
        ward_codes=",".join(ward_codes),
        token_hash=hash_token(raw),
        invited_by=by,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(invitation)
    session.flush()
    if organisation is not None:
        group, role_label = organisation.label, role.label
    else:
        names = ward_names(session)
        group = "Coventry's ward officers"
        role_label = "Ward officer for " + ", ".join(names.get(c, c) for c in ward_codes)
    queue_email(
        session,
        to=email,
        template="invitation",
        context={
            "organisation_name": group,
            "role_label": role_label,
            "inviter_name": by.display_name,
            "accept_url": accept_link(raw),
            "expires_hours": int(LIFETIME.total_seconds() // 3600),
        },
        kind="invitation",
    )
    detail = f"{email} as {role.value}"
    if organisation is not None:
        detail += f" of {organisation.name}"
    if ward_codes:
        detail += f" for {', '.join(ward_codes)}"
    if replaced:
        detail += f" (replaces invitation {', '.join(map(str, replaced))})"
    record(session, "invitation_sent", actor=by, target=f"invitation:{invitation.id}", ip=ip, detail=detail)
    return invitation


def invite(
    session: Session,
    organisation: Organisation,
    *,
    email: str,
    role: InviteRole | str,
    by: User,
    accept_link: Link,
    ip: str = "",
    now: dt.datetime | None = None,
) -> Invitation:
    """Email an invitation to join ``organisation`` as a member or coordinator.

    Coordinators invite to their own organisation; administrators to any (its first
    coordinator, say). An earlier pending invitation for the same address and organisation
    stops working. Raises PartnerError for a bad address or role, or a person already in the
    organisation, and NotAllowed if ``by`` may not invite here.
    """
    try:
        invite_role = InviteRole(role)
    except ValueError:
        invite_role = None
    if invite_role not in {InviteRole.MEMBER, InviteRole.COORDINATOR}:
        raise PartnerError({"role": "Select member or coordinator"})
    assert invite_role is not None
    if not permissions.can_invite(by, organisation, invite_role):
        raise NotAllowed("You cannot invite people to this organisation")
    if not organisation.active:
        raise PartnerError({"email": "This organisation is not active: an administrator must reactivate it first"})
    address = _invitee(session, email)
    if any(m.user.email == address for m in organisation.memberships):
        raise PartnerError({"email": f"{address} is already in {organisation.label}"})
    return _issue(
        session,
        email=address,
        role=invite_role,
        organisation=organisation,
        ward_codes=[],
        by=by,
        accept_link=accept_link,
        ip=ip,
        now=now or utcnow(),
    )


def invite_ward_officer(
    session: Session,
    *,
    email: str,
    ward_codes: Iterable[str],
    by: User,
    accept_link: Link,
    ip: str = "",
    now: dt.datetime | None = None,
) -> Invitation:
    """Email an invitation to become the ward officer for ``ward_codes`` (administrators only).

    Raises PartnerError for a bad address, no wards or an unknown ward, and NotAllowed if
    ``by`` is not an administrator.
    """
    if not permissions.can_invite(by, None, InviteRole.WARD_OFFICER):
        raise NotAllowed("Only administrators invite ward officers")
    errors: dict[str, str] = {}
    try:
        address = _invitee(session, email)
    except PartnerError as exc:
        errors.update(exc.errors)
        address = ""
    wards = sorted({c.strip() for c in ward_codes if c and c.strip()})
    if not wards:
        errors["wards"] = "Select at least one ward"
    elif set(wards) - existing_ward_codes(session, wards):
        errors["wards"] = "Select wards from the list"
    if errors:
        raise PartnerError(errors)
    existing = find_user(session, address)
    if existing is not None and existing.ward_assignments:
        raise PartnerError({"email": f"{address} is already a ward officer: change their wards instead"})
    return _issue(
        session,
        email=address,
        role=InviteRole.WARD_OFFICER,
        organisation=None,
        ward_codes=wards,
        by=by,
        accept_link=accept_link,
        ip=ip,
        now=now or utcnow(),
    )


def find_invitation(session: Session, raw: str, *, now: dt.datetime | None = None, lock: bool = False) -> Invitation:
    """The usable invitation for the raw token from a link; nothing is changed.

    Raises InvitationError if it is unknown, accepted, revoked, expired, or for an
    organisation that is no longer active.
    """
    moment = now or utcnow()
    query = sa.select(Invitation).where(Invitation.token_hash == hash_token(raw or ""))
    invitation = session.scalar(query.with_for_update(of=Invitation) if lock else query)
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Check you copied all of it.")
    state = invitation.state(moment)
    if state == "accepted":
        raise InvitationError("This invitation has already been used. Sign in to reach your organisation.")
    if state == "revoked":
        raise InvitationError("This invitation has been withdrawn. Ask the person who invited you for a new one.")
    if state == "expired":
        raise InvitationError(
            "This invitation has expired: invitations last 72 hours. Ask the person who invited you for a new one."
        )
    if invitation.organisation is not None and not invitation.organisation.active:
        raise InvitationError("This organisation is no longer active on TellUs.")
    return invitation


def accept(session: Session, raw: str, *, user: User, ip: str = "", now: dt.datetime | None = None) -> Invitation:
    """Accept an invitation as ``user``: they join the organisation with the invited role
    (never lowering a role they already have), or get the invited wards.

    The row is locked while it is checked (on PostgreSQL), so a link works once. Following
    the link also proves the address, so the account is marked verified. Raises
    InvitationError for a link that cannot be used and NotAllowed if ``user``'s address is
    not the invited one.
    """
    moment = now or utcnow()
    invitation = find_invitation(session, raw, now=moment, lock=True)
    if not permissions.can_accept_invitation(user, invitation):
        raise NotAllowed(f"This invitation was sent to {invitation.email}: sign in with that address to accept it")
    if invitation.organisation is not None:
        add_member(session, invitation.organisation, user, OrgRole(invitation.role.value))
        detail = f"joined {invitation.organisation.name} as {invitation.role.value}"
    else:
        held = user.ward_codes
        wards = [c for c in invitation.ward_code_list if c not in held]
        user.ward_assignments.extend(WardOfficerWard(ward_code=code) for code in wards)
        detail = f"ward officer for {', '.join(invitation.ward_code_list)}"
    invitation.accepted_at = moment
    user.email_verified_at = user.email_verified_at or moment
    session.flush()
    record(session, "invitation_accepted", actor=user, target=f"invitation:{invitation.id}", ip=ip, detail=detail)
    return invitation


def accept_with_new_account(
    session: Session,
    raw: str,
    *,
    name: str,
    password: str,
    password_confirm: str,
    ip: str = "",
    now: dt.datetime | None = None,
) -> User:
    """Create a verified account for the invited address and accept the invitation with it.

    Raises PartnerError naming each field to fix (including "email" when the address has an
    account already: that person must sign in instead) and InvitationError for a bad link.
    """
    moment = now or utcnow()
    invitation = find_invitation(session, raw, now=moment)
    if find_user(session, invitation.email) is not None:
        raise PartnerError({"email": f"There is already an account for {invitation.email}: sign in to accept"})
    errors: dict[str, str] = {}
    clean_name = " ".join(name.split())
    if not clean_name:
        errors["name"] = "Enter your name"
    elif len(clean_name) > NAME_MAX:
        errors["name"] = f"Name must be {NAME_MAX} characters or fewer"
    problems = password_problems(password, email=invitation.email, name=clean_name)
    if problems:
        errors["password"] = problems[0]
    elif password != password_confirm:
        errors["password_confirm"] = "The passwords do not match: type the same password twice"  # noqa: S105
    if errors:
        raise PartnerError(errors)
    user = User(
        email=invitation.email,
        display_name=clean_name,
        password_hash=hash_password(password),
        email_verified_at=moment,
    )
    session.add(user)
    session.flush()
    record(session, "account_created", actor=user, ip=ip, detail="from an invitation")
    accept(session, raw, user=user, ip=ip, now=moment)
    return user


def revoke(session: Session, invitation: Invitation, *, by: User, ip: str = "", now: dt.datetime | None = None) -> None:
    """Withdraw a pending invitation so its link stops working.

    Raises PartnerError if it is no longer pending, NotAllowed unless ``by`` could have sent it.
    """
    if not permissions.can_revoke_invitation(by, invitation):
        raise NotAllowed("You cannot withdraw this invitation")
    moment = now or utcnow()
    if not _pending(invitation, moment):
        raise PartnerError({"invitation": f"This invitation is already {invitation.state(moment)}"})
    invitation.revoked_at = moment
    session.flush()
    record(
        session,
        "invitation_revoked",
        actor=by,
        target=f"invitation:{invitation.id}",
        ip=ip,
        detail=f"{invitation.email} as {invitation.role.value}",
    )


def pending_for(
    session: Session, organisation: Organisation | None, *, now: dt.datetime | None = None
) -> list[Invitation]:
    """Invitations still waiting: for ``organisation``, or for ward officers when it is None."""
    moment = now or utcnow()
    query = sa.select(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > moment
    )
    if organisation is None:
        query = query.where(Invitation.organisation_id.is_(None))
    else:
        query = query.where(Invitation.organisation_id == organisation.id)
    return list(session.scalars(query.order_by(Invitation.created_at, Invitation.id)))
