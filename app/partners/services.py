"""Organisations, their coverage and members, and ward officers' wards.

Every function takes the session and the acting user (``by``) explicitly, checks with
app.permissions that ``by`` may do it, flushes but never commits, and records an audit
event. Invitations are in app/partners/invitations.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.accounts.services import AccountError, normalise_email
from app.audit.services import record
from app.coordination.working_hours import parse_working_hours
from app.geography.models import Ward
from app.partners.models import (
    Membership,
    Organisation,
    OrganisationCategory,
    OrganisationWard,
    OrgRole,
    WardOfficerWard,
)
from app.reports.models import Category, Sector

# Must match the column lengths on Organisation.
NAME_MAX = 120
HOURS_MAX = 200


class PartnerError(ValueError):
    """Input that cannot be used; ``errors`` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class LastCoordinator(PartnerError):
    """The change would leave an organisation without a coordinator."""


class NotAllowed(PermissionError):
    """``by`` may not do this (views check first and answer 403; this is the backstop)."""


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed("You cannot do that")


# --- Organisations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationDetails:
    """What an administrator enters for an organisation (raw form text is fine)."""

    name: str
    sector: str
    contact_email: str
    working_hours: str
    active: bool = True


def _checked_contact(contact_email: str, working_hours: str, errors: dict[str, str]) -> tuple[str, str]:
    address = ""
    try:
        address = normalise_email(contact_email, field="contact_email")
    except AccountError as exc:
        errors["contact_email"] = (
            "Enter the organisation's contact email address" if not contact_email.strip() else str(exc)
        )
    hours = " ".join(working_hours.split())
    if not hours:
        errors["working_hours"] = "Enter the organisation's working hours, like Monday to Friday, 9am to 5pm"
    elif len(hours) > HOURS_MAX:
        errors["working_hours"] = f"Working hours must be {HOURS_MAX} characters or fewer"
    else:
        # Response targets count these hours, so they must be readable (the message says how).
        try:
            parse_working_hours(hours)
        except ValueError as exc:
            errors["working_hours"] = str(exc)
    return address, hours


def _checked_details(
    session: Session, details: OrganisationDetails, existing: Organisation | None
) -> tuple[str, Sector, str, str]:
    errors: dict[str, str] = {}
    name = " ".join(details.name.split())
    if not name:
        errors["name"] = "Enter the organisation's name"
    elif len(name) > NAME_MAX:
        errors["name"] = f"Name must be {NAME_MAX} characters or fewer"
    else:
        clash = session.scalar(
            sa.select(Organisation.id).where(
                sa.func.lower(Organisation.name) == name.lower(),
                Organisation.id != (existing.id if existing else -1),
            )
        )
        if clash is not None:
            errors["name"] = "There is already an organisation with that name"
    try:
        sector = Sector(details.sector)
    except ValueError:
        errors["sector"] = "Select the organisation's sector"
        sector = Sector.COUNCIL
    address, hours = _checked_contact(details.contact_email, details.working_hours, errors)
    if errors:
        raise PartnerError(errors)
    return name, sector, address, hours


def create_organisation(session: Session, details: OrganisationDetails, *, by: User, ip: str = "") -> Organisation:
    """Create an organisation (administrators only). It starts with no coverage or members.

    Raises PartnerError naming each field to fix, NotAllowed if ``by`` is not an administrator.
    """
    _require(permissions.can_manage_organisations(by))
    name, sector, address, hours = _checked_details(session, details, None)
    organisation = Organisation(
        name=name, sector=sector, contact_email=address, working_hours=hours, active=details.active
    )
    session.add(organisation)
    session.flush()
    record(
        session,
        "organisation_created",
        actor=by,
        target=f"organisation:{organisation.id}",
        ip=ip,
        detail=f"{name} ({sector.label})",
    )
    return organisation


def update_organisation(
    session: Session, organisation: Organisation, details: OrganisationDetails, *, by: User, ip: str = ""
) -> None:
    """Change name, sector, contact details and whether it is active (administrators only).

    A deactivated organisation keeps its members, but they lose access to it until it is
    active again. Raises PartnerError or NotAllowed.
    """
    _require(permissions.can_manage_organisations(by))
    name, sector, address, hours = _checked_details(session, details, organisation)
    hours_before = organisation.working_hours
    changes = _changes(
        organisation,
        name=name,
        sector=sector,
        contact_email=address,
        working_hours=hours,
        active=details.active,
    )
    session.flush()
    if changes:
        record(session, "organisation_updated", actor=by, target=_target(organisation), ip=ip, detail=changes)
    if organisation.working_hours != hours_before:
        _refresh_deadlines(session, organisation)


