"""Flask-Login wiring: who is signed in, checked against the server-side session on every request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.accounts.models import User
from app.accounts.sessions import current_session, end_session, start_session
from app.extensions import db, login_manager
from app.permissions import requires_second_factor

SESSION_KEY = "sid"
# Pages a person who must set up a second factor can still reach.
_SETUP_ALLOWED = {"accounts.two_factor", "accounts.sign_out", "static", "pages.accessibility"}


def client_ip() -> str:
    return request.remote_addr or ""


def sign_in(user: User, *, second_factor: bool) -> None:
    """Start a fresh session for ``user``: the old cookie session is discarded first."""
    session.clear()
    raw = start_session(
        db.session,
        user,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
        second_factor=second_factor,
    )
    session[SESSION_KEY] = raw
    session.permanent = True
    login_user(user)


def sign_out() -> None:
    end_session(db.session, session.get(SESSION_KEY))
    logout_user()
    session.clear()


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    app.permanent_session_lifetime = dt.timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        row = current_session(
            db.session,
            session.get(SESSION_KEY),
            idle=dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
            absolute=dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]),
        )
        if row is None or str(row.user_id) != user_id:
            return None
        g.user_session = row
        return row.user

    @app.before_request
    def second_factor_gate() -> Any:
        if request.endpoint in _SETUP_ALLOWED or not current_user.is_authenticated:
            return None
        row = g.get("user_session")
        if requires_second_factor(current_user) and (row is None or row.second_factor_at is None):
            return redirect(url_for("accounts.two_factor"))
        return None

    @app.context_processor
    def inject_user() -> dict[str, Any]:
        from app import permissions

        return {"current_user": current_user, "permissions": permissions}
