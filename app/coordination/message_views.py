"""Public updates, internal notes, status changes, replies and merges on a case.

On the case page (partners): the timeline and the forms to post a public update (optionally
changing the status), add an internal note, merge the report into another and undo that.
On the public report page (residents): the updates and replies, and for the reporter (signed
in, or with the signed link from an update's email) forms to reply and to reopen.

Every view: load (404), authorise with app.permissions (403), validate, call a service
(app.coordination.messages, .merge), redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import permissions
from app.accounts.auth import client_ip
from app.coordination import merge, messages, notify
from app.coordination.errors import CoordinationError
from app.coordination.lifecycle import REOPEN_WINDOW, Actor, allowed_targets
from app.coordination.models import BODY_MAX, Case, CaseMerge, NoteAudience
from app.coordination.queries import load_case
from app.coordination.views import _acting_for, _acting_organisation, _case, _render_case, bp, case_panel
from app.db import utcnow
from app.extensions import db, limiter
from app.forms import summary_of
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports.models import REFERRED_TO_MAX, CloseReason, Report, ReportStatus

COUNCIL = "council"  # the "post as" value for an administrator posting for the council


# --- The case page -----------------------------------------------------------------------------


def _identities(case: Case) -> list[dict[str, Any]]:
    """Whom the signed-in person may post public updates as on ``case``, with the statuses
    each may move it to: their organisations on the case, and the council for administrators."""
    now = utcnow()
    report = case.report
    found = []
    for organisation in _acting_for(case):
        actor = permissions.case_actor(current_user, case, organisation)
        found.append(
            {
                "value": str(organisation.id),
                "label": organisation.label,
                "targets": allowed_targets(report.status, actor, now=now, resolved_at=None),
            }
        )
    if permissions.is_admin(current_user):
        found.append(
            {
                "value": COUNCIL,
                "label": "The council (as an administrator)",
                "targets": allowed_targets(report.status, Actor.ADMIN, now=now, resolved_at=None),
            }
        )
    return found


@case_panel
def messages_panel(case: Case) -> dict[str, Any]:
    """The timeline this person may read, who they can mention, and what the update, note and
    merge forms need."""
    identities = _identities(case)
    offered = {s for i in identities for s in i["targets"]}
    active = merge.active_merge(db.session, case.report.id)
    into = db.session.get(Report, active.into_id) if active else None
    return {
        "timeline": messages.timeline(db.session, case, current_user),
        "update_identities": identities,
        "update_targets": [s for s in ReportStatus if s in offered],
        "close_reasons": list(CloseReason),
        "note_organisations": _acting_for(case),
        "note_audiences": [NoteAudience.CASE, NoteAudience.ORGANISATION],
        "mention_people": messages.people_on_case(db.session, case),
        "message_body_max": BODY_MAX,
        "referred_to_max": REFERRED_TO_MAX,
        "can_merge": permissions.can_merge(current_user, case),
        "merge_active": active,
        "merge_into": into,
        "merged_here": merge.merged_into(db.session, case.report.id),
    }


# The order of each form's fields, so that the error summary lists them in the same order.
_FIELD_ORDER = ["body", "status", "reason", "duplicate_of", "referred_to", "audience", "into"]


def _errors(prefix: str, exc: CoordinationError) -> dict[str, str]:
    """Service field names as the form's element ids, in the order of the form."""
    ordered = sorted(exc.errors.items(), key=lambda kv: _FIELD_ORDER.index(kv[0]) if kv[0] in _FIELD_ORDER else 99)
    return {f"{prefix}-{field}": message for field, message in ordered}


def _update_organisation(case: Case) -> Organisation | None:
    """The organisation a public update is posted for (403 unless the person may act for it);
    None for the council, which only administrators post for."""
    chosen = request.form.get("organisation")
    if chosen == COUNCIL or (chosen is None and not _acting_for(case) and permissions.is_admin(current_user)):
        permissions.require(permissions.is_admin(current_user))
        return None
    return _acting_organisation(case)