def update_contact_details(
    session: Session, organisation: Organisation, *, contact_email: str, working_hours: str, by: User, ip: str = ""
) -> None:
    """Change the contact email and working hours (the organisation's coordinators, administrators).
    New working hours recompute the deadlines of the organisation's open cases.

    Raises PartnerError (also for working hours that cannot be read) or NotAllowed.
    """
    _require(permissions.can_edit_organisation_details(by, organisation))
    errors: dict[str, str] = {}
    address, hours = _checked_contact(contact_email, working_hours, errors)
    if errors:
        raise PartnerError(errors)
    hours_before = organisation.working_hours
    changes = _changes(organisation, contact_email=address, working_hours=hours)
    session.flush()
    if changes:
        record(session, "organisation_updated", actor=by, target=_target(organisation), ip=ip, detail=changes)
    if organisation.working_hours != hours_before:
        _refresh_deadlines(session, organisation)


def _refresh_deadlines(session: Session, organisation: Organisation) -> None:
    """Work out the organisation's open cases' deadlines again in its new working hours."""
    from app.coordination import deadlines  # the coordination services import this module

    deadlines.refresh_organisation(session, organisation)


def _target(organisation: Organisation) -> str:
    return f"organisation:{organisation.id}"


def _changes(obj: object, **values: object) -> str:
    """Set the attributes that differ and describe them, e.g. "name: 'A' → 'B'"."""
    said = []
    for key, value in values.items():
        before = getattr(obj, key)
        if before != value:
            setattr(obj, key, value)
            said.append(f"{key}: {_show(before)} → {_show(value)}")
    return "; ".join(said)


def _show(value: object) -> str:
    return repr(value.value) if isinstance(value, Sector) else repr(value)


# --- Coverage --------------------------------------------------------------------------------


def existing_ward_codes(session: Session, codes: Iterable[str]) -> set[str]:
    wanted = {c.strip() for c in codes if c and c.strip()}
    if not wanted:
        return set()
    return set(session.scalars(sa.select(Ward.code).where(Ward.code.in_(wanted))))


def set_coverage(
    session: Session,
    organisation: Organisation,
    *,
    ward_codes: Iterable[str],
    category_ids: Iterable[int | str],
    by: User,
    ip: str = "",
) -> None:
    """Replace the wards (GSS codes from the wards table) and categories (by id) it covers.

    Raises PartnerError if a ward or category does not exist, NotAllowed unless ``by``
    coordinates this organisation or is an administrator.
    """
    _require(permissions.can_manage_coverage(by, organisation))
    errors: dict[str, str] = {}
    wards = {c.strip() for c in ward_codes if c and c.strip()}
    if wards - existing_ward_codes(session, wards):
        errors["wards"] = "Select wards from the list"
    try:
        categories = {int(c) for c in category_ids}
    except (TypeError, ValueError):
        categories = set()
        errors["categories"] = "Select categories from the list"
    if categories:
        found = set(session.scalars(sa.select(Category.id).where(Category.id.in_(categories))))
        if categories - found:
            errors["categories"] = "Select categories from the list"
    if errors:
        raise PartnerError(errors)
    added_wards, removed_wards = wards - organisation.ward_codes, organisation.ward_codes - wards
    added_cats, removed_cats = categories - organisation.category_ids, organisation.category_ids - categories
    for link in [w for w in organisation.wards if w.ward_code in removed_wards]:
        organisation.wards.remove(link)
    for link_c in [c for c in organisation.categories if c.category_id in removed_cats]:
        organisation.categories.remove(link_c)
    organisation.wards.extend(OrganisationWard(ward_code=code) for code in sorted(added_wards))
    organisation.categories.extend(OrganisationCategory(category_id=cid) for cid in sorted(added_cats))
    session.flush()
    if added_wards or removed_wards or added_cats or removed_cats:
        detail = "; ".join(
            f"{label}: {', '.join(map(str, sorted(items)))}"
            for label, items in (
                ("wards added", added_wards),
                ("wards removed", removed_wards),
                ("categories added", added_cats),
                ("categories removed", removed_cats),
            )
            if items
        )
        record(session, "coverage_changed", actor=by, target=f"organisation:{organisation.id}", ip=ip, detail=detail)


# --- Members ---------------------------------------------------------------------------------


def _is_last_coordinator(session: Session, membership: Membership) -> bool:
    """Is this the organisation's only coordinator? The organisation row is locked first (on
    PostgreSQL), so two coordinators removing each other at once cannot both succeed."""
    if membership.role != OrgRole.COORDINATOR:
        return False
    session.execute(sa.select(Organisation.id).where(Organisation.id == membership.organisation_id).with_for_update())
    coordinators = session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(Membership.organisation_id == membership.organisation_id, Membership.role == OrgRole.COORDINATOR)
    )
    return coordinators == 1


