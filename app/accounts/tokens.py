"""Single-use emailed tokens: random, stored only as a SHA-256 hash, with an expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import Token, TokenPurpose, User
from app.db import utcnow

LIFETIMES = {
    TokenPurpose.VERIFY_EMAIL: dt.timedelta(days=3),
    TokenPurpose.RESET_PASSWORD: dt.timedelta(hours=2),
    TokenPurpose.CONFIRM_REPORT: dt.timedelta(days=7),
    TokenPurpose.CHANGE_EMAIL: dt.timedelta(days=1),
}


class TokenError(ValueError):
    """The link cannot be used; ``str(err)`` says why and what to do."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return secrets.token_urlsafe(32)


def issue_token(
    session: Session,
    purpose: TokenPurpose,
    *,
    user: User | None = None,
    report_id: int | None = None,
    email: str = "",
    now: dt.datetime | None = None,
) -> str:
    """Store a new token and return the raw value to put in a link (it is not kept)."""
    raw = new_raw_token()
    moment = now or utcnow()
    session.add(
        Token(
            purpose=purpose,
            token_hash=hash_token(raw),
            user_id=user.id if user else None,
            report_id=report_id,
            email=email,
            created_at=moment,
            expires_at=moment + LIFETIMES[purpose],
        )
    )
    session.flush()
    return raw


def consume_token(session: Session, purpose: TokenPurpose, raw: str, *, now: dt.datetime | None = None) -> Token:
    """Mark a token used and return it.

    Raises TokenError if it is unknown, for another purpose, already used or expired. The
    row is locked while it is checked (on PostgreSQL), so two clicks cannot both use it.
    """
    moment = now or utcnow()
    token = session.scalar(sa.select(Token).where(Token.token_hash == hash_token(raw or "")).with_for_update())
    if token is None or token.purpose != purpose:
        raise TokenError("This link is not valid. Check you copied all of it, or ask for a new one.")
    if token.used_at is not None:
        raise TokenError("This link has already been used. Ask for a new one if you still need it.")
    if token.expires_at <= moment:
        raise TokenError("This link has expired. Ask for a new one.")
    token.used_at = moment
    session.flush()
    return token
