"""Sign-up, sign-in (with the second factor), sign-out, resets and the account pages."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from app.accounts import services, totp
from app.accounts.auth import SESSION_KEY, client_ip, sign_in, sign_out
from app.accounts.models import User
from app.accounts.services import AccountError
from app.accounts.tokens import TokenError
from app.audit.services import record
from app.db import utcnow
from app.extensions import db, limiter
from app.forms import summary_of
from app.geography.services import ward_names
from app.mail.services import public_url
from app.permissions import requires_second_factor
from app.reports.models import Report

bp = Blueprint("accounts", __name__, template_folder="templates")

PENDING_2FA = "pending_second_factor"
PENDING_2FA_SECONDS = 300
SETUP_SECRET = "totp_setup_secret"


def _link(endpoint: str) -> Any:
    # Links in emails use PUBLIC_BASE_URL, never the request's Host header, which an
    # attacker could set to make a reset link point at their own site.
    return lambda raw: public_url(url_for(endpoint, token=raw))


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


def _failed(response: Response) -> bool:
    return response.status_code == 400


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect to another site after sign-in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("accounts.overview")


# --- Sign-up and verification ----------------------------------------------------------------


@bp.route("/account/create", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register() -> Any:
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        # Every problem at once, in the order of the fields, for the error summary.
        errors = services.registration_problems(
            email=form.get("email", ""), name=form.get("name", ""), password=form.get("password", "")
        )
        if "password" not in errors and form.get("password") != form.get("password_confirm"):
            errors["password_confirm"] = "The passwords do not match: type the same password twice"
        if not errors:
            try:
                services.register(
                    db.session,
                    email=form.get("email", ""),
                    name=form.get("name", ""),
                    password=form.get("password", ""),
                    verify_link=_link("accounts.verify"),
                )
            except AccountError as exc:
                errors[exc.field] = str(exc)
        if not errors:
            return render_template("accounts/check_email.html", email=form.get("email", "").strip())
    return render_template("accounts/register.html", form=form, errors=errors, error_summary=summary_of(errors)), (
        400 if errors else 200
    )


@bp.get("/account/verify/<token>")
def verify(token: str) -> Any:
    try:
        user = services.verify_email(db.session, token)
    except TokenError as exc:
        return render_template("accounts/link_problem.html", message=str(exc)), 400
    record(db.session, "email_verified", actor=user, ip=client_ip())
    flash("Your email address is confirmed. You can now sign in.", "success")
    return redirect(url_for("accounts.sign_in"))


@bp.post("/account/verify/resend")
@limiter.limit("5 per hour")
def resend_verification() -> Any:
    user = services.find_user(db.session, request.form.get("email", ""))
    if user is not None and not user.is_verified:
        services.send_verification(db.session, user, _link("accounts.verify"))
    return render_template("accounts/check_email.html", email=request.form.get("email", "").strip())


# --- Sign-in ---------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@limiter.limit("30 per 10 minutes", methods=["POST"], deduct_when=_failed)
@limiter.limit("10 per 10 minutes", methods=["POST"], key_func=_account_key, deduct_when=_failed)
def sign_in_page() -> Any:
    errors: dict[str, str] = {}
    unverified: User | None = None
    if request.method == "POST":
        email = request.form.get("email", "")
        user = services.authenticate(db.session, email, request.form.get("password", ""))
        if user is None:
            errors["email"] = "The email address or password is not right"
            record(db.session, "sign_in_failed", actor_email=email.strip().lower(), ip=client_ip())
        elif not user.is_verified:
            unverified = user
        elif user.totp_enabled:
            session.clear()
            session[PENDING_2FA] = {"user": user.id, "at": utcnow().timestamp(), "next": request.args.get("next")}
            return redirect(url_for("accounts.sign_in_code"))
        else:
            sign_in(user, second_factor=False)
            record(db.session, "sign_in", actor=user, ip=client_ip())
            if requires_second_factor(user):
                return redirect(url_for("accounts.two_factor"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template(
        "accounts/sign_in.html",
        errors=errors,
        error_summary=summary_of(errors),
        form=request.form,
        unverified=unverified,
    ), (400 if errors else 200)


def _pending_user() -> User | None:
    pending = session.get(PENDING_2FA)
    if not pending or utcnow().timestamp() - float(pending.get("at", 0)) > PENDING_2FA_SECONDS:
        return None
    return db.session.get(User, int(pending["user"]))


def _pending_key() -> str:
    pending = session.get(PENDING_2FA) or {}
    return f"second-factor:{pending.get('user')}"


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit("10 per 10 minutes", methods=["POST"], key_func=_pending_key, deduct_when=_failed)
def sign_in_code() -> Any:
    user = _pending_user()
    if user is None:
        flash("Sign in again: the time to enter your code ran out.", "info")
        return redirect(url_for("accounts.sign_in"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        if services.check_totp(db.session, user, request.form.get("code", "")):
            target = (session.get(PENDING_2FA) or {}).get("next")
            sign_in(user, second_factor=True)
            record(db.session, "sign_in", actor=user, ip=client_ip(), detail="with second factor")
            return redirect(_safe_next(target))
        errors["code"] = "That code is not right: enter the 6-digit code your app shows now"
        record(db.session, "second_factor_failed", actor=user, ip=client_ip())
    return render_template("accounts/sign_in_code.html", errors=errors, error_summary=summary_of(errors)), (
        400 if errors else 200
    )


@bp.post("/sign-out", endpoint="sign_out")
def sign_out_page() -> Any:
    if current_user.is_authenticated:
        record(db.session, "sign_out", actor=current_user, ip=client_ip())
    sign_out()
    flash("You have signed out.", "success")
    return redirect(url_for("pages.home"))


# --- Password reset --------------------------------------------------------------------------


@bp.route("/account/password-reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            email = services.normalise_email(request.form.get("email"))
        except AccountError as exc:
            errors[exc.field] = str(exc)
        else:
            services.request_password_reset(db.session, email, reset_link=_link("accounts.reset"))
            return render_template("accounts/check_email.html", email=email, reset=True)
    return render_template(
        "accounts/forgot.html", errors=errors, error_summary=summary_of(errors), form=request.form
    ), (400 if errors else 200)


@bp.route("/account/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset(token: str) -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("password") != request.form.get("password_confirm"):
            errors["password_confirm"] = "The passwords do not match: type the same password twice"
        else:
            try:
                user = services.reset_password(db.session, token, request.form.get("password", ""))
            except AccountError as exc:
                errors[exc.field] = str(exc)
            except TokenError as exc:
                return render_template("accounts/link_problem.html", message=str(exc)), 400
            else:
                record(db.session, "password_reset", actor=user, ip=client_ip())
                sign_out()
                flash("Your password has been changed. Sign in with your new password.", "success")
                return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset.html", errors=errors, error_summary=summary_of(errors)), (
        400 if errors else 200
    )


# --- Your account ----------------------------------------------------------------------------


@bp.get("/account")
@login_required
def overview() -> Any:
    names = ward_names(db.session) if current_user.ward_assignments else {}
    return render_template(
        "accounts/overview.html",
        user=current_user,
        second_factor_required=requires_second_factor(current_user),
        ward_list=sorted(names.get(code, code) for code in current_user.ward_codes),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.change_password(
                db.session,
                current_user,
                current=request.form.get("current_password", ""),
                new=request.form.get("new_password", ""),
                keep_session=session.get(SESSION_KEY),
            )
        except AccountError as exc:
            errors[exc.field] = str(exc)
        else:
            record(db.session, "password_changed", actor=current_user, ip=client_ip())
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.overview"))
    return render_template("accounts/change_password.html", errors=errors, error_summary=summary_of(errors)), (
        400 if errors else 200
    )


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def change_email() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.request_email_change(
                db.session,
                current_user,
                current=request.form.get("current_password", ""),
                new_email=request.form.get("new_email", ""),
                confirm_link=_link("accounts.confirm_email"),
            )
        except AccountError as exc:
            errors[exc.field] = str(exc)
        else:
            return render_template("accounts/check_email.html", email=request.form.get("new_email", "").strip())
    return render_template(
        "accounts/change_email.html", errors=errors, error_summary=summary_of(errors), form=request.form
    ), (400 if errors else 200)


@bp.get("/account/email/confirm/<token>")
def confirm_email(token: str) -> Any:
    try:
        user = services.confirm_email_change(db.session, token)
    except (TokenError, AccountError) as exc:
        return render_template("accounts/link_problem.html", message=str(exc)), 400
    record(db.session, "email_changed", actor=user, ip=client_ip())
    flash("Your email address has been changed.", "success")
    return redirect(url_for("accounts.overview") if current_user.is_authenticated else url_for("accounts.sign_in"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor() -> Any:
    errors: dict[str, str] = {}
    secret = session.get(SETUP_SECRET) or totp.new_secret()
    session[SETUP_SECRET] = secret
    if request.method == "POST":
        try:
            services.enable_totp(db.session, current_user, secret=secret, code=request.form.get("code", ""))
        except AccountError as exc:
            errors[exc.field] = str(exc)
        else:
            session.pop(SETUP_SECRET, None)
            row = g.get("user_session")
            if row is not None:
                row.second_factor_at = utcnow()
            record(db.session, "second_factor_enabled", actor=current_user, ip=client_ip())
            flash("Two-step sign-in is on. You will need your app each time you sign in.", "success")
            return redirect(url_for("accounts.overview"))
    uri = totp.provisioning_uri(secret, current_user.email)
    return render_template(
        "accounts/two_factor.html",
        errors=errors,
        error_summary=summary_of(errors),
        secret=secret,
        qr=totp.qr_svg(uri),
        required=requires_second_factor(current_user),
    ), (400 if errors else 200)


@bp.post("/account/two-factor/disable")
@login_required
def two_factor_disable() -> Any:
    try:
        services.disable_totp(
            db.session,
            current_user,
            current=request.form.get("current_password", ""),
            required=requires_second_factor(current_user),
        )
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("accounts.overview"))
    record(db.session, "second_factor_disabled", actor=current_user, ip=client_ip())
    flash("Two-step sign-in is off.", "success")
    return redirect(url_for("accounts.overview"))


@bp.get("/account/reports")
@login_required
def my_reports() -> Any:
    reports = db.session.scalars(
        sa.select(Report)
        .where(sa.or_(Report.reporter_id == current_user.id, Report.reporter_email == current_user.email))
        .order_by(Report.created_at.desc())
        .limit(500)
    ).all()
    return render_template("accounts/my_reports.html", reports=reports)


@bp.get("/account/data.json")
@login_required
def download() -> Any:
    data = services.export_data(db.session, current_user)
    record(db.session, "data_downloaded", actor=current_user, ip=client_ip())
    stamp = utcnow().date().isoformat()
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="tellus-my-data-{stamp}.json"'},
    )


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            errors["confirm"] = "Tick the box to confirm you understand what deleting your account does"
        else:
            try:
                services.delete_account(db.session, current_user, current=request.form.get("current_password", ""))
            except AccountError as exc:
                errors[exc.field] = str(exc)
            else:
                record(db.session, "account_deleted", actor=current_user, ip=client_ip())
                sign_out()
                flash(
                    "Your account has been deleted. Your reports stay on the map without your name or email.", "success"
                )
                return redirect(url_for("pages.home"))
    return render_template("accounts/delete.html", errors=errors, error_summary=summary_of(errors)), (
        400 if errors else 200
    )