@bp.post("/cases/<int:report_id>/updates")
@login_required
def post_update(report_id: int) -> Any:
    case = _case(report_id)
    organisation = _update_organisation(case)
    permissions.require(permissions.can_post_message(current_user, case, organisation))
    form = request.form
    try:
        message = messages.post_update(
            db.session,
            case,
            by=current_user,
            organisation=organisation,
            body=form.get("update-body", ""),
            new_status=form.get("update-status"),
            reason=form.get("update-reason"),
            duplicate_of=form.get("update-duplicate_of"),
            referred_to=form.get("update-referred_to"),
            ip=client_ip(),
        )
    except CoordinationError as exc:
        return _render_case(case, _errors("update", exc), posted="update")
    if message.status_to:
        flash(f"Public update posted: {case.report.reference} is now {case.report.status.label.lower()}.", "success")
    else:
        flash("Public update posted. The resident and anyone following the report have been emailed.", "success")
    return redirect(url_for(".case", report_id=report_id, _anchor="messages"))


@bp.post("/cases/<int:report_id>/notes")
@login_required
def post_note(report_id: int) -> Any:
    case = _case(report_id)
    organisation = _acting_organisation(case)
    permissions.require(permissions.can_post_message(current_user, case, organisation))
    try:
        messages.post_note(
            db.session,
            case,
            by=current_user,
            organisation=organisation,
            body=request.form.get("note-body", ""),
            audience=request.form.get("note-audience"),
            ip=client_ip(),
        )
    except CoordinationError as exc:
        return _render_case(case, _errors("note", exc), posted="note")
    flash("Internal note added.", "success")
    return redirect(url_for(".case", report_id=report_id, _anchor="messages"))


@bp.post("/cases/<int:report_id>/merge")
@login_required
def merge_case(report_id: int) -> Any:
    case = _case(report_id)
    permissions.require(permissions.can_merge(current_user, case))
    try:
        made = merge.merge(db.session, case, request.form.get("merge-into", ""), by=current_user, ip=client_ip())
    except CoordinationError as exc:
        errors = _errors("merge", exc)
        if "merge-status" in errors:
            errors["merge-into"] = errors.pop("merge-status")
        return _render_case(case, errors, posted="merge")
    into = db.session.get(Report, made.into_id)
    assert into is not None
    flash(f"{case.report.reference} is merged into {into.reference} and closed as its duplicate.", "success")
    return redirect(url_for(".case", report_id=report_id))


@bp.post("/cases/<int:report_id>/merges/<int:merge_id>/undo")
@login_required
def undo_merge(report_id: int, merge_id: int) -> Any:
    case = _case(report_id)
    found = db.session.scalar(sa.select(CaseMerge).where(CaseMerge.id == merge_id, CaseMerge.report_id == report_id))
    if found is None:
        abort(404)
    permissions.require(permissions.can_merge(current_user, case))
    try:
        merge.undo(db.session, case, found, by=current_user, ip=client_ip())
    except CoordinationError as exc:
        return _render_case(case, {"merge-undo": " ".join(exc.errors.values())}, posted="undo")
    flash(f"The merge is undone: {case.report.reference} is {case.report.status.label.lower()} again.", "success")
    return redirect(url_for(".case", report_id=report_id))


# --- The public report page ---------------------------------------------------------------------


