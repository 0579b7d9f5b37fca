"""Council administration: organisations, categories, ward officers, the audit log and the outbox.

Every page needs a signed-in administrator (others get 403; anonymous visitors are sent to
sign in), and each view also asks app.permissions for its own named permission.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import permissions
from app.accounts.auth import client_ip
from app.accounts.models import User
from app.audit.services import AuditQuery, actions, search
from app.extensions import db, login_manager
from app.forms import form_page
from app.geography.services import ward_names
from app.mail.models import EmailStatus
from app.mail.services import count_by_status, emails_needing_attention
from app.partners import invitations, services
from app.partners.models import Invitation, InviteRole, Organisation
from app.partners.services import OrganisationDetails, PartnerError
from app.partners.views import accept_link
from app.reports.categories import CategoryDetails, CategoryError, all_categories, create_category, update_category
from app.reports.models import Category, Sector
from app.templating import LONDON

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

AUDIT_PAGE_SIZE = 50


@bp.before_request
def _administrators_only() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.can_use_administration(current_user):
        abort(403)
    return None


def _checked(name: str) -> bool:
    return request.form.get(name) == "yes"


@bp.get("")
def index() -> Any:
    counts = count_by_status(db.session) if permissions.can_read_outbox(current_user) else {}
    attention = counts.get(EmailStatus.FAILED, 0) + counts.get(EmailStatus.UNCERTAIN, 0)
    return render_template("admin/index.html", needing_attention=attention)


# --- Organisations ---------------------------------------------------------------------------


@bp.get("/organisations")
def organisations() -> Any:
    permissions.require(permissions.can_manage_organisations(current_user))
    return render_template(
        "admin/organisations.html", organisations=services.organisations_for(db.session, current_user)
    )


def _organisation_details() -> OrganisationDetails:
    return OrganisationDetails(
        name=request.form.get("name", ""),
        sector=request.form.get("sector", ""),
        contact_email=request.form.get("contact_email", ""),
        working_hours=request.form.get("working_hours", ""),
        active=_checked("active"),
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
def organisation_new() -> Any:
    permissions.require(permissions.can_manage_organisations(current_user))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"working_hours": "Monday to Friday, 9am to 5pm", "active": True}
    if request.method == "POST":
        details = _organisation_details()
        values = vars(details)
        try:
            organisation = services.create_organisation(db.session, details, by=current_user, ip=client_ip())
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash(f"{organisation.label} has been created. Now set its coverage and invite its coordinator.", "success")
            return redirect(url_for("partners.show", org_id=organisation.id))
    return form_page("admin/organisation_form.html", errors, organisation=None, form=values, sectors=list(Sector))


@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
def organisation_edit(org_id: int) -> Any:
    organisation = db.session.get(Organisation, org_id) or abort(404)
    permissions.require(permissions.can_manage_organisations(current_user))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "name": organisation.name,
        "sector": organisation.sector.value,
        "contact_email": organisation.contact_email,
        "working_hours": organisation.working_hours,
        "active": organisation.active,
    }
    if request.method == "POST":
        details = _organisation_details()
        values = vars(details)
        try:
            services.update_organisation(db.session, organisation, details, by=current_user, ip=client_ip())
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash(f"{organisation.label} has been saved.", "success")
            return redirect(url_for("admin.organisations"))
    return form_page(
        "admin/organisation_form.html", errors, organisation=organisation, form=values, sectors=list(Sector)
    )


@bp.route("/organisations/<int:org_id>/invite-coordinator", methods=["GET", "POST"])
def invite_coordinator(org_id: int) -> Any:
    organisation = db.session.get(Organisation, org_id) or abort(404)
    permissions.require(permissions.can_invite(current_user, organisation, InviteRole.COORDINATOR))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            invitation = invitations.invite(
                db.session,
                organisation,
                email=request.form.get("email", ""),
                role=InviteRole.COORDINATOR,
                by=current_user,
                accept_link=accept_link,
                ip=client_ip(),
            )
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash(f"Invitation sent to {invitation.email} to coordinate {organisation.label}.", "success")
            return redirect(url_for("partners.show", org_id=organisation.id))
    return form_page("admin/invite_coordinator.html", errors, organisation=organisation, form=request.form)


# --- Categories ------------------------------------------------------------------------------


@bp.get("/categories")
def categories() -> Any:
    permissions.require(permissions.can_manage_categories(current_user))
    return render_template("admin/categories.html", categories=all_categories(db.session))


def _category_details() -> CategoryDetails:
    return CategoryDetails(
        name=request.form.get("name", ""),
        group=request.form.get("group", ""),
        hint=request.form.get("hint", ""),
        sensitive=_checked("sensitive"),
        default_sector=request.form.get("default_sector", ""),
        active=_checked("active"),
    )


def _groups() -> list[str]:
    return list(dict.fromkeys(c.group for c in all_categories(db.session)))


@bp.route("/categories/new", methods=["GET", "POST"])
def category_new() -> Any:
    permissions.require(permissions.can_manage_categories(current_user))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"active": True, "sensitive": False}
    if request.method == "POST":
        details = _category_details()
        values = vars(details)
        try:
            category = create_category(db.session, details, by=current_user, ip=client_ip())
        except CategoryError as exc:
            errors = exc.errors
        else:
            flash(f"The category {category.name} has been created.", "success")
            return redirect(url_for("admin.categories"))
    return form_page(
        "admin/category_form.html", errors, category=None, form=values, sectors=list(Sector), groups=_groups()
    )


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
def category_edit(category_id: int) -> Any:
    category = db.session.get(Category, category_id) or abort(404)
    permissions.require(permissions.can_manage_categories(current_user))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "name": category.name,
        "group": category.group,
        "hint": category.hint,
        "sensitive": category.sensitive,
        "default_sector": category.default_sector.value,
        "active": category.active,
    }
    if request.method == "POST":
        details = _category_details()
        values = vars(details)
        try:
            update_category(db.session, category, details, by=current_user, ip=client_ip())
        except CategoryError as exc:
            errors = exc.errors
        else:
            flash(f"The category {category.name} has been saved.", "success")
            return redirect(url_for("admin.categories"))
    return form_page(
        "admin/category_form.html", errors, category=category, form=values, sectors=list(Sector), groups=_groups()
    )


# --- Ward officers ---------------------------------------------------------------------------


@bp.get("/ward-officers")
def ward_officers() -> Any:
    permissions.require(permissions.can_manage_ward_officers(current_user))
    return render_template(
        "admin/ward_officers.html",
        officers=services.ward_officers(db.session),
        pending=invitations.pending_for(db.session, None),
        wards=ward_names(db.session),
    )


@bp.route("/ward-officers/invite", methods=["GET", "POST"])
def invite_ward_officer() -> Any:
    permissions.require(permissions.can_invite(current_user, None, InviteRole.WARD_OFFICER))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            invitation = invitations.invite_ward_officer(
                db.session,
                email=request.form.get("email", ""),
                ward_codes=request.form.getlist("wards"),
                by=current_user,
                accept_link=accept_link,
                ip=client_ip(),
            )
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash(f"Invitation sent to {invitation.email}. The link works once, for 72 hours.", "success")
            return redirect(url_for("admin.ward_officers"))
    return form_page(
        "admin/invite_ward_officer.html",
        errors,
        form=request.form,
        chosen=request.form.getlist("wards"),
        wards=ward_names(db.session),
    )


@bp.route("/ward-officers/<int:user_id>/wards", methods=["GET", "POST"])
def ward_officer_wards(user_id: int) -> Any:
    officer = db.session.get(User, user_id)
    if officer is None or officer.deleted_at is not None or not officer.ward_assignments:
        abort(404)
    permissions.require(permissions.can_manage_ward_officers(current_user))
    errors: dict[str, str] = {}
    chosen = sorted(officer.ward_codes)
    if request.method == "POST":
        chosen = request.form.getlist("wards")
        try:
            services.set_ward_officer_wards(db.session, officer, chosen, by=current_user, ip=client_ip())
        except PartnerError as exc:
            errors = exc.errors
        else:
            message = "Wards saved." if chosen else f"{officer.display_name} is no longer a ward officer."
            flash(message, "success")
            return redirect(url_for("admin.ward_officers"))
    return form_page(
        "admin/ward_officer_wards.html", errors, officer=officer, chosen=chosen, wards=ward_names(db.session)
    )


@bp.post("/ward-officers/invitations/<int:invitation_id>/revoke")
def revoke_ward_officer_invitation(invitation_id: int) -> Any:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.id == invitation_id, Invitation.organisation_id.is_(None))
    ) or abort(404)
    permissions.require(permissions.can_revoke_invitation(current_user, invitation))
    try:
        invitations.revoke(db.session, invitation, by=current_user, ip=client_ip())
    except PartnerError as exc:
        flash(str(exc), "info")
    else:
        flash(f"The invitation to {invitation.email} has been withdrawn.", "success")
    return redirect(url_for("admin.ward_officers"))


# --- Audit log and outbox (read only) --------------------------------------------------------


def _audit_query(args: Any) -> tuple[AuditQuery, dict[str, str]]:
    errors: dict[str, str] = {}
    days: dict[str, dt.date | None] = {"from": None, "to": None}
    for key, label in (("from", "From"), ("to", "To")):
        text = (args.get(key) or "").strip()
        if text:
            try:
                days[key] = dt.date.fromisoformat(text)
            except ValueError:
                errors[key] = f"{label} must be a real date, like 2026-03-31"
    start, end = days["from"], days["to"]
    if start and end and end < start:
        errors["to"] = "To must be the same as or after From"
    query = AuditQuery(
        action=(args.get("action") or "").strip() or None,
        actor_email=(args.get("person") or "").strip().lower() or None,
        # Days are London days: an event at 00:30 BST on 1 April belongs to 1 April.
        start=_london_midnight(start) if start and not errors else None,
        end=_london_midnight(end + dt.timedelta(days=1)) if end and not errors else None,
    )
    return query, errors


def _london_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


@bp.get("/audit")
def audit() -> Any:
    permissions.require(permissions.can_view_audit_log(current_user))
    query, errors = _audit_query(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    events, total = search(db.session, query, page=page, per_page=AUDIT_PAGE_SIZE) if not errors else ([], 0)
    last_page = max(math.ceil(total / AUDIT_PAGE_SIZE), 1)
    if page > last_page and total:
        abort(404)
    return form_page(
        "admin/audit.html",
        errors,
        events=events,
        total=total,
        page=page,
        last_page=last_page,
        per_page=AUDIT_PAGE_SIZE,
        actions=actions(db.session),
        args=request.args,
    )


@bp.get("/outbox")
def outbox() -> Any:
    permissions.require(permissions.can_read_outbox(current_user))
    return render_template(
        "admin/outbox.html",
        counts=count_by_status(db.session),
        emails=emails_needing_attention(db.session),
        mail_transport=current_app.config["MAIL_TRANSPORT"],
    )
