"""Partner coordination pages: the partner inbox, a case, and the council triage queue.

Every view: load (404), authorise with app.permissions (403), validate, call a service,
redirect. The organisation someone acts for comes from the form but is never trusted: it
must be one of theirs and on the case (``permissions.can_work_on_case``), or the answer is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import permissions
from app.accounts.auth import client_ip
from app.coordination import claims, escalation, handoffs, queries, routing
from app.coordination.errors import ClaimConflict, CoordinationError
from app.coordination.models import REASON_MAX, Case
from app.db import utcnow
from app.extensions import db
from app.forms import summary_of
from app.geography.services import ward_names
from app.partners.models import Organisation
from app.reports.categories import all_categories
from app.reports.models import ReportStatus
from app.reports.queries import FilterError

bp = Blueprint("coordination", __name__, template_folder="templates")

# Each part of the case page (deadlines, hand-offs, actions, messages) lives in its own view
# module and adds what its section of the page needs through one of these.
CasePanel = Callable[[Case], dict[str, Any]]
CASE_PANELS: list[CasePanel] = []


def case_panel(panel: CasePanel) -> CasePanel:
    """Register ``panel``: called with the case on every render of the case page; the dict it
    returns joins the template context."""
    CASE_PANELS.append(panel)
    return panel


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# --- The partner inbox -------------------------------------------------------------------------


def _my_organisations() -> list[Organisation]:
    """Organisations whose inbox the signed-in person may choose: their active ones, or every
    active organisation for administrators."""
    if permissions.is_admin(current_user):
        return queries.active_organisations(db.session)
    mine = [m.organisation for m in current_user.memberships]
    return sorted((o for o in mine if permissions.can_view_inbox(current_user, o)), key=lambda o: o.name)


def inbox_organisation() -> Organisation | None:
    """The organisation whose inbox ``?org=`` names (404 if none such, 403 if the signed-in
    person may not see it); without ``org``, their only organisation, or None when they must
    choose (several, or an administrator). Raises Forbidden if they have no inbox at all."""
    org_id = request.args.get("org")
    if org_id is not None:
        organisation = db.session.get(Organisation, _int(org_id) or 0) or abort(404)
        permissions.require(permissions.can_view_inbox(current_user, organisation))
        return organisation
    choices = _my_organisations()
    permissions.require(bool(choices) or permissions.is_admin(current_user))
    if len(choices) != 1 or permissions.is_admin(current_user):
        return None
    return choices[0]


def inbox_filter() -> tuple[queries.InboxFilter, dict[str, str]]:
    """The inbox filters from the query string, and the error for a bad one (with no filters
    then). The list and the inbox map (app/coordination/performance_views.py) both use this."""
    try:
        return queries.parse_inbox_filter(
            db.session,
            ward=request.args.get("ward"),
            category=request.args.get("category"),
            status=request.args.get("status"),
            age=request.args.get("age"),
            unclaimed=request.args.get("unclaimed"),
            sort=request.args.get("sort"),
            priority=request.args.get("priority"),
            overdue=request.args.get("overdue"),
        ), {}
    except FilterError as exc:
        return queries.InboxFilter(), {f"filter-{exc.field}": str(exc)}


def inbox_form_context(args: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """What the inbox filter form (_inbox_filters.html) needs, for the list and the map alike."""
    return {
        "args": args,
        "wards": ward_names(db.session),
        "categories": all_categories(db.session),
        "statuses": list(ReportStatus),
        "ages": queries.AGES,
        "sorts": queries.SORTS,
        "priorities": queries.PRIORITIES,
        "count_cap": queries.INBOX_COUNT_CAP,
        "errors": errors,
        "error_summary": summary_of(errors),
    }


@bp.get("/inbox")
@login_required
def inbox() -> Any:
    organisation = inbox_organisation()
    if organisation is None:
        return render_template("coordination/choose.html", organisations=_my_organisations())
    filters, errors = inbox_filter()
    per_page = current_app.config["PAGE_SIZE"]
    page = _page_number()
    rows, total = queries.inbox(db.session, organisation, filters, page=page, per_page=per_page)
    last_page = max(1, -(-total // per_page))
    if page > last_page:
        page = last_page
        rows, total = queries.inbox(db.session, organisation, filters, page=page, per_page=per_page)
    args = {k: v for k, v in request.args.items() if k != "page"}
    args["org"] = str(organisation.id)
    return render_template(
        "coordination/inbox.html",
        organisation=organisation,
        handoffs_offered=handoffs.offered_to(db.session, organisation),
        several=len(_my_organisations()) > 1,
        rows=rows,
        total=total,
        page=page,
        last_page=last_page,
        per_page=per_page,
        now=utcnow(),
        **inbox_form_context(args, errors),
    ), (400 if errors else 200)


# --- A case --------------------------------------------------------------------------------------


def _case(report_id: int) -> Case:
    case = queries.load_case(db.session, report_id) or abort(404)
    permissions.require(permissions.can_view_case(current_user, case))
    return case


def _acting_for(case: Case) -> list[Organisation]:
    """The signed-in person's organisations that may act on this case."""
    return [o for o in case.organisations if permissions.can_work_on_case(current_user, case, o)]


