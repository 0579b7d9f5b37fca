"""Handing the lead role of a case to another organisation.

The lead offers (``/cases/<id>/handoffs``) and may withdraw its open offer; the organisation it
was offered to accepts or refuses it. The case page shows the open offer to everyone on the
case, the last answer, and a note for each accepted hand-off saying who can see the reporter's
personal data since when.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app import permissions
from app.accounts.auth import client_ip
from app.coordination import handoffs, queries
from app.coordination.errors import CoordinationError
from app.coordination.handoffs import HandoffConflict
from app.coordination.models import Case, CaseHandoff, HandoffState
from app.coordination.views import _acting_organisation, _case, _int, _render_case, bp, case_panel
from app.extensions import db
from app.mail.services import public_url
from app.partners.models import Organisation


def _case_url(case: Case) -> str:
    return public_url(url_for("coordination.case", report_id=case.report.id))


@case_panel
def handoff_panel(case: Case) -> dict[str, Any]:
    """The open offer and what the signed-in person may do with it, the last answer, the
    personal-data notes of accepted hand-offs, and the offer form for the lead's members."""
    found = handoffs.case_handoffs(db.session, case.report.id)
    offer = next((h for h in found if h.state == HandoffState.OFFERED), None)
    lead = case.lead
    may_offer = (
        offer is None
        and case.report.status.is_open
        and lead is not None
        and permissions.can_offer_handoff(current_user, case, lead.organisation)
    )
    return {
        "handoff_offer": offer,
        "handoff_can_withdraw": offer is not None and permissions.can_withdraw_handoff(current_user, case, offer),
        "handoff_can_answer": offer is not None and permissions.can_answer_handoff(current_user, case, offer),
        "handoff_last_answer": next(
            (h for h in found if h.state in {HandoffState.ACCEPTED, HandoffState.REFUSED}), None
        ),
        "handoff_notes": [
            (h, handoffs.personal_data_note(h.to_organisation, h.from_organisation, h.answered_at))
            for h in found
            if h.state == HandoffState.ACCEPTED and h.answered_at is not None
        ],
        "handoff_from": lead.organisation if may_offer and lead is not None else None,
        "handoff_choices": [
            o for o in queries.active_organisations(db.session) if lead and o.id != lead.organisation_id
        ]
        if may_offer
        else [],
    }


def _errors(exc: CoordinationError, prefix: str = "handoff-") -> dict[str, str]:
    """Service field names as the page's element ids; an offer no longer open is about the
    hand-off section as a whole (``#handoff``)."""
    return {("handoff" if field == "handoff" else prefix + field): message for field, message in exc.errors.items()}


def _handoff(case: Case, handoff_id: int) -> CaseHandoff:
    return handoffs.load_handoff(db.session, case.report.id, handoff_id) or abort(404)


@bp.post("/cases/<int:report_id>/handoffs")
@login_required
def offer_handoff(report_id: int) -> Any:
    case = _case(report_id)
    organisation = _acting_organisation(case)
    permissions.require(permissions.can_offer_handoff(current_user, case, organisation))
    to = db.session.get(Organisation, _int(request.form.get("to")) or 0)
    try:
        handoffs.offer_handoff(
            db.session,
            case.report,
            organisation,
            to,
            reason=request.form.get("reason", ""),
            by=current_user,
            case_url=_case_url(case),
            ip=client_ip(),
        )
    except HandoffConflict as exc:
        fresh = queries.load_case(db.session, report_id) or abort(404)
        return _render_case(fresh, _errors(exc), status=409, posted="handoff")
    except CoordinationError as exc:
        return _render_case(case, _errors(exc), posted="handoff")
    assert to is not None
    flash(f"You have offered the lead to {to.label}. {organisation.label} leads the case until it accepts.", "success")
    return redirect(url_for(".case", report_id=report_id, _anchor="handoff"))


@bp.post("/cases/<int:report_id>/handoffs/<int:handoff_id>/withdraw")
@login_required
def withdraw_handoff(report_id: int, handoff_id: int) -> Any:
    case = _case(report_id)
    offer = _handoff(case, handoff_id)
    permissions.require(permissions.can_withdraw_handoff(current_user, case, offer))
    try:
        handoffs.withdraw_handoff(db.session, offer, by=current_user, ip=client_ip())
    except CoordinationError as exc:
        return _render_case(case, _errors(exc), status=409)
    flash(f"You have withdrawn the offer of the lead to {offer.to_organisation.label}.", "success")
    return redirect(url_for(".case", report_id=report_id, _anchor="handoff"))


@bp.post("/cases/<int:report_id>/handoffs/<int:handoff_id>/accept")
@login_required
def accept_handoff(report_id: int, handoff_id: int) -> Any:
    case = _case(report_id)
    offer = _handoff(case, handoff_id)
    permissions.require(permissions.can_answer_handoff(current_user, case, offer))
    try:
        handoffs.accept_handoff(db.session, offer, by=current_user, case_url=_case_url(case), ip=client_ip())
    except CoordinationError as exc:
        return _render_case(case, _errors(exc), status=409)
    flash(
        f"{offer.to_organisation.label} is now the lead partner on this case, and can see the reporter's name and "
        "email address.",
        "success",
    )
    return redirect(url_for(".case", report_id=report_id, _anchor="handoff"))


@bp.post("/cases/<int:report_id>/handoffs/<int:handoff_id>/refuse")
@login_required
def refuse_handoff(report_id: int, handoff_id: int) -> Any:
    case = _case(report_id)
    offer = _handoff(case, handoff_id)
    permissions.require(permissions.can_answer_handoff(current_user, case, offer))
    try:
        handoffs.refuse_handoff(
            db.session,
            offer,
            reason=request.form.get("reason", ""),
            by=current_user,
            case_url=_case_url(case),
            ip=client_ip(),
        )
    except CoordinationError as exc:
        status = 409 if "handoff" in exc.errors else 200
        return _render_case(case, _errors(exc, "handoff-refuse-"), status=status, posted="handoff-refuse")
    flash(f"You have refused the lead. {offer.from_organisation.label} still leads the case.", "success")
    return redirect(url_for(".case", report_id=report_id, _anchor="handoff"))
