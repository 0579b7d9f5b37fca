"""Every endpoint × every role: the status each kind of person gets.

A new endpoint without rows here fails ``test_every_endpoint_is_in_the_matrix``. Paths
may name objects made by the ``world`` fixture: {report}, {org_a}, {org_b}, ...
Statuses: 200 shown, 302 redirected (e.g. to sign in), 400 refused input, 403 forbidden,
404 not found (also used where even existence must not leak).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import User
from app.accounts.tokens import hash_token, new_raw_token
from app.coordination.models import CaseAction, CaseClaim, CaseHandoff, CaseRoute, ClaimRole, HandoffState
from app.db import utcnow
from app.partners.models import Invitation, InviteRole, Membership, Organisation, OrganisationWard, OrgRole
from app.reports.models import Report, Sector
from app.reports.services import store_pending_photo
from tests.images import jpeg_with_gps

ROLES = ("anonymous", "resident", "member", "coordinator", "ward_officer", "admin")


def every(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int, anonymous: int = 302) -> dict[str, int]:
    return {**every(status), "anonymous": anonymous}


def only(status: int, *roles: str, others: int = 403) -> dict[str, int]:
    """``status`` for ``roles``, ``others`` for the rest of the signed-in, 302 (sign in) when anonymous."""
    return {**every(others), **dict.fromkeys(roles, status), "anonymous": 302}


def admin_only(status: int) -> dict[str, int]:
    return only(status, "admin")


# Org A has the member and the coordinator; org B has someone else. Neither can touch the other.
ORG_A_VIEWERS = ("member", "coordinator", "admin")
ORG_A_MANAGERS = ("coordinator", "admin")


# (endpoint, method, path, {role: status})
MATRIX: list[tuple[str, str, str, dict[str, int]]] = [
    ("pages.home", "GET", "/", every(200)),
    ("pages.data", "GET", "/about/data", every(200)),
    ("pages.accessibility", "GET", "/accessibility", every(200)),
    ("reports.start", "GET", "/report", every(200)),
    ("reports.details", "GET", "/report/details?lat=52.4075&lon=-1.5084", every(200)),
    ("reports.submit", "POST", "/report/details", every(400)),
    # Only the browser that made the report sees its "sent" page.
    ("reports.sent", "GET", "/report/sent/{report}", every(404)),
    ("reports.confirm", "GET", "/reports/confirm/not-a-token", every(400)),
    ("reports.index", "GET", "/reports", every(200)),
    ("reports.show", "GET", "/reports/{report}", every(200)),
    ("reports.show", "GET", "/reports/{sensitive}", every(200)),
    ("reports.show", "GET", "/reports/999999999", every(404)),
    ("reports.photo", "GET", "/photos/{photo}.jpg", every(200)),
    ("reports.photo", "GET", "/photos/{photo}/thumb.jpg", every(200)),
    ("reports.photo", "GET", "/photos/{pending}.jpg", every(404)),
    ("reports.photo", "GET", "/photos/{sensitive_photo}.jpg", every(404)),
    ("reports.photo", "GET", "/photos/../../etc/passwd.jpg", every(404)),
    ("reports.geojson", "GET", "/api/reports.geojson?bbox=-1.6,52.36,-1.42,52.47", every(200)),
    ("static", "GET", "/static/js/pin-picker.js", every(200)),
    # Accounts
    ("accounts.register", "GET", "/account/create", every(200)),
    ("accounts.register", "POST", "/account/create", every(400)),
    ("accounts.verify", "GET", "/account/verify/not-a-token", every(400)),
    ("accounts.resend_verification", "POST", "/account/verify/resend", every(200)),
    ("accounts.sign_in", "GET", "/sign-in", every(200)),
    ("accounts.sign_in", "POST", "/sign-in", every(400)),
    ("accounts.sign_in_code", "GET", "/sign-in/code", every(302)),
    ("accounts.sign_in_code", "POST", "/sign-in/code", every(302)),
    ("accounts.sign_out", "POST", "/sign-out", every(302)),
    ("accounts.forgot", "GET", "/account/password-reset", every(200)),
    ("accounts.forgot", "POST", "/account/password-reset", every(400)),
    ("accounts.reset", "GET", "/account/password-reset/not-a-token", every(200)),
    ("accounts.reset", "POST", "/account/password-reset/not-a-token", every(400)),
    ("accounts.overview", "GET", "/account", signed_in(200)),
    ("accounts.change_password", "GET", "/account/password", signed_in(200)),
    ("accounts.change_password", "POST", "/account/password", signed_in(400)),
    ("accounts.change_email", "GET", "/account/email", signed_in(200)),
    ("accounts.change_email", "POST", "/account/email", signed_in(400)),
    ("accounts.confirm_email", "GET", "/account/email/confirm/not-a-token", every(400)),
    ("accounts.two_factor", "GET", "/account/two-factor", signed_in(200)),
    ("accounts.two_factor", "POST", "/account/two-factor", signed_in(400)),
    ("accounts.two_factor_disable", "POST", "/account/two-factor/disable", signed_in(302)),
    ("accounts.my_reports", "GET", "/account/reports", signed_in(200)),
    ("accounts.download", "GET", "/account/data.json", signed_in(200)),
    ("accounts.delete", "GET", "/account/delete", signed_in(200)),
    ("accounts.delete", "POST", "/account/delete", signed_in(400)),
    # Partner organisations: objects are always looked up through the organisation in the URL
    ("partners.mine", "GET", "/organisations", signed_in(200)),
    ("partners.show", "GET", "/organisations/{org_a}", only(200, *ORG_A_VIEWERS)),
    ("partners.show", "GET", "/organisations/{org_b}", admin_only(200)),
    ("partners.show", "GET", "/organisations/999999999", signed_in(404)),
    ("partners.invite", "GET", "/organisations/{org_a}/invite", only(200, *ORG_A_MANAGERS)),
    ("partners.invite", "POST", "/organisations/{org_a}/invite", only(400, *ORG_A_MANAGERS)),
    ("partners.invite", "GET", "/organisations/{org_b}/invite", admin_only(200)),
    ("partners.invite", "POST", "/organisations/{org_b}/invite", admin_only(400)),
    ("partners.change_role", "GET", "/organisations/{org_a}/members/{member_a}/role", only(200, *ORG_A_MANAGERS)),
    ("partners.change_role", "POST", "/organisations/{org_a}/members/{member_a}/role", only(400, *ORG_A_MANAGERS)),
    ("partners.change_role", "GET", "/organisations/{org_a}/members/{member_b}/role", signed_in(404)),
    ("partners.change_role", "POST", "/organisations/{org_a}/members/{member_b}/role", signed_in(404)),
    ("partners.change_role", "POST", "/organisations/{org_b}/members/{member_b}/role", admin_only(400)),
    ("partners.remove_member", "GET", "/organisations/{org_a}/members/{member_a}/remove", only(200, *ORG_A_MANAGERS)),
    ("partners.remove_member", "POST", "/organisations/{org_a}/members/{member_a}/remove", only(302, *ORG_A_MANAGERS)),
    # The only coordinator: a coordinator may not remove them (400); an administrator may.
    (
        "partners.remove_member",
        "POST",
        "/organisations/{org_a}/members/{coordinator_a}/remove",
        {**only(302, "admin"), "coordinator": 400},
    ),
    ("partners.remove_member", "GET", "/organisations/{org_a}/members/{member_b}/remove", signed_in(404)),
    ("partners.remove_member", "POST", "/organisations/{org_a}/members/{member_b}/remove", signed_in(404)),
    ("partners.remove_member", "POST", "/organisations/{org_b}/members/{member_b}/remove", admin_only(302)),
    (
        "partners.revoke_invitation",
        "POST",
        "/organisations/{org_a}/invitations/{invite_a}/revoke",
        only(302, *ORG_A_MANAGERS),
    ),
    ("partners.revoke_invitation", "POST", "/organisations/{org_a}/invitations/{invite_b}/revoke", signed_in(404)),
    ("partners.revoke_invitation", "POST", "/organisations/{org_b}/invitations/{invite_b}/revoke", admin_only(302)),
    ("partners.revoke_invitation", "POST", "/organisations/{org_a}/invitations/{invite_wo}/revoke", signed_in(404)),
    ("partners.coverage", "GET", "/organisations/{org_a}/coverage", only(200, *ORG_A_MANAGERS)),
    ("partners.coverage", "POST", "/organisations/{org_a}/coverage", only(302, *ORG_A_MANAGERS)),
    ("partners.coverage", "POST", "/organisations/{org_b}/coverage", admin_only(302)),
    ("partners.details", "GET", "/organisations/{org_a}/details", only(200, *ORG_A_MANAGERS)),
    ("partners.details", "POST", "/organisations/{org_a}/details", only(400, *ORG_A_MANAGERS)),
    ("partners.details", "GET", "/organisations/{org_b}/details", admin_only(200)),
    ("partners.details", "POST", "/organisations/{org_b}/details", admin_only(400)),
    ("partners.accept_invitation", "GET", "/invitations/not-a-token", every(400)),
    ("partners.accept_invitation", "POST", "/invitations/not-a-token", every(400)),
    # Partner coordination: a partner sees a case only while its organisation is on it
    ("coordination.inbox", "GET", "/inbox", only(200, *ORG_A_VIEWERS)),
    ("coordination.inbox", "GET", "/inbox?org={org_a}", only(200, *ORG_A_VIEWERS)),
    ("coordination.inbox", "GET", "/inbox?org={org_a}&ward=nowhere", only(400, *ORG_A_VIEWERS)),
    ("coordination.inbox", "GET", "/inbox?org={org_b}", admin_only(200)),
    ("coordination.inbox", "GET", "/inbox?org=999999999", signed_in(404)),
    ("coordination.case", "GET", "/cases/{report}", only(200, *ORG_A_VIEWERS)),
    ("coordination.case", "GET", "/cases/{case_b}", admin_only(200)),
    ("coordination.case", "GET", "/cases/{sensitive}", admin_only(200)),
    ("coordination.case", "GET", "/cases/999999999", signed_in(404)),
    # No role in the form: refused input for org A's staff; administrators do not act for an organisation.
    ("coordination.claim", "POST", "/cases/{report}/claim", only(400, "member", "coordinator")),
    ("coordination.claim", "POST", "/cases/{case_b}/claim", only(403)),
    ("coordination.claim", "POST", "/cases/999999999/claim", signed_in(404)),
    ("coordination.decline", "POST", "/cases/{report}/decline", only(400, "member", "coordinator")),
    ("coordination.decline", "POST", "/cases/{case_b}/decline", only(403)),
    ("coordination.route", "POST", "/cases/{report}/route", admin_only(400)),
    ("coordination.route", "POST", "/cases/{case_b}/route", admin_only(400)),
    # Public updates, notes and merges: an empty form is refused input for those who may post.
    ("coordination.post_update", "POST", "/cases/{report}/updates", only(400, *ORG_A_VIEWERS)),
    ("coordination.post_update", "POST", "/cases/{case_b}/updates", admin_only(400)),
    ("coordination.post_update", "POST", "/cases/999999999/updates", signed_in(404)),
    # Administrators post public updates for the council, but notes only for an organisation of theirs.
    ("coordination.post_note", "POST", "/cases/{report}/notes", only(400, "member", "coordinator")),
    ("coordination.post_note", "POST", "/cases/{case_b}/notes", only(403)),
    # Org A does not lead the report, so its staff cannot merge it.
    ("coordination.merge_case", "POST", "/cases/{report}/merge", admin_only(400)),
    ("coordination.merge_case", "POST", "/cases/{case_b}/merge", admin_only(400)),
    ("coordination.undo_merge", "POST", "/cases/{report}/merges/999999999/undo", only(404, *ORG_A_VIEWERS)),
    ("coordination.undo_merge", "POST", "/cases/{case_b}/merges/999999999/undo", admin_only(404)),
    # The reporter's page and forms (public): nobody in the matrix made these reports.
    ("coordination.reporter_page", "GET", "/reports/{report}/reply/not-a-token", every(400)),
    ("coordination.reporter_page", "GET", "/reports/999999999/reply/not-a-token", every(404)),
    ("coordination.reply", "POST", "/reports/{report}/reply", every(403)),
    ("coordination.reply", "POST", "/reports/999999999/reply", every(404)),
    ("coordination.reopen", "POST", "/reports/{report}/reopen", every(403)),
    ("coordination.reopen", "POST", "/reports/{sensitive}/reopen", every(403)),
    # Actions: org A leads {led} (with its action_a); org B leads {offered} (with its action_b)
    # and has offered org A the lead, which routed {offered} to org A. Empty forms: refused input.
    ("coordination.add_action", "POST", "/cases/{led}/actions", only(400, "member", "coordinator")),
    ("coordination.add_action", "POST", "/cases/{report}/actions", only(403)),  # routed, not claimed
    ("coordination.add_action", "POST", "/cases/{case_b}/actions", only(403)),
    ("coordination.add_action", "POST", "/cases/999999999/actions", signed_in(404)),
    ("coordination.action", "GET", "/cases/{led}/actions/{action_a}", only(200, *ORG_A_VIEWERS)),
    ("coordination.action", "GET", "/cases/{offered}/actions/{action_b}", only(200, *ORG_A_VIEWERS)),
    ("coordination.action", "GET", "/cases/{led}/actions/{action_b}", only(404, *ORG_A_VIEWERS)),
    ("coordination.action", "GET", "/cases/{case_b}/actions/{action_b}", admin_only(404)),
    ("coordination.edit_action", "POST", "/cases/{led}/actions/{action_a}", only(400, "member", "coordinator")),
    ("coordination.edit_action", "POST", "/cases/{offered}/actions/{action_b}", only(403)),
    ("coordination.edit_action", "POST", "/cases/{led}/actions/{action_b}", only(404, *ORG_A_VIEWERS)),
    ("coordination.my_actions", "GET", "/my-actions", only(200, *ORG_A_VIEWERS)),
    ("coordination.my_actions", "GET", "/my-actions?show=all&page=2", only(200, *ORG_A_VIEWERS)),
    ("coordination.my_actions", "GET", "/my-actions?show=nonsense", only(400, *ORG_A_VIEWERS)),
    # Lead hand-offs: org A has offered {led} to org B; org B has offered {offered} to org A.
    ("coordination.case", "GET", "/cases/{led}", only(200, *ORG_A_VIEWERS)),
    ("coordination.case", "GET", "/cases/{offered}", only(200, *ORG_A_VIEWERS)),
    ("coordination.offer_handoff", "POST", "/cases/{led}/handoffs", only(400, "member", "coordinator")),
    ("coordination.offer_handoff", "POST", "/cases/{offered}/handoffs", only(403)),  # org A does not lead it
    ("coordination.offer_handoff", "POST", "/cases/{case_b}/handoffs", only(403)),
    ("coordination.offer_handoff", "POST", "/cases/999999999/handoffs", signed_in(404)),
    (
        "coordination.withdraw_handoff",
        "POST",
        "/cases/{led}/handoffs/{handoff_from_a}/withdraw",
        only(302, "member", "coordinator"),
    ),
    ("coordination.withdraw_handoff", "POST", "/cases/{offered}/handoffs/{handoff_to_a}/withdraw", only(403)),
    (
        "coordination.accept_handoff",
        "POST",
        "/cases/{offered}/handoffs/{handoff_to_a}/accept",
        only(302, "member", "coordinator"),
    ),
    ("coordination.accept_handoff", "POST", "/cases/{led}/handoffs/{handoff_from_a}/accept", only(403)),
    ("coordination.accept_handoff", "POST", "/cases/{led}/handoffs/{handoff_to_a}/accept", only(404, *ORG_A_VIEWERS)),
    (
        "coordination.refuse_handoff",
        "POST",
        "/cases/{offered}/handoffs/{handoff_to_a}/refuse",
        only(400, "member", "coordinator"),
    ),
    ("coordination.refuse_handoff", "POST", "/cases/{led}/handoffs/{handoff_from_a}/refuse", only(403)),
    ("coordination.triage", "GET", "/triage", admin_only(200)),
    # Response targets: the organisation's coordinators and administrators. Org A covers no
    # category, so an empty form changes nothing and redirects.
    ("coordination.targets_page", "GET", "/organisations/{org_a}/targets", only(200, *ORG_A_MANAGERS)),
    ("coordination.targets_page", "POST", "/organisations/{org_a}/targets", only(302, *ORG_A_MANAGERS)),
    ("coordination.targets_page", "GET", "/organisations/{org_b}/targets", admin_only(200)),
    ("coordination.targets_page", "POST", "/organisations/{org_b}/targets", admin_only(302)),
    ("coordination.targets_page", "GET", "/organisations/999999999/targets", signed_in(404)),
    # Priority: the lead's members and administrators (nobody leads these; no priority given: 400).
    ("coordination.set_priority", "POST", "/cases/{report}/priority", admin_only(400)),
    ("coordination.set_priority", "POST", "/cases/{case_b}/priority", admin_only(400)),
    ("coordination.set_priority", "POST", "/cases/999999999/priority", signed_in(404)),
    # The inbox map: the inbox's arguments and the inbox's access (administrators choose an organisation first).
    ("coordination.inbox_map", "GET", "/inbox/map", {**only(200, *ORG_A_VIEWERS), "admin": 302}),
    ("coordination.inbox_map", "GET", "/inbox/map?org={org_a}", only(200, *ORG_A_VIEWERS)),
    ("coordination.inbox_map", "GET", "/inbox/map?org={org_a}&ward=nowhere", only(400, *ORG_A_VIEWERS)),
    ("coordination.inbox_map", "GET", "/inbox/map?org={org_b}", admin_only(200)),
    ("coordination.inbox_map", "GET", "/inbox/map?org=999999999", signed_in(404)),
    # Partnership performance: coordinators for their own organisations, administrators for all.
    ("coordination.performance_page", "GET", "/performance", only(200, *ORG_A_MANAGERS)),
    ("coordination.performance_page", "GET", "/performance?org={org_a}", only(200, *ORG_A_MANAGERS)),
    ("coordination.performance_page", "GET", "/performance?org={org_b}", admin_only(200)),
    ("coordination.performance_page", "GET", "/performance?org=999999999", only(404, *ORG_A_MANAGERS)),
    (
        "coordination.performance_page",
        "GET",
        "/performance?from-day=31&from-month=2&from-year=2026",
        only(400, *ORG_A_MANAGERS),
    ),
    ("coordination.performance_csv", "GET", "/performance.csv", only(200, *ORG_A_MANAGERS)),
    ("coordination.performance_csv", "GET", "/performance.csv?table=ages&org={org_a}", only(200, *ORG_A_MANAGERS)),
    ("coordination.performance_csv", "GET", "/performance.csv?org={org_b}", admin_only(200)),
    # Administration: council administrators only
    ("admin.index", "GET", "/admin", admin_only(200)),
    ("admin.organisations", "GET", "/admin/organisations", admin_only(200)),
    ("admin.organisation_new", "GET", "/admin/organisations/new", admin_only(200)),
    ("admin.organisation_new", "POST", "/admin/organisations/new", admin_only(400)),
    ("admin.organisation_edit", "GET", "/admin/organisations/{org_a}/edit", admin_only(200)),
    ("admin.organisation_edit", "POST", "/admin/organisations/{org_a}/edit", admin_only(400)),
    ("admin.organisation_edit", "GET", "/admin/organisations/999999999/edit", admin_only(404)),
    ("admin.invite_coordinator", "GET", "/admin/organisations/{org_b}/invite-coordinator", admin_only(200)),
    ("admin.invite_coordinator", "POST", "/admin/organisations/{org_b}/invite-coordinator", admin_only(400)),
    ("admin.categories", "GET", "/admin/categories", admin_only(200)),
    ("admin.category_new", "GET", "/admin/categories/new", admin_only(200)),
    ("admin.category_new", "POST", "/admin/categories/new", admin_only(400)),
    ("admin.category_edit", "GET", "/admin/categories/{category}/edit", admin_only(200)),
    ("admin.category_edit", "POST", "/admin/categories/{category}/edit", admin_only(400)),
    ("admin.category_edit", "GET", "/admin/categories/999999999/edit", admin_only(404)),
    ("admin.ward_officers", "GET", "/admin/ward-officers", admin_only(200)),
    ("admin.invite_ward_officer", "GET", "/admin/ward-officers/invite", admin_only(200)),
    ("admin.invite_ward_officer", "POST", "/admin/ward-officers/invite", admin_only(400)),
    ("admin.ward_officer_wards", "GET", "/admin/ward-officers/{officer}/wards", admin_only(200)),
    ("admin.ward_officer_wards", "POST", "/admin/ward-officers/{officer}/wards", admin_only(302)),
    ("admin.ward_officer_wards", "GET", "/admin/ward-officers/{resident_user}/wards", admin_only(404)),
    (
        "admin.revoke_ward_officer_invitation",
        "POST",
        "/admin/ward-officers/invitations/{invite_wo}/revoke",
        admin_only(302),
    ),
    (
        "admin.revoke_ward_officer_invitation",
        "POST",
        "/admin/ward-officers/invitations/{invite_a}/revoke",
        admin_only(404),
    ),
    ("admin.audit", "GET", "/admin/audit", admin_only(200)),
    ("admin.audit", "GET", "/admin/audit?action=sign_in&person=example&from=2026-01-01&to=2026-12-31", admin_only(200)),
    ("admin.audit", "GET", "/admin/audit?from=not-a-date", admin_only(400)),
    ("admin.outbox", "GET", "/admin/outbox", admin_only(200)),
    # The ward dashboard: ward officers (St Michael's), coordinators (org A covers St Michael's)
    # and administrators. A ward outside someone's scope, or a bad value, is refused input.
    ("hotspots.dashboard", "GET", "/dashboard", only(200, "coordinator", "ward_officer", "admin")),
    (
        "hotspots.dashboard",
        "GET",
        "/dashboard?ward=E05001228&period=4w&layer=hotspots",
        only(200, "coordinator", "ward_officer", "admin"),
    ),
    (
        "hotspots.dashboard",
        "GET",
        "/dashboard?ward=E05001218",
        {**only(400, "coordinator", "ward_officer"), "admin": 200},
    ),
    ("hotspots.dashboard", "GET", "/dashboard?layer=satellite", only(400, "coordinator", "ward_officer", "admin")),
    # Ward dashboard alerts: whoever may see the dashboard (the coordinator's organisation and the
    # ward officer cover St Michael's). Empty forms are refused input; a subscription is looked
    # up among the viewer's own, so any other id is 404 for everyone signed in.
    ("hotspots.alerts", "GET", "/alerts", only(200, "coordinator", "ward_officer", "admin")),
    ("hotspots.alerts", "GET", "/alerts?page=2", only(200, "coordinator", "ward_officer", "admin")),
    ("hotspots.subscribe", "POST", "/alerts", only(400, "coordinator", "ward_officer", "admin")),
    ("hotspots.unsubscribe", "POST", "/alerts/999999999/delete", signed_in(404)),
    ("hotspots.watch_ward", "POST", "/dashboard/watch", only(400, "coordinator", "ward_officer", "admin")),
    # Dashboard downloads: the dashboard's access and filters (org A covers St Michael's but no
    # category, so its coordinator gets an empty file, not a refusal).
    (
        "hotspots.export_reports",
        "GET",
        "/dashboard/export/reports.csv",
        only(200, "coordinator", "ward_officer", "admin"),
    ),
    (
        "hotspots.export_reports",
        "GET",
        "/dashboard/export/reports.geojson?ward=E05001228&period=4w",
        only(200, "coordinator", "ward_officer", "admin"),
    ),
    (
        "hotspots.export_reports",
        "GET",
        "/dashboard/export/reports.csv-metadata.json",
        only(200, "coordinator", "ward_officer", "admin"),
    ),
    (
        "hotspots.export_reports",
        "GET",
        "/dashboard/export/reports.csv?ward=E05001218",
        {**only(400, "coordinator", "ward_officer"), "admin": 200},
    ),
    (
        "hotspots.export_reports",
        "GET",
        "/dashboard/export/reports.geojson?period=forever",
        only(400, "coordinator", "ward_officer", "admin"),
    ),
    ("hotspots.export_reports", "GET", "/dashboard/export/reports.xlsx", signed_in(404, anonymous=404)),
    (
        "hotspots.export_hotspots",
        "GET",
        "/dashboard/export/hotspots.csv",
        only(200, "coordinator", "ward_officer", "admin"),
    ),
    (
        "hotspots.export_hotspots",
        "GET",
        "/dashboard/export/hotspots.geojson?ward=E05001228",
        only(200, "coordinator", "ward_officer", "admin"),
    ),
    (
        "hotspots.export_hotspots",
        "GET",
        "/dashboard/export/hotspots.csv-metadata.json?resolution=7",
        only(400, "coordinator", "ward_officer", "admin"),
    ),
]


def casework(
    session: Any, make_report: Callable[..., Report], org_a: Organisation, org_b: Organisation, a: User, b: User
) -> dict[str, int]:
    """Cases with actions and open offers of the lead: org A leads "led", has an action on it
    (assigned to ``a``) and has offered its lead to org B (not on it); org B leads "offered",
    has an action on it (assigned to ``b``) and has offered its lead to org A, which the offer
    routed it to."""
    led, offered = make_report(), make_report()
    session.add_all(
        [
            CaseRoute(report_id=led.id, organisation_id=org_a.id),
            CaseClaim(report_id=led.id, organisation_id=org_a.id, role=ClaimRole.LEAD),
            CaseRoute(report_id=offered.id, organisation_id=org_b.id),
            CaseRoute(report_id=offered.id, organisation_id=org_a.id, reason="Lead hand-off offered by Org B: yours"),
            CaseClaim(report_id=offered.id, organisation_id=org_b.id, role=ClaimRole.LEAD),
        ]
    )
    due = utcnow().date() + dt.timedelta(days=7)
    made = {
        "action_a": CaseAction(report_id=led.id, organisation_id=org_a.id, title="Visit", assignee_id=a.id, due_on=due),
        "action_b": CaseAction(
            report_id=offered.id, organisation_id=org_b.id, title="Call", assignee_id=b.id, due_on=due
        ),
        "handoff_from_a": CaseHandoff(
            report_id=led.id,
            from_organisation_id=org_a.id,
            to_organisation_id=org_b.id,
            reason="Theirs",
            state=HandoffState.OFFERED,
        ),
        "handoff_to_a": CaseHandoff(
            report_id=offered.id,
            from_organisation_id=org_b.id,
            to_organisation_id=org_a.id,
            reason="Yours",
            state=HandoffState.OFFERED,
        ),
    }
    session.add_all(made.values())
    session.flush()
    return {"led": led.id, "offered": offered.id, **{key: row.id for key, row in made.items()}}


@pytest.fixture
def world(app: Flask, db_session, make_report: Callable[..., Report], make_user: Callable[..., User]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two organisations, a person in each role, reports and photos."""
    report = make_report()
    sensitive = make_report(slug="drug-dealing")
    photos = [
        store_pending_photo(db_session, app.config["UPLOAD_DIR"], io.BytesIO(jpeg_with_gps()), f"{n}.jpg")
        for n in range(3)
    ]
    photos[0].report_id = report.id
    photos[2].report_id = sensitive.id
    org_a = Organisation(name="Org A", sector=Sector.COUNCIL, contact_email="a@example.org")
    org_b = Organisation(name="Org B", sector=Sector.POLICE, contact_email="b@example.org")
    db_session.add_all([org_a, org_b])
    db_session.flush()
    db_session.add_all([OrganisationWard(organisation_id=org_a.id, ward_code="E05001228")])
    # The report is routed to org A; another is routed to org B only.
    case_b = make_report()
    db_session.add_all(
        [
            CaseRoute(report_id=report.id, organisation_id=org_a.id),
            CaseRoute(report_id=case_b.id, organisation_id=org_b.id),
        ]
    )
    users = {
        "resident": make_user(),
        "member": make_user(),
        "coordinator": make_user(),
        "ward_officer": make_user(wards=["E05001228"]),
        "admin": make_user(admin=True),
    }
    someone_in_b = make_user()
    memberships = {
        "member_a": Membership(user_id=users["member"].id, organisation_id=org_a.id, role=OrgRole.MEMBER),
        "coordinator_a": Membership(
            user_id=users["coordinator"].id, organisation_id=org_a.id, role=OrgRole.COORDINATOR
        ),
        "member_b": Membership(user_id=someone_in_b.id, organisation_id=org_b.id, role=OrgRole.MEMBER),
    }
    db_session.add_all(memberships.values())
    worked = casework(db_session, make_report, org_a, org_b, users["member"], someone_in_b)
    soon = utcnow() + dt.timedelta(hours=72)
    pending = {
        "invite_a": Invitation(email="new-a@example.org", role=InviteRole.MEMBER, organisation_id=org_a.id),
        "invite_b": Invitation(email="new-b@example.org", role=InviteRole.MEMBER, organisation_id=org_b.id),
        "invite_wo": Invitation(email="new-wo@example.org", role=InviteRole.WARD_OFFICER, ward_codes="E05001218"),
    }
    for invitation in pending.values():
        invitation.token_hash = hash_token(new_raw_token())
        invitation.expires_at = soon
    db_session.add_all(pending.values())
    db_session.flush()
    for user in users.values():
        db_session.refresh(user)
    return {
        "users": users,
        "ids": {
            "report": report.id,
            "sensitive": sensitive.id,
            "case_b": case_b.id,
            **worked,
            "photo": photos[0].id,
            "pending": photos[1].id,
            "sensitive_photo": photos[2].id,
            "org_a": org_a.id,
            "org_b": org_b.id,
            **{key: m.id for key, m in memberships.items()},
            **{key: i.id for key, i in pending.items()},
            "category": report.category_id,
            "officer": users["ward_officer"].id,
            "resident_user": users["resident"].id,
        },
    }


CASES = [
    (endpoint, method, path, role, expected[role]) for endpoint, method, path, expected in MATRIX for role in ROLES
]


@pytest.mark.parametrize(
    ("endpoint", "method", "path", "role", "status"), CASES, ids=[f"{r} {m} {p}" for _, m, p, r, _ in CASES]
)
def test_access(
    client: FlaskClient,
    login: Callable[[User], None],
    world: dict[str, Any],
    endpoint: str,
    method: str,
    path: str,
    role: str,
    status: int,
) -> None:
    """Does each role get the expected status from each endpoint and object?"""
    if role != "anonymous":
        login(world["users"][role])
    response = client.open(path.format(**world["ids"]), method=method)
    response.close()
    assert response.status_code == status


def test_every_endpoint_is_in_the_matrix(app: Flask) -> None:
    """Is every registered endpoint and method listed in the access matrix, for every role?"""
    listed = {(endpoint, method) for endpoint, method, _, _ in MATRIX}
    for endpoint, _, path, expected in MATRIX:
        assert set(expected) == set(ROLES), f"{endpoint} {path} does not list every role"
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert (rule.endpoint, method) in listed, f"{rule.endpoint} {method} {rule.rule} is not in MATRIX"
