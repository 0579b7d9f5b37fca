"""Friendly error pages (HTML) and JSON errors (for /api/ paths)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("There is a problem with your request", "Check what you entered and try again."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("That action is not allowed here", "Go back and try again from the page you were on."),
    413: (
        "Your files are too large",
        "Each photo must be 10 MB or smaller, and all of them together no more than 30 MB. "
        "Go back, choose smaller photos and send the form again.",
    ),
    429: (
        "Too many attempts",
        "For your security we have paused this for a few minutes. Wait 10 minutes and try again.",
    ),
    500: ("Sorry, there is a problem with the service", "Try again later."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return render_template(
            "error.html",
            title="Your session has expired",
            message="For your security, the form timed out. Go back, reload the page and send it again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        title, message = MESSAGES.get(code, (exc.name, exc.description or ""))
        if request.path.startswith("/api/"):
            return jsonify(error=f"{title}. {message}"), code
        if code == 429 and request.endpoint == "accounts.sign_in":
            _record_throttle()
        return render_template("error.html", title=title, message=message, code=code), code


def _record_throttle() -> None:
    from app.accounts.auth import client_ip
    from app.audit.services import record
    from app.extensions import db

    record(
        db.session,
        "sign_in_throttled",
        actor_email=(request.form.get("email") or "").strip().lower(),
        ip=client_ip(),
    )
