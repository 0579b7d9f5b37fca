"""Server-side sign-in sessions: created at sign-in, checked on every request, ended at sign-out.

The browser's (signed) cookie carries a random session token; the database keeps its hash
with the times that enforce the idle and absolute timeouts. Signing in always creates a new
token, so a session identifier planted before sign-in is worthless (no fixation).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User, UserSession
from app.accounts.tokens import hash_token, new_raw_token
from app.db import utcnow

# Writing last_seen_at on every request would make every page a write; a minute is plenty.
_TOUCH_EVERY = dt.timedelta(minutes=1)


def start_session(
    session: Session, user: User, *, ip: str, user_agent: str, second_factor: bool, now: dt.datetime | None = None
) -> str:
    """Record a new signed-in session and return its raw token for the cookie."""
    moment = now or utcnow()
    raw = new_raw_token()
    session.add(
        UserSession(
            token_hash=hash_token(raw),
            user_id=user.id,
            created_at=moment,
            last_seen_at=moment,
            second_factor_at=moment if second_factor else None,
            ip=ip[:45],
            user_agent=user_agent[:255],
        )
    )
    user.last_sign_in_at = moment
    session.flush()
    return raw


def current_session(
    session: Session, raw: str | None, *, idle: dt.timedelta, absolute: dt.timedelta, now: dt.datetime | None = None
) -> UserSession | None:
    """The live session for a cookie token, or None if it is unknown, ended or timed out."""
    if not raw:
        return None
    moment = now or utcnow()
    row = session.scalar(sa.select(UserSession).where(UserSession.token_hash == hash_token(raw)))
    if row is None or row.revoked_at is not None or row.user.deleted_at is not None:
        return None
    if moment - row.last_seen_at > idle or moment - row.created_at > absolute:
        row.revoked_at = moment
        session.flush()
        return None
    if moment - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = moment
        session.flush()
    return row


def end_session(session: Session, raw: str | None, *, now: dt.datetime | None = None) -> None:
    """Revoke the session for ``raw`` (sign-out); harmless if there is none."""
    if not raw:
        return
    session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == hash_token(raw), UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def end_all_sessions(session: Session, user: User, *, except_raw: str | None = None) -> None:
    """Revoke every session of ``user`` (after a password reset or account deletion)."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if except_raw:
        query = query.where(UserSession.token_hash != hash_token(except_raw))
    session.execute(query.values(revoked_at=utcnow()))
