"""Response targets, priorities and time remaining: an organisation's targets page, setting a
case's priority, and the deadlines panel of the case page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app import permissions
from app.accounts.auth import client_ip
from app.coordination import deadlines, escalation, priority, targets, timing, trigger
from app.coordination.errors import CoordinationError
from app.coordination.models import REASON_MAX, Case
from app.coordination.views import _case as load_viewable_case
from app.coordination.views import _render_case, bp, case_panel
from app.db import utcnow
from app.extensions import db
from app.forms import form_page
from app.partners.models import Organisation
from app.reports.models import Priority


@bp.route("/organisations/<int:org_id>/targets", methods=["GET", "POST"])
@login_required
def targets_page(org_id: int) -> Any:
    organisation = db.session.get(Organisation, org_id) or abort(404)
    permissions.require(permissions.can_manage_targets(current_user, organisation))
    errors: dict[str, str] = {}
    lines = targets.target_lines(db.session, organisation)
    values: dict[str, str] = {}
    for line in lines:
        values.update(line.values())
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in values}
        try:
            changed = targets.save_targets(db.session, organisation, values, by=current_user, ip=client_ip())
        except CoordinationError as exc:
            errors = exc.errors
        else:
            if changed:
                flash(
                    f"Targets saved for {', '.join(c.name for c in changed)}. Deadlines of open cases in "
                    f"{'that category' if len(changed) == 1 else 'those categories'} have been worked out again.",
                    "success",
                )
            else:
                flash("Nothing changed.", "success")
            return redirect(url_for(".targets_page", org_id=organisation.id))
    hours = targets.readable_hours(organisation)
    start = targets.example_start(utcnow())
    used_hours = hours or deadlines.OFFICE_HOURS
    return form_page(
        "coordination/targets.html",
        errors,
        organisation=organisation,
        lines=lines,
        form=values,
        fields=targets.FIELDS,
        field_name=targets.field_name,
        hours=hours,
        office_hours=deadlines.OFFICE_HOURS,
        default=deadlines.DEFAULT,
        example_start=start,
        example_acknowledge=deadlines.DEFAULT.acknowledge.deadline(start, used_hours),
        example_deadlines={
            line.category.id: (
                line.targets.acknowledge.deadline(start, used_hours),
                line.targets.resolve.deadline(start, used_hours),
            )
            for line in lines
        },
        when=timing.when,
        hours_max=targets.HOURS_MAX,
        days_max=targets.DAYS_MAX,
    )


@bp.post("/cases/<int:report_id>/priority")
@login_required
def set_priority(report_id: int) -> Any:
    case = load_viewable_case(report_id)
    permissions.require(permissions.can_set_priority(current_user, case))
    try:
        chosen = priority.set_priority(
            db.session,
            case,
            request.form.get("priority", ""),
            reason=request.form.get("reason", ""),
            by=current_user,
            ip=client_ip(),
        )
    except CoordinationError as exc:
        return _render_case(case, {f"priority-{k}": v for k, v in exc.errors.items()}, posted="priority")
    flash(
        f"{case.report.reference} is now {chosen.label.lower()}. Its deadlines have been worked out again.", "success"
    )
    return redirect(url_for(".case", report_id=report_id))


@case_panel
def deadlines_panel(case: Case) -> dict[str, Any]:
    """The case page's deadlines: priority, acknowledgement and resolution against their
    targets, the targets that applied, escalation and the Community Trigger hint."""
    report = case.report
    now = utcnow()
    applied: list[tuple[str, str, timing.Timing | None]] = []
    for route in case.live_routes:
        if case.lead is None:
            found = deadlines.case_targets(db.session, report, route.organisation)
            applied.append(
                (
                    f"{route.organisation.label} acknowledges within",
                    found.acknowledge.to_text(),
                    timing.against(route.acknowledge_due_at, now=now, done="acknowledged"),
                )
            )
    if case.lead is not None:
        found = deadlines.case_targets(db.session, report, case.lead.organisation)
        applied.append((f"{case.lead.organisation.label} resolves within", found.resolve.to_text(), None))
    notes = escalation.triage_notes(db.session, [report.id]).get(report.id, escalation.TriageNote())
    flagged: dict[str, Any] = {}
    if report.trigger_flagged_at is not None:
        result = trigger.check(db.session, report)
        flagged = {
            "reason": notes.trigger or "; ".join(result.reasons()),
            "related": result.related,
            "viewable": trigger.viewable(db.session, current_user, result.related),
        }
    return {
        "timing_acknowledge": timing.acknowledgement(report, now=now),
        "timing_resolve": timing.resolution(report, now=now),
        "targets_applied": applied,
        "can_set_priority": permissions.can_set_priority(current_user, case) and report.status.is_open,
        "priorities": list(Priority),
        "priority_reason_max": REASON_MAX,
        "escalated_why": notes.escalated,
        "trigger": flagged,
        "trigger_label": trigger.LABEL,
    }
