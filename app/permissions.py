"""Every permission in TellUs, named in one place, with the per-object checks.

Views and services ask only this module. Coarse checks (``has``) answer "may this kind
of person ever do this?"; object checks (``can_*``) answer it for one organisation or
report. docs/permissions.md has the table of roles × actions.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Protocol

from werkzeug.exceptions import Forbidden

from app.accounts.models import User
from app.partners.models import Invitation, InviteRole, Membership, Organisation, OrgRole

if TYPE_CHECKING:
    from app.coordination.lifecycle import Actor
    from app.coordination.models import Case, CaseAction, CaseHandoff, CaseMessage
    from app.reports.models import Report


class Permission(enum.StrEnum):
    # <scope>:<resource>:<action>
    ADMIN_ORGANISATIONS = "admin:organisations:manage"
    ADMIN_CATEGORIES = "admin:categories:manage"
    ADMIN_WARD_OFFICERS = "admin:ward-officers:manage"
    ADMIN_AUDIT_READ = "admin:audit:read"
    ADMIN_OUTBOX_READ = "admin:outbox:read"
    ORG_VIEW = "partners:organisation:read"
    ORG_MEMBERS_MANAGE = "partners:members:manage"
    ORG_COVERAGE_MANAGE = "partners:coverage:manage"
    ORG_DETAILS_MANAGE = "partners:details:manage"
    REPORT_EXACT_LOCATION = "reports:location:read-exact"
    REPORT_PRIVATE_DETAILS = "reports:private:read"
    ACCOUNT_SELF = "account:self:manage"
    CASES_READ = "coordination:cases:read"
    CASES_WORK = "coordination:cases:work"
    TRIAGE = "coordination:triage:manage"
    PERFORMANCE_READ = "coordination:performance:read"
    TARGETS_MANAGE = "coordination:targets:manage"
    CASES_PRIORITISE = "coordination:cases:prioritise"
    DASHBOARD_READ = "hotspots:dashboard:read"
    ALERTS_MANAGE = "hotspots:alerts:manage"


class Role(enum.StrEnum):
    ANONYMOUS = "anonymous"
    RESIDENT = "resident"
    MEMBER = "member"
    COORDINATOR = "coordinator"
    WARD_OFFICER = "ward_officer"
    ADMIN = "admin"


# What each role may do somewhere; object checks narrow it to the right organisation or ward.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANONYMOUS: frozenset(),
    Role.RESIDENT: frozenset({Permission.ACCOUNT_SELF}),
    Role.MEMBER: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.ORG_VIEW,
            Permission.REPORT_EXACT_LOCATION,
            Permission.REPORT_PRIVATE_DETAILS,
            Permission.CASES_READ,
            Permission.CASES_WORK,
            Permission.CASES_PRIORITISE,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.ORG_VIEW,
            Permission.ORG_MEMBERS_MANAGE,
            Permission.ORG_COVERAGE_MANAGE,
            Permission.ORG_DETAILS_MANAGE,
            Permission.REPORT_EXACT_LOCATION,
            Permission.REPORT_PRIVATE_DETAILS,
            Permission.CASES_READ,
            Permission.CASES_WORK,
            Permission.PERFORMANCE_READ,
            Permission.CASES_PRIORITISE,
            Permission.TARGETS_MANAGE,
            Permission.DASHBOARD_READ,
            Permission.ALERTS_MANAGE,
        }
    ),
    Role.WARD_OFFICER: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.REPORT_EXACT_LOCATION,
            Permission.REPORT_PRIVATE_DETAILS,
            Permission.DASHBOARD_READ,
            Permission.ALERTS_MANAGE,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


class Locatable(Protocol):
    ward_code: str
    category_id: int


def _user(user: object) -> User | None:
    """The signed-in ``User``, or None for anonymous visitors (Flask-Login's AnonymousUserMixin)."""
    return user if isinstance(user, User) and user.deleted_at is None else None


def roles(user: object) -> set[Role]:
    """Every role ``user`` holds, anywhere."""
    person = _user(user)
    if person is None:
        return {Role.ANONYMOUS}
    held = {Role.RESIDENT}
    for membership in person.memberships:
        if membership.organisation.active:
            held.add(Role.COORDINATOR if membership.role == OrgRole.COORDINATOR else Role.MEMBER)
    if person.ward_assignments:
        held.add(Role.WARD_OFFICER)
    if person.is_admin:
        held.add(Role.ADMIN)
    return held


def has(user: object, permission: Permission) -> bool:
    """May ``user`` do this anywhere at all? (Object checks below say where.)"""
    return any(permission in ROLE_PERMISSIONS[role] for role in roles(user))


def requires_second_factor(user: object) -> bool:
    """Council administrators and ward officers must use a TOTP second factor."""
    person = _user(user)
    return person is not None and (person.is_admin or bool(person.ward_assignments))


def is_admin(user: object) -> bool:
    person = _user(user)
    return person is not None and person.is_admin


def membership_in(user: object, organisation: Organisation) -> Membership | None:
    person = _user(user)
    if person is None or not organisation.active:
        return None
    return next((m for m in person.memberships if m.organisation_id == organisation.id), None)


def permissions_in(user: object, organisation: Organisation) -> frozenset[Permission]:
    """What ``user`` may do in this one organisation: everything for administrators, what
    their role there gives for its members and coordinators, nothing for anyone else
    (including the staff of other organisations, and everyone once it is deactivated)."""
    if is_admin(user):
        return ROLE_PERMISSIONS[Role.ADMIN]
    membership = membership_in(user, organisation)
    if membership is None:
        return frozenset()
    return ROLE_PERMISSIONS[Role.COORDINATOR if membership.role == OrgRole.COORDINATOR else Role.MEMBER]


def can_view_organisation(user: object, organisation: Organisation) -> bool:
    """Members and coordinators of this organisation, and administrators."""
    return Permission.ORG_VIEW in permissions_in(user, organisation)


def can_manage_members(user: object, organisation: Organisation) -> bool:
    """Coordinators of this organisation (not of another), and administrators."""
    return Permission.ORG_MEMBERS_MANAGE in permissions_in(user, organisation)


def can_manage_coverage(user: object, organisation: Organisation) -> bool:
    """Coordinators of this organisation, and administrators."""
    return Permission.ORG_COVERAGE_MANAGE in permissions_in(user, organisation)


def can_edit_organisation_details(user: object, organisation: Organisation) -> bool:
    """Contact email and working hours: coordinators of this organisation, and administrators.

    Name, sector and whether it is active are the administrators' (``can_manage_organisations``).
    """
    return Permission.ORG_DETAILS_MANAGE in permissions_in(user, organisation)


def can_invite(user: object, organisation: Organisation | None, role: InviteRole) -> bool:
    """Coordinators invite members and coordinators to their own organisation; administrators
    invite anyone to any organisation (the first coordinator, say) and invite ward officers."""
    if role == InviteRole.WARD_OFFICER:
        return organisation is None and can_manage_ward_officers(user)
    return organisation is not None and can_manage_members(user, organisation)


def can_change_member(user: object, membership: Membership) -> bool:
    """May ``user`` change this person's role in, or remove them from, the membership's own
    organisation? (Never decided by an organisation id from the URL or the form.)"""
    return can_manage_members(user, membership.organisation)


def can_revoke_invitation(user: object, invitation: Invitation) -> bool:
    """Whoever could have sent it: the organisation's coordinators, or administrators."""
    if invitation.organisation is None:
        return can_manage_ward_officers(user)
    return can_manage_members(user, invitation.organisation)


def can_accept_invitation(user: object, invitation: Invitation) -> bool:
    """Only the person the invitation was sent to: a signed-in account with that address."""
    person = _user(user)
    return person is not None and person.email == invitation.email


def can_list_all_organisations(user: object) -> bool:
    return has(user, Permission.ADMIN_ORGANISATIONS)


def can_manage_organisations(user: object) -> bool:
    """Create organisations and change their name, sector and whether they are active."""
    return has(user, Permission.ADMIN_ORGANISATIONS)


def can_manage_categories(user: object) -> bool:
    return has(user, Permission.ADMIN_CATEGORIES)


def can_manage_ward_officers(user: object) -> bool:
    return has(user, Permission.ADMIN_WARD_OFFICERS)


def can_read_outbox(user: object) -> bool:
    return has(user, Permission.ADMIN_OUTBOX_READ)


def can_use_administration(user: object) -> bool:
    """May ``user`` open the administration pages at all (any of the admin: permissions)?"""
    return any(has(user, p) for p in Permission if p.value.startswith("admin:"))


def can_see_exact_location(user: object, report: Locatable) -> bool:
    """May ``user`` see this report's exact point and full text, sensitive or not?

    Administrators; ward officers for reports in their wards; members of an organisation
    whose coverage includes the report's ward and category.
    """
    person = _user(user)
    if person is None:
        return False
    if person.is_admin or report.ward_code in person.ward_codes:
        return True
    return any(
        m.organisation.active
        and report.ward_code in m.organisation.ward_codes
        and report.category_id in m.organisation.category_ids
        for m in person.memberships
    )


def can_view_audit_log(user: object) -> bool:
    return has(user, Permission.ADMIN_AUDIT_READ)


# --- Cases (app/coordination) ------------------------------------------------------------------


def can_view_inbox(user: object, organisation: Organisation) -> bool:
    """The partner inbox of ``organisation``: its members and coordinators, and administrators."""
    return Permission.CASES_READ in permissions_in(user, organisation)


def can_view_case(user: object, case: Case) -> bool:
    """May ``user`` open this case and see its full text, exact location and history, sensitive
    or not? Administrators, and members of an active organisation on the case (a live route or
    a claim), whatever its coverage. An organisation that declined and holds no claim is off
    the case."""
    if is_admin(user):
        return True
    return any(Permission.CASES_READ in permissions_in(user, org) for org in case.organisations)


def can_work_on_case(user: object, case: Case, organisation: Organisation) -> bool:
    """May ``user`` claim or decline this case *for* ``organisation``? Only its own members and
    coordinators, and only while it is on the case. Administrators route from triage but do not
    act for an organisation."""
    return (
        organisation.id in case.organisation_ids
        and membership_in(user, organisation) is not None
        and Permission.CASES_WORK in permissions_in(user, organisation)
    )


def can_triage(user: object) -> bool:
    """The council triage queue, and routing any report to any organisation: administrators."""
    return has(user, Permission.TRIAGE)


def can_view_performance(user: object, organisation: Organisation) -> bool:
    """The partnership performance figures of ``organisation``: its coordinators (not its
    members), and administrators, who see every organisation's."""
    return Permission.PERFORMANCE_READ in permissions_in(user, organisation)


def can_view_any_performance(user: object) -> bool:
    """May ``user`` open the performance page at all: a coordinator of an active organisation,
    or an administrator. Which organisations it shows is ``can_view_performance``'s answer."""
    return has(user, Permission.PERFORMANCE_READ)


def can_manage_targets(user: object, organisation: Organisation) -> bool:
    """An organisation's response targets per category: its coordinators, and administrators."""
    return Permission.TARGETS_MANAGE in permissions_in(user, organisation)


def can_set_priority(user: object, case: Case) -> bool:
    """May ``user`` change this case's priority (risk tier)? Members and coordinators of the
    lead organisation, and administrators (also while nobody leads it, from triage)."""
    if is_admin(user):
        return True
    lead = case.lead
    return lead is not None and Permission.CASES_PRIORITISE in permissions_in(user, lead.organisation)


def can_see_reporter(user: object, case: Case) -> bool:
    """May ``user`` see the reporter's name and email address on this case? Members and
    coordinators of the lead organisation, and administrators; nobody else on the case (the
    personal data goes with the lead role, so a hand-off moves it)."""
    if is_admin(user):
        return True
    lead = case.lead
    return lead is not None and Permission.CASES_READ in permissions_in(user, lead.organisation)


def can_add_action(user: object, case: Case, organisation: Organisation) -> bool:
    """May ``user`` add an action to this case owned by ``organisation``? Its own members and
    coordinators, once it has claimed the case (lead or supporting)."""
    return case.claim_of(organisation) is not None and can_work_on_case(user, case, organisation)


def can_edit_action(user: object, case: Case, action: CaseAction) -> bool:
    """May ``user`` change this action (status, assignee, due date, details, completion note)?
    Members and coordinators of the organisation that owns it, while it is on the case."""
    return action.report_id == case.report.id and can_work_on_case(user, case, action.organisation)


def can_view_my_actions(user: object) -> bool:
    """The "My actions" page: anyone who can work on cases (members and coordinators of an
    active organisation; administrators, who see only what is assigned to them)."""
    return has(user, Permission.CASES_WORK)


def can_offer_handoff(user: object, case: Case, organisation: Organisation) -> bool:
    """May ``user`` offer the lead of this case to another organisation for ``organisation``?
    Only while ``organisation`` leads it, and only its own members and coordinators."""
    lead = case.lead
    return lead is not None and lead.organisation_id == organisation.id and can_work_on_case(user, case, organisation)


def can_withdraw_handoff(user: object, case: Case, handoff: CaseHandoff) -> bool:
    """Members and coordinators of the organisation that made the offer, while it is on the case."""
    return handoff.report_id == case.report.id and can_work_on_case(user, case, handoff.from_organisation)


def can_answer_handoff(user: object, case: Case, handoff: CaseHandoff) -> bool:
    """May ``user`` accept or refuse this offer of the lead? Members and coordinators of the
    organisation it was offered to (the offer puts it on the case)."""
    return handoff.report_id == case.report.id and can_work_on_case(user, case, handoff.to_organisation)


# --- Public updates, internal notes, status changes, replies and merges -------------------------


def note_organisation_ids(user: object) -> set[int]:
    """Ids of the active organisations whose own-organisation notes ``user`` may read: those
    they are a member of. Administrators get no more than their own memberships."""
    person = _user(user)
    if person is None:
        return set()
    return {m.organisation_id for m in person.memberships if m.organisation.active}


def can_read_message(user: object, case: Case, message: CaseMessage) -> bool:
    """May ``user`` read this public update, reply or internal note on ``case``?

    Public updates and replies: anyone (the public page shows them; sensitive reports hide
    their text there, see app/coordination/messages.py). Notes for every organisation on the
    case: whoever may open the case. Notes for the author's organisation only: its members,
    while they may open the case; nobody else, administrators included.
    """
    from app.coordination.models import NoteAudience

    if message.report_id != case.report.id:
        return False
    if message.audience == NoteAudience.PUBLIC:
        return True
    if not can_view_case(user, case):
        return False
    if message.audience == NoteAudience.CASE:
        return True
    return message.organisation_id is not None and message.organisation_id in note_organisation_ids(user)


def can_post_message(user: object, case: Case, organisation: Organisation | None) -> bool:
    """May ``user`` post a public update or an internal note on ``case`` for ``organisation``?
    Members of an organisation on the case, for it (``can_work_on_case``). With no
    organisation: administrators, who post public updates for the council (not notes)."""
    if organisation is None:
        return is_admin(user)
    return can_work_on_case(user, case, organisation)


def is_reporter(user: object, report: Report) -> bool:
    """Is ``user`` the signed-in account that made ``report``?"""
    person = _user(user)
    return person is not None and report.reporter_id is not None and report.reporter_id == person.id


def case_actor(user: object, case: Case, organisation: Organisation | None) -> Actor:
    """Who ``user`` is on ``case`` (``app.coordination.lifecycle.Actor``), acting for
    ``organisation`` or for nobody. For an organisation: the lead partner, a supporting partner
    or another partner, if they may work on the case for it (anyone else otherwise). For
    nobody: an administrator, the reporter, a ward officer for its ward, or anyone else."""
    from app.coordination.lifecycle import Actor
    from app.coordination.models import ClaimRole

    if organisation is not None:
        if not can_work_on_case(user, case, organisation):
            return Actor.ANYONE_ELSE
        claim = case.claim_of(organisation)
        if claim is None:
            return Actor.OTHER_PARTNER
        return Actor.LEAD_PARTNER if claim.role == ClaimRole.LEAD else Actor.SUPPORTING_PARTNER
    person = _user(user)
    if person is not None and person.is_admin:
        return Actor.ADMIN
    if is_reporter(user, case.report):
        return Actor.REPORTER
    if person is not None and case.report.ward_code in person.ward_codes:
        return Actor.WARD_OFFICER
    return Actor.ANYONE_ELSE


def can_merge(user: object, case: Case) -> bool:
    """May ``user`` merge this report into another as its duplicate, or undo that? Members of
    the organisation leading it, and administrators."""
    if is_admin(user):
        return True
    lead = case.lead
    return lead is not None and can_work_on_case(user, case, lead.organisation)


# --- The ward dashboard, alerts and exports (app/hotspots) -------------------------------------

# Which categories someone may see in a ward on the dashboard: None means every category.
WardScope = dict[str, frozenset[int] | None]


def can_view_dashboard(user: object) -> bool:
    """May ``user`` open the ward dashboard at all: ward officers, coordinators of an active
    organisation, and administrators. ``dashboard_scope`` says which wards and categories."""
    return has(user, Permission.DASHBOARD_READ)


def dashboard_scope(user: object, all_wards: list[str] | set[str] | frozenset[str]) -> WardScope:
    """The wards ``user`` may see on the dashboard (and watch, and export), each with the
    categories allowed there (None: every category). Administrators: every ward in
    ``all_wards``, every category. Ward officers: their wards, every category. Coordinators:
    their organisations' coverage, wards × categories. Someone with several roles gets the
    union. Empty for everyone else."""
    person = _user(user)
    if person is None:
        return {}
    if person.is_admin:
        return dict.fromkeys(all_wards)
    scope: WardScope = {}
    for membership in person.memberships:
        organisation = membership.organisation
        if not organisation.active or membership.role != OrgRole.COORDINATOR:
            continue
        for ward in organisation.ward_codes:
            held = scope.get(ward, frozenset())
            if held is not None:
                scope[ward] = held | frozenset(organisation.category_ids)
    for ward in person.ward_codes:
        scope[ward] = None
    return scope


def can_see_ward(user: object, ward_code: str, category_id: int | None = None) -> bool:
    """May ``user`` see ``ward_code`` (in ``category_id``, or in some category when None) on the
    dashboard, watch it for alerts, and export it?"""
    scope = dashboard_scope(user, {ward_code})
    if ward_code not in scope:
        return False
    allowed = scope[ward_code]
    return allowed is None or category_id is None or category_id in allowed


def can_manage_alerts(user: object) -> bool:
    """Alert subscriptions and past alerts: whoever may see the dashboard."""
    return has(user, Permission.ALERTS_MANAGE)


def require(allowed: bool) -> None:
    """Stop the request with 403 Forbidden unless a check above said yes.

    Raises werkzeug.exceptions.Forbidden.
    """
    if not allowed:
        raise Forbidden()