def change_role(session: Session, membership: Membership, role: OrgRole | str, *, by: User, ip: str = "") -> None:
    """Make a member a coordinator, or a coordinator a member, in the membership's organisation.

    Raises PartnerError for an unknown role, LastCoordinator if a coordinator would demote
    the organisation's only coordinator (administrators may), NotAllowed unless ``by``
    coordinates that organisation or is an administrator.
    """
    _require(permissions.can_change_member(by, membership))
    try:
        new_role = OrgRole(role)
    except ValueError:
        raise PartnerError({"role": "Select member or coordinator"}) from None
    if new_role == membership.role:
        return
    if new_role == OrgRole.MEMBER and not permissions.is_admin(by) and _is_last_coordinator(session, membership):
        raise LastCoordinator(
            {"role": "An organisation needs at least one coordinator: make someone else a coordinator first"}
        )
    before = membership.role
    membership.role = new_role
    session.flush()
    record(
        session,
        "role_changed",
        actor=by,
        target=f"user:{membership.user_id}",
        ip=ip,
        detail=f"{membership.organisation.name}: {before.value} → {new_role.value}",
    )


def remove_member(session: Session, membership: Membership, *, by: User, ip: str = "") -> None:
    """Remove a person from the membership's organisation (their account stays).

    Raises LastCoordinator if a coordinator would remove the organisation's only coordinator
    (administrators may), NotAllowed unless ``by`` coordinates that organisation or is an
    administrator.
    """
    _require(permissions.can_change_member(by, membership))
    if not permissions.is_admin(by) and _is_last_coordinator(session, membership):
        raise LastCoordinator(
            {"membership": "You cannot remove the only coordinator: make someone else a coordinator first"}
        )
    organisation, person = membership.organisation, membership.user
    detail = f"{organisation.name}: removed {person.email} ({membership.role.value})"
    session.delete(membership)
    session.flush()
    session.expire(organisation, ["memberships"])
    session.expire(person, ["memberships"])
    record(session, "member_removed", actor=by, target=f"user:{person.id}", ip=ip, detail=detail)


def add_member(
    session: Session, organisation: Organisation, user: User, role: OrgRole, *, by: User | None = None
) -> Membership:
    """Give ``user`` ``role`` in ``organisation``, or raise their role if they are already in it.

    Used when an invitation is accepted (``by`` is the person accepting) and by the demo
    data; it never lowers a role. The caller records the audit event.
    """
    existing = next((m for m in organisation.memberships if m.user_id == user.id), None)
    if existing is not None:
        if role == OrgRole.COORDINATOR:
            existing.role = role
        session.flush()
        return existing
    # Both sides' lists are kept up to date; no autoflush while the new row is half-linked.
    with session.no_autoflush:
        membership = Membership(user=user, organisation=organisation, role=role)
        session.add(membership)
    session.flush()
    return membership


# --- Ward officers ---------------------------------------------------------------------------


def set_ward_officer_wards(
    session: Session, officer: User, ward_codes: Iterable[str], *, by: User, ip: str = ""
) -> None:
    """Assign exactly these wards to ``officer``; no wards at all ends their ward officer role.

    Raises PartnerError for an unknown ward, NotAllowed unless ``by`` is an administrator.
    """
    _require(permissions.can_manage_ward_officers(by))
    wanted = {c.strip() for c in ward_codes if c and c.strip()}
    if wanted - existing_ward_codes(session, wanted):
        raise PartnerError({"wards": "Select wards from the list"})
    current = officer.ward_codes
    added, removed = wanted - current, current - wanted
    for assignment in [a for a in officer.ward_assignments if a.ward_code in removed]:
        officer.ward_assignments.remove(assignment)
    officer.ward_assignments.extend(WardOfficerWard(ward_code=code) for code in sorted(added))
    session.flush()
    if added or removed:
        detail = "; ".join(
            f"{label}: {', '.join(sorted(codes))}" for label, codes in (("added", added), ("removed", removed)) if codes
        )
        record(session, "ward_officer_wards_changed", actor=by, target=f"user:{officer.id}", ip=ip, detail=detail)


# --- Queries ---------------------------------------------------------------------------------


def organisations_for(session: Session, user: User) -> list[Organisation]:
    """The organisations ``user`` may see listed: all of them for administrators, otherwise
    the active organisations they belong to; by name."""
    query = sa.select(Organisation).order_by(Organisation.name)
    if not permissions.can_list_all_organisations(user):
        ids = [m.organisation_id for m in user.memberships]
        query = query.where(Organisation.id.in_(ids), Organisation.active.is_(True))
    return list(session.scalars(query))


def ward_officers(session: Session) -> list[User]:
    """Everyone with at least one ward, by name."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.id.in_(sa.select(WardOfficerWard.user_id)), User.deleted_at.is_(None))
            .order_by(User.display_name, User.id)
        )
    )