def _acting_organisation(case: Case) -> Organisation:
    """The organisation named in the form, if the signed-in person may act for it on this
    case (403 otherwise, whatever the id); with none named, their only such organisation."""
    choices = _acting_for(case)
    chosen = request.form.get("organisation")
    if chosen is None:
        permissions.require(len(choices) == 1)
        return choices[0]
    found = next((o for o in choices if o.id == _int(chosen)), None)
    permissions.require(found is not None)
    assert found is not None
    return found


def _render_case(case: Case, errors: dict[str, str], status: int = 200, posted: str = "") -> Any:
    report = case.report
    panels: dict[str, Any] = {}
    for panel in CASE_PANELS:
        panels.update(panel(case))
    return render_template(
        "coordination/case.html",
        case=case,
        report=report,
        ward_name=ward_names(db.session).get(report.ward_code, report.ward_code),
        history=queries.history(db.session, report.id),
        acting_for=_acting_for(case),
        can_triage=permissions.can_triage(current_user),
        route_choices=[o for o in queries.active_organisations(db.session) if o.id not in case.organisation_ids]
        if permissions.can_triage(current_user)
        else [],
        reason_max=REASON_MAX,
        errors=errors,
        error_summary=summary_of(errors),
        form=request.form,
        posted=posted,
        **panels,
    ), (400 if errors and status == 200 else status)


@bp.get("/cases/<int:report_id>")
@login_required
def case(report_id: int) -> Any:
    return _render_case(_case(report_id), {})


@bp.post("/cases/<int:report_id>/claim")
@login_required
def claim(report_id: int) -> Any:
    case = _case(report_id)
    organisation = _acting_organisation(case)
    try:
        made = claims.claim_case(
            db.session, case.report, organisation, role=request.form.get("role", ""), by=current_user, ip=client_ip()
        )
    except ClaimConflict as exc:
        fresh = queries.load_case(db.session, report_id) or abort(404)
        return _render_case(fresh, {f"role-{organisation.id}": str(exc)}, status=409)
    except CoordinationError as exc:
        return _render_case(case, {f"{k}-{organisation.id}": v for k, v in exc.errors.items()})
    flash(f"{organisation.label} is now the {made.role.label.lower()} on this case.", "success")
    return redirect(url_for(".case", report_id=report_id))


@bp.post("/cases/<int:report_id>/decline")
@login_required
def decline(report_id: int) -> Any:
    case = _case(report_id)
    organisation = _acting_organisation(case)
    try:
        to_triage = claims.decline_case(
            db.session,
            case.report,
            organisation,
            reason=request.form.get("reason", ""),
            by=current_user,
            ip=client_ip(),
        )
    except CoordinationError as exc:
        return _render_case(case, {f"{k}-{organisation.id}": v for k, v in exc.errors.items()}, posted="decline")
    flash(
        f"{organisation.label} has declined {case.report.reference}."
        + (" Nobody else has it, so it has gone back to council triage." if to_triage else ""),
        "success",
    )
    return redirect(url_for(".inbox", org=organisation.id))


@bp.post("/cases/<int:report_id>/route")
@login_required
def route(report_id: int) -> Any:
    case = _case(report_id)
    permissions.require(permissions.can_triage(current_user))
    organisation = db.session.get(Organisation, _int(request.form.get("organisation")) or 0)
    if organisation is None:
        return _render_case(
            case, {"route-organisation": "Choose an organisation to route this report to"}, posted="route"
        )
    try:
        routing.route_to(
            db.session,
            case.report,
            organisation,
            reason=request.form.get("reason", ""),
            by=current_user,
            ip=client_ip(),
        )
    except CoordinationError as exc:
        return _render_case(case, {f"route-{k}": v for k, v in exc.errors.items()}, posted="route")
    flash(f"{case.report.reference} has been routed to {organisation.label}.", "success")
    return redirect(url_for(".case", report_id=report_id))


# --- Council triage ------------------------------------------------------------------------------


@bp.get("/triage")
@login_required
def triage() -> Any:
    permissions.require(permissions.can_triage(current_user))
    per_page = current_app.config["PAGE_SIZE"]
    page = _page_number()
    reports, total = queries.triage_queue(db.session, page=page, per_page=per_page)
    declined = queries.declined_by(db.session, [r.id for r in reports])
    return render_template(
        "coordination/triage.html",
        # Why escalated and Community Trigger reports are here.
        notes=escalation.triage_notes(db.session, [r.id for r in reports]),
        reports=reports,
        total=total,
        page=page,
        last_page=max(1, -(-total // per_page)),
        per_page=per_page,
        declined=declined,
        wards=ward_names(db.session),
    )


# The other parts of the case pages register their routes on ``bp`` and their panels above.
from app.coordination import (  # noqa: E402
    action_views,
    handoff_views,
    message_views,
    performance_views,
    target_views,
)

__all__ = ["action_views", "bp", "handoff_views", "message_views", "performance_views", "target_views"]
