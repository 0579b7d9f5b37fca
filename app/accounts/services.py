"""Account life cycle: registration, verification, sign-in checks, resets, email and
password changes, the second factor, data export and deletion.

Functions take the session and the acting user explicitly, flush but never commit, and
build links through a ``link`` callable (token -> absolute URL) given by the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from app.accounts import totp
from app.accounts.models import TokenPurpose, User
from app.accounts.passwords import hash_password, needs_rehash, password_problems, verify_password
from app.accounts.sessions import end_all_sessions
from app.accounts.tokens import LIFETIMES, consume_token, issue_token
from app.db import utcnow
from app.mail.services import queue_email
from app.reports.models import Report

Link = Callable[[str], str]


class AccountError(ValueError):
    """A request about an account cannot be done; ``field`` names the form field to fix."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def normalise_email(email: str | None, field: str = "email") -> str:
    """Lower-case and check an email address. Raises AccountError if it is not one."""
    text = (email or "").strip()
    if not text:
        raise AccountError(field, "Enter your email address")
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AccountError(field, "Enter an email address in the correct format, like name@example.com") from None


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == email.strip().lower(), User.deleted_at.is_(None)))


def _check_password(password: str, *, email: str, name: str, field: str = "password") -> None:
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise AccountError(field, problems[0])


def registration_problems(*, email: str, name: str, password: str) -> dict[str, str]:
    """Everything wrong with a sign-up form at once, as {field: message} (empty if none), so
    the error summary can list every problem."""
    problems: dict[str, str] = {}
    name = name.strip()
    if not name:
        problems["name"] = "Enter your name"
    elif len(name) > 100:
        problems["name"] = "Name must be 100 characters or fewer"
    address = ""
    try:
        address = normalise_email(email)
    except AccountError as exc:
        problems[exc.field] = str(exc)
    weak = password_problems(password, email=address, name=name)
    if weak:
        problems["password"] = weak[0]
    return problems