def report_page_context(
    report: Report, *, token: str | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """What the public report page shows of the updates and replies, and the reporter's forms
    when the viewer is its reporter (``token``: a reply link already checked)."""
    reporter = bool(token) or (
        permissions.is_reporter(current_user, report) and notify.usable_address(report.reporter_email) is not None
    )
    now = utcnow()
    can_reopen = (
        reporter
        and report.status == ReportStatus.RESOLVED
        and report.resolved_at is not None
        and bool(allowed_targets(report.status, Actor.REPORTER, now=now, resolved_at=min(report.resolved_at, now)))
    )
    errors = errors or {}
    return {
        "updates": messages.public_timeline(db.session, report, full=reporter),
        "reporter_view": reporter,
        "reply_token": token,
        "can_reopen": can_reopen,
        "reopen_until": report.resolved_at + REOPEN_WINDOW if can_reopen and report.resolved_at else None,
        "message_body_max": BODY_MAX,
        "errors": errors,
        "error_summary": summary_of(errors),
        "form": request.form,
    }


def _published(report_id: int) -> Case:
    return load_case(db.session, report_id) or abort(404)


def _private(response: Any) -> Response:
    """A page that carries a reply link's token: never cached, and its address never sent on
    to another site (the map's tiles, say) as the referrer."""
    made = make_response(response)
    made.headers["Cache-Control"] = "private, no-store"
    made.headers["Referrer-Policy"] = "no-referrer"
    return made


def _link_problem(report: Report, message: str) -> Any:
    page = render_template("coordination/message_link_problem.html", report=report, message=message)
    return _private((page, 400))


def _render_report(case: Case, token: str | None, errors: dict[str, str]) -> Any:
    from app.reports.views import render_report

    return _private(
        render_report(case.report.id, status=400, **report_page_context(case.report, token=token, errors=errors))
    )


@bp.get("/reports/<int:report_id>/reply/<token>")
def reporter_page(report_id: int, token: str) -> Any:
    from app.reports.views import render_report

    case = _published(report_id)
    try:
        notify.check_reply_token(case.report, token)
    except notify.ReplyLinkError as exc:
        return _link_problem(case.report, str(exc))
    return _private(render_report(report_id, **report_page_context(case.report, token=token)))


def _reporter_token(case: Case) -> str | None:
    """The reply link's token from the form, or None; 403 unless there is one or the signed-in
    person made the report (the service checks the token itself)."""
    token = request.form.get("token") or None
    permissions.require(token is not None or permissions.is_reporter(current_user, case.report))
    return token


def _back(case: Case, token: str | None) -> Any:
    if token:
        return redirect(notify.reply_path(case.report.id, token) + "#updates")
    return redirect(url_for("reports.show", report_id=case.report.id, _anchor="updates"))


def _as_reporter(report_id: int, prefix: str, act: Callable[[Case, str | None, Any], object], success: str) -> Any:
    """A reporter's reply or reopening (``act(case, token, by)``), signed in or through the
    emailed link: 403 without either, the link's problem page for a bad link, the report page
    with the form's errors (an error about the status shown at the updates), else back."""
    case = _published(report_id)
    token = _reporter_token(case)
    try:
        act(case, token, current_user if current_user.is_authenticated else None)
    except notify.ReplyLinkError as exc:
        return _link_problem(case.report, str(exc))
    except NotAllowed:
        abort(403)
    except CoordinationError as exc:
        errors = _errors(prefix, exc)
        if f"{prefix}-status" in errors:
            errors["updates"] = errors.pop(f"{prefix}-status")
        return _render_report(case, token, errors)
    flash(success, "success")
    return _back(case, token)


@bp.post("/reports/<int:report_id>/reply")
@limiter.limit("20 per hour", methods=["POST"])
def reply(report_id: int) -> Any:
    body = request.form.get("reply-body", "")
    return _as_reporter(
        report_id,
        "reply",
        lambda case, token, by: messages.reply(db.session, case, body=body, by=by, token=token, ip=client_ip()),
        "Your reply has been sent to the organisations working on your report.",
    )


@bp.post("/reports/<int:report_id>/reopen")
@limiter.limit("20 per hour", methods=["POST"])
def reopen(report_id: int) -> Any:
    reason = request.form.get("reopen-reason", "")
    return _as_reporter(
        report_id,
        "reopen",
        lambda case, token, by: messages.reopen(db.session, case, reason=reason, by=by, token=token, ip=client_ip()),
        "Your report is reopened: it is in progress again, and the organisation leading it has been told.",
    )
