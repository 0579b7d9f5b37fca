"""Actions on a case, and each person's own actions.

``/cases/<id>/actions`` adds one (from the form on the case page), ``/cases/<id>/actions/<a>``
shows one and saves changes to it, ``/my-actions`` lists the signed-in person's. Actions are
for partners only: no public page shows them.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import permissions
from app.accounts.auth import client_ip
from app.accounts.models import User
from app.coordination import actions
from app.coordination.actions import ActionInput
from app.coordination.errors import CoordinationError
from app.coordination.models import BODY_MAX, TITLE_MAX, ActionStatus, Case, CaseAction
from app.coordination.views import (
    _acting_organisation,
    _case,
    _page_number,
    _render_case,
    bp,
    case_panel,
)
from app.extensions import db
from app.forms import summary_of
from app.mail.services import public_url
from app.reports.queries import FilterError


def _action_link(action: CaseAction) -> str:
    return public_url(url_for("coordination.action", report_id=action.report_id, action_id=action.id))


def _errors(exc: CoordinationError) -> dict[str, str]:
    """Service field names as the form's element ids."""
    return {f"action-{field}": message for field, message in exc.errors.items()}


@case_panel
def actions_panel(case: Case) -> dict[str, Any]:
    """Every action on the case (everyone on the case sees them) and what the add form needs."""
    found = actions.case_actions(db.session, case.report.id)
    adders = [o for o in case.organisations if permissions.can_add_action(current_user, case, o)]
    return {
        "case_actions": found,
        "actions_today": actions.today(),
        "action_editable": {a.id for a in found if permissions.can_edit_action(current_user, case, a)},
        "action_organisations": adders,
        "action_members": {o.id: actions.members(o) for o in adders},
        "action_statuses": list(ActionStatus),
        "action_title_max": TITLE_MAX,
        "action_body_max": BODY_MAX,
    }


@bp.post("/cases/<int:report_id>/actions")
@login_required
def add_action(report_id: int) -> Any:
    case = _case(report_id)
    organisation = _acting_organisation(case)
    permissions.require(permissions.can_add_action(current_user, case, organisation))
    try:
        made = actions.add_action(
            db.session,
            case.report,
            organisation,
            ActionInput.from_form(request.form),
            by=current_user,
            action_link=_action_link,
            ip=client_ip(),
        )
    except CoordinationError as exc:
        return _render_case(case, _errors(exc), posted="action")
    flash(f"Action added: {made.title}.", "success")
    return redirect(url_for(".case", report_id=report_id, _anchor="actions"))


def _action(case: Case, action_id: int) -> CaseAction:
    return actions.load_action(db.session, case.report.id, action_id) or abort(404)


def _assignable(action: CaseAction) -> list[User]:
    """The owning organisation's members, and the current assignee if they have left it (an
    action may stay with them)."""
    people = actions.members(action.organisation)
    if action.assignee is not None and action.assignee not in people:
        people.append(action.assignee)
    return people


def _render_action(case: Case, action: CaseAction, values: ActionInput, errors: dict[str, str]) -> Any:
    return render_template(
        "coordination/action_page.html",
        case=case,
        report=case.report,
        action=action,
        values=values,
        can_edit=permissions.can_edit_action(current_user, case, action),
        today=actions.today(),
        members=_assignable(action),
        statuses=list(ActionStatus),
        body_max=BODY_MAX,
        errors=errors,
        error_summary=summary_of(errors),
    ), (400 if errors else 200)


@bp.get("/cases/<int:report_id>/actions/<int:action_id>")
@login_required
def action(report_id: int, action_id: int) -> Any:
    case = _case(report_id)
    found = _action(case, action_id)
    return _render_action(case, found, ActionInput.of(found), {})


@bp.post("/cases/<int:report_id>/actions/<int:action_id>")
@login_required
def edit_action(report_id: int, action_id: int) -> Any:
    case = _case(report_id)
    found = _action(case, action_id)
    permissions.require(permissions.can_edit_action(current_user, case, found))
    data = ActionInput.from_form(request.form)
    try:
        changed = actions.change_action(
            db.session, found, data, by=current_user, action_link=_action_link, ip=client_ip()
        )
    except CoordinationError as exc:
        return _render_action(case, found, data, _errors(exc))
    if changed:
        flash(f"Action updated: {', '.join(changed).lower()} changed.", "success")
    else:
        flash("Nothing was changed.", "info")
    return redirect(url_for(".action", report_id=report_id, action_id=action_id))


@bp.get("/my-actions")
@login_required
def my_actions() -> Any:
    permissions.require(permissions.can_view_my_actions(current_user))
    errors: dict[str, str] = {}
    try:
        show = actions.parse_show(request.args.get("show"))
    except FilterError as exc:
        show, errors = "open", {exc.field: str(exc)}
    per_page = current_app.config["PAGE_SIZE"]
    page = _page_number()
    rows, total = actions.my_actions(db.session, current_user, show=show, page=page, per_page=per_page)
    last_page = max(1, -(-total // per_page))
    if page > last_page:
        page = last_page
        rows, total = actions.my_actions(db.session, current_user, show=show, page=page, per_page=per_page)
    return render_template(
        "coordination/my_actions.html",
        rows=rows,
        total=total,
        page=page,
        last_page=last_page,
        per_page=per_page,
        show=show,
        shows=actions.SHOW,
        args={"show": show},
        today=actions.today(),
        errors=errors,
        error_summary=summary_of(errors),
    ), (400 if errors else 200)