def register(session: Session, *, email: str, name: str, password: str, verify_link: Link) -> User | None:
    """Create an unverified account and email a verification link.

    Returns None, sending nothing, if the address already has an account, so the page
    cannot be used to find out who is registered. Raises AccountError for a bad name,
    address or password (the first of ``registration_problems``).
    """
    problems = registration_problems(email=email, name=name, password=password)
    if problems:
        raise AccountError(*next(iter(problems.items())))
    name = name.strip()
    address = normalise_email(email)
    if find_user(session, address) is not None:
        return None
    user = User(email=address, display_name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    send_verification(session, user, verify_link)
    return user


def send_verification(session: Session, user: User, verify_link: Link) -> None:
    raw = issue_token(session, TokenPurpose.VERIFY_EMAIL, user=user)
    queue_email(
        session,
        to=user.email,
        template="verify_email",
        context={"name": user.display_name, "verify_url": verify_link(raw)},
        kind="verify_email",
    )


def verify_email(session: Session, raw: str) -> User:
    """Mark the address verified. Raises TokenError for a used, expired or unknown link."""
    token = consume_token(session, TokenPurpose.VERIFY_EMAIL, raw)
    user = session.get(User, token.user_id)
    if user is None or user.deleted_at is not None:
        from app.accounts.tokens import TokenError

        raise TokenError("This link is for an account that no longer exists.")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user whose email and password these are, or None (same time either way)."""
    user = find_user(session, email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None and user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def request_password_reset(session: Session, email: str, *, reset_link: Link) -> None:
    """Email a reset link if there is an account; do nothing visible otherwise."""
    user = find_user(session, email)
    if user is None:
        return
    raw = issue_token(session, TokenPurpose.RESET_PASSWORD, user=user)
    queue_email(
        session,
        to=user.email,
        template="reset_password",
        context={
            "name": user.display_name,
            "reset_url": reset_link(raw),
            "expires_hours": int(LIFETIMES[TokenPurpose.RESET_PASSWORD].total_seconds() // 3600),
        },
        kind="reset_password",
    )


def reset_password(session: Session, raw: str, password: str) -> User:
    """Set a new password from a reset link and end every existing session.

    Raises AccountError for a weak password (the link stays usable) and TokenError for a
    bad link. Following the link also proves the address, so it is marked verified.
    """
    from app.accounts.models import Token
    from app.accounts.tokens import TokenError, hash_token

    pending = session.scalar(sa.select(Token).where(Token.token_hash == hash_token(raw or "")))
    owner = session.get(User, pending.user_id) if pending and pending.user_id else None
    if owner is not None:
        _check_password(password, email=owner.email, name=owner.display_name)
    token = consume_token(session, TokenPurpose.RESET_PASSWORD, raw)
    user = session.get(User, token.user_id)
    if user is None:
        raise TokenError("This link is for an account that no longer exists.")
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or utcnow()
    end_all_sessions(session, user)
    session.flush()
    return user


def change_password(session: Session, user: User, *, current: str, new: str, keep_session: str | None) -> None:
    """Change the password after checking the current one; other sessions are ended.

    Raises AccountError naming the field to fix.
    """
    if not verify_password(user.password_hash, current):
        raise AccountError("current_password", "Your current password is not right")
    _check_password(new, email=user.email, name=user.display_name, field="new_password")
    user.password_hash = hash_password(new)
    end_all_sessions(session, user, except_raw=keep_session)
    session.flush()


def request_email_change(session: Session, user: User, *, current: str, new_email: str, confirm_link: Link) -> None:
    """Send a confirmation link to the new address; the change happens when it is clicked.

    Raises AccountError for a wrong current password, a bad address or one in use.
    """
    if not verify_password(user.password_hash, current):
        raise AccountError("current_password", "Your current password is not right")
    address = normalise_email(new_email, field="new_email")
    if address == user.email:
        raise AccountError("new_email", "That is already your email address")
    if find_user(session, address) is not None:
        raise AccountError("new_email", "That email address is already used by another account")
    raw = issue_token(session, TokenPurpose.CHANGE_EMAIL, user=user, email=address)
    queue_email(
        session,
        to=address,
        template="verify_email",
        context={"name": user.display_name, "verify_url": confirm_link(raw)},
        kind="change_email",
    )


def confirm_email_change(session: Session, raw: str) -> User:
    """Apply an email change from its link. Raises TokenError or AccountError (address taken)."""
    token = consume_token(session, TokenPurpose.CHANGE_EMAIL, raw)
    user = session.get(User, token.user_id)
    if user is None:
        from app.accounts.tokens import TokenError

        raise TokenError("This link is for an account that no longer exists.")
    if find_user(session, token.email) is not None:
        raise AccountError("new_email", "That email address is already used by another account")
    user.email = token.email
    user.email_verified_at = utcnow()
    session.flush()
    return user


def enable_totp(session: Session, user: User, *, secret: str, code: str, now: dt.datetime | None = None) -> None:
    """Turn on the second factor once the person proves their app shows the right code.

    Raises AccountError if the code does not match.
    """
    moment = now or utcnow()
    step = totp.matching_step(secret, code, now=moment, last_step=None)
    if step is None:
        raise AccountError("code", "That code is not right: enter the 6-digit code your app shows now")
    user.totp_secret = secret
    user.totp_enabled_at = moment
    user.totp_last_step = step
    session.flush()


def check_totp(session: Session, user: User, code: str, *, now: dt.datetime | None = None) -> bool:
    """True if ``code`` is a fresh, valid code for ``user`` (each code works once)."""
    if not user.totp_secret:
        return False
    step = totp.matching_step(user.totp_secret, code, now=now or utcnow(), last_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    session.flush()
    return True


def disable_totp(session: Session, user: User, *, current: str, required: bool) -> None:
    """Turn the second factor off. Raises AccountError if it is required or the password is wrong."""
    if required:
        raise AccountError("current_password", "Your role needs a second factor, so it cannot be turned off")
    if not verify_password(user.password_hash, current):
        raise AccountError("current_password", "Your current password is not right")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.flush()


def export_data(session: Session, user: User) -> dict[str, Any]:
    """Everything TellUs holds about ``user``, for the 'download my data' file (UK GDPR art. 15/20)."""
    reports = session.scalars(
        sa.select(Report).where(sa.or_(Report.reporter_id == user.id, Report.reporter_email == user.email))
    ).all()
    return {
        "account": {
            "email": user.email,
            "name": user.display_name,
            "email_verified_at": _iso(user.email_verified_at),
            "created_at": _iso(user.created_at),
            "last_sign_in_at": _iso(user.last_sign_in_at),
            "second_factor": user.totp_enabled,
            "council_administrator": user.is_admin,
            "ward_officer_for": sorted(user.ward_codes),
        },
        "memberships": [
            {"organisation": m.organisation.name, "role": m.role.value, "since": _iso(m.created_at)}
            for m in user.memberships
        ],
        "reports": [
            {
                "reference": r.reference,
                "category": r.category.name,
                "title": r.title,
                "description": r.description,
                "status": r.status.value,
                "latitude": r.lat,
                "longitude": r.lon,
                "ward_code": r.ward_code,
                "name": r.reporter_name,
                "show_name": r.show_name,
                "created_at": _iso(r.created_at),
                "published_at": _iso(r.published_at),
                "photos": [p.id for p in r.photos],
            }
            for r in reports
        ],
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def delete_account(session: Session, user: User, *, current: str) -> None:
    """Delete an account: its reports stay, anonymised; memberships and sessions end.

    Raises AccountError if the password is wrong.
    """
    if not verify_password(user.password_hash, current):
        raise AccountError("current_password", "Your current password is not right")
    session.execute(
        sa.update(Report)
        .where(sa.or_(Report.reporter_id == user.id, Report.reporter_email == user.email))
        .values(reporter_id=None, reporter_name=None, show_name=False, reporter_email="deleted@deleted.invalid")
    )
    end_all_sessions(session, user)
    user.memberships.clear()
    user.ward_assignments.clear()
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = "Deleted account"
    user.password_hash = None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.is_admin = False
    user.deleted_at = utcnow()
    session.flush()
