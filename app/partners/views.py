"""Partner organisations: their pages, members, invitations and coverage.

Every view: load (404), authorise with app.permissions (403), validate, call a service,
redirect. Objects named in the URL are always loaded *through* the organisation in the
URL, so an id belonging to another organisation is simply not found.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import permissions
from app.accounts.auth import client_ip, sign_in
from app.accounts.services import find_user
from app.audit.services import record
from app.extensions import db, limiter
from app.forms import form_page
from app.geography.services import ward_names
from app.mail.services import public_url
from app.partners import invitations, services
from app.partners.invitations import InvitationError
from app.partners.models import Invitation, Membership, Organisation, OrgRole
from app.partners.services import NotAllowed, PartnerError
from app.reports.categories import all_categories

bp = Blueprint("partners", __name__, template_folder="templates")


def accept_link(raw: str) -> str:
    return public_url(url_for("partners.accept_invitation", token=raw))


def _organisation(org_id: int) -> Organisation:
    return db.session.get(Organisation, org_id) or abort(404)


def _membership(organisation: Organisation, membership_id: int) -> Membership:
    # Looked up within the organisation from the URL: another organisation's id is a 404.
    found = db.session.scalar(
        sa.select(Membership).where(Membership.id == membership_id, Membership.organisation_id == organisation.id)
    )
    return found or abort(404)


@bp.get("/organisations")
@login_required
def mine() -> Any:
    organisations = services.organisations_for(db.session, current_user)
    roles = {m.organisation_id: m.role for m in current_user.memberships}
    return render_template(
        "partners/mine.html",
        organisations=organisations,
        roles=roles,
        all_listed=permissions.can_list_all_organisations(current_user),
    )


@bp.get("/organisations/<int:org_id>")
@login_required
def show(org_id: int) -> Any:
    organisation = _organisation(org_id)
    permissions.require(permissions.can_view_organisation(current_user, organisation))
    can_manage = permissions.can_manage_members(current_user, organisation)
    members = sorted(organisation.memberships, key=lambda m: (m.role != OrgRole.COORDINATOR, m.user.display_name))
    wards = ward_names(db.session)
    return render_template(
        "partners/show.html",
        organisation=organisation,
        members=members,
        pending=invitations.pending_for(db.session, organisation) if can_manage else [],
        can_manage=can_manage,
        can_edit_coverage=permissions.can_manage_coverage(current_user, organisation),
        can_edit_details=permissions.can_edit_organisation_details(current_user, organisation),
        all_wards=bool(wards) and organisation.ward_codes >= set(wards),
        ward_list=[name for code, name in wards.items() if code in organisation.ward_codes],
        category_list=[c.name for c in all_categories(db.session) if c.id in organisation.category_ids],
    )


@bp.route("/organisations/<int:org_id>/invite", methods=["GET", "POST"])
@login_required
def invite(org_id: int) -> Any:
    organisation = _organisation(org_id)
    permissions.require(permissions.can_manage_members(current_user, organisation))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            invitation = invitations.invite(
                db.session,
                organisation,
                email=request.form.get("email", ""),
                role=request.form.get("role", ""),
                by=current_user,
                accept_link=accept_link,
                ip=client_ip(),
            )
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash(f"Invitation sent to {invitation.email}. The link works once, for 72 hours.", "success")
            return redirect(url_for("partners.show", org_id=organisation.id))
    return form_page("partners/invite.html", errors, organisation=organisation, form=request.form)


@bp.route("/organisations/<int:org_id>/members/<int:membership_id>/role", methods=["GET", "POST"])
@login_required
def change_role(org_id: int, membership_id: int) -> Any:
    organisation = _organisation(org_id)
    membership = _membership(organisation, membership_id)
    permissions.require(permissions.can_change_member(current_user, membership))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.change_role(db.session, membership, request.form.get("role", ""), by=current_user, ip=client_ip())
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash(f"{membership.user.display_name} is now a {membership.role.value}.", "success")
            return redirect(url_for("partners.show", org_id=organisation.id))
    chosen = request.form.get("role", membership.role.value) if request.method == "POST" else membership.role.value
    return form_page(
        "partners/change_role.html",
        errors,
        organisation=organisation,
        membership=membership,
        chosen=chosen,
        roles=list(OrgRole),
    )


@bp.route("/organisations/<int:org_id>/members/<int:membership_id>/remove", methods=["GET", "POST"])
@login_required
def remove_member(org_id: int, membership_id: int) -> Any:
    organisation = _organisation(org_id)
    membership = _membership(organisation, membership_id)
    permissions.require(permissions.can_change_member(current_user, membership))
    errors: dict[str, str] = {}
    if request.method == "POST":
        person = membership.user
        try:
            services.remove_member(db.session, membership, by=current_user, ip=client_ip())
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash(f"{person.display_name} has been removed from {organisation.label}.", "success")
            if permissions.can_view_organisation(current_user, organisation):
                return redirect(url_for("partners.show", org_id=organisation.id))
            return redirect(url_for("partners.mine"))
    return form_page("partners/remove_member.html", errors, organisation=organisation, membership=membership)


@bp.post("/organisations/<int:org_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(org_id: int, invitation_id: int) -> Any:
    organisation = _organisation(org_id)
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.id == invitation_id, Invitation.organisation_id == organisation.id)
    ) or abort(404)
    permissions.require(permissions.can_revoke_invitation(current_user, invitation))
    try:
        invitations.revoke(db.session, invitation, by=current_user, ip=client_ip())
    except PartnerError as exc:
        flash(str(exc), "info")
    else:
        flash(f"The invitation to {invitation.email} has been withdrawn.", "success")
    return redirect(url_for("partners.show", org_id=organisation.id))


@bp.route("/organisations/<int:org_id>/coverage", methods=["GET", "POST"])
@login_required
def coverage(org_id: int) -> Any:
    organisation = _organisation(org_id)
    permissions.require(permissions.can_manage_coverage(current_user, organisation))
    errors: dict[str, str] = {}
    chosen_wards = sorted(organisation.ward_codes)
    chosen_categories = sorted(str(c) for c in organisation.category_ids)
    if request.method == "POST":
        chosen_wards = request.form.getlist("wards")
        chosen_categories = request.form.getlist("categories")
        try:
            services.set_coverage(
                db.session,
                organisation,
                ward_codes=chosen_wards,
                category_ids=chosen_categories,
                by=current_user,
                ip=client_ip(),
            )
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash("Coverage saved.", "success")
            return redirect(url_for("partners.show", org_id=organisation.id))
    categories = [c for c in all_categories(db.session) if c.active or str(c.id) in chosen_categories]
    return form_page(
        "partners/coverage.html",
        errors,
        organisation=organisation,
        wards=ward_names(db.session),
        categories=categories,
        chosen_wards=chosen_wards,
        chosen_categories=chosen_categories,
    )


@bp.route("/organisations/<int:org_id>/details", methods=["GET", "POST"])
@login_required
def details(org_id: int) -> Any:
    organisation = _organisation(org_id)
    permissions.require(permissions.can_edit_organisation_details(current_user, organisation))
    errors: dict[str, str] = {}
    values = {"contact_email": organisation.contact_email, "working_hours": organisation.working_hours}
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}
        try:
            services.update_contact_details(db.session, organisation, **values, by=current_user, ip=client_ip())
        except PartnerError as exc:
            errors = exc.errors
        else:
            flash("Contact details saved.", "success")
            return redirect(url_for("partners.show", org_id=organisation.id))
    return form_page("partners/details.html", errors, organisation=organisation, form=values)


# --- Accepting an invitation -----------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def accept_invitation(token: str) -> Any:
    try:
        invitation = invitations.find_invitation(db.session, token)
    except InvitationError as exc:
        return render_template("partners/invitation_problem.html", message=str(exc)), 400
    context = {"invitation": invitation, "wards": ward_names(db.session), "token": token}
    if current_user.is_authenticated:
        if not permissions.can_accept_invitation(current_user, invitation):
            return render_template("partners/accept_wrong_account.html", **context), 403
        if request.method == "POST":
            try:
                invitations.accept(db.session, token, user=current_user, ip=client_ip())
            except (InvitationError, NotAllowed) as exc:
                return render_template("partners/invitation_problem.html", message=str(exc)), 400
            return _accepted(invitation, current_user)
        return render_template("partners/accept.html", **context)
    if find_user(db.session, invitation.email) is not None:
        # The address has an account: its owner must sign in as it (never a new account).
        return render_template("partners/accept_sign_in.html", **context), (400 if request.method == "POST" else 200)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = invitations.accept_with_new_account(
                db.session,
                token,
                name=request.form.get("name", ""),
                password=request.form.get("password", ""),
                password_confirm=request.form.get("password_confirm", ""),
                ip=client_ip(),
            )
        except PartnerError as exc:
            errors = exc.errors
        except InvitationError as exc:
            return render_template("partners/invitation_problem.html", message=str(exc)), 400
        else:
            sign_in(user, second_factor=False)
            record(db.session, "sign_in", actor=user, ip=client_ip(), detail="after accepting an invitation")
            return _accepted(invitation, user)
    return form_page("partners/accept_new_account.html", errors, form=request.form, **context)


def _accepted(invitation: Invitation, user: Any) -> Any:
    if invitation.organisation is not None:
        flash(f"You have joined {invitation.organisation.label} as a {invitation.role.value}.", "success")
        return redirect(url_for("partners.show", org_id=invitation.organisation.id))
    # Ward officers must use a second factor: the sign-in gate sends them to set it up.
    setup = "" if user.totp_enabled else " Set up two-step sign-in to continue."
    flash(f"You are now a ward officer.{setup}", "success")
    return redirect(url_for("accounts.overview"))
