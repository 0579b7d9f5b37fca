"""Queueing emails, and the queries and corrections an administrator needs.

Every function here only flushes: the caller's transaction decides whether the email
exists at all, so an email is queued exactly when the change that caused it is committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.db import utcnow
from app.mail.models import ADDRESS_MAX, KIND_MAX, SUBJECT_MAX, EmailStatus, OutboxEmail
from app.mail.rendering import render_email

DEFAULT_DOMAIN = "tellus.coventry.example"


class InvalidAddress(ValueError):
    """An email cannot be queued because its recipient is not a usable address."""


def normalise_address(address: str) -> str:
    """Return ``address`` checked and normalised (domain lower-cased, IDNA-ready).

    Raises InvalidAddress, with a sentence saying what is wrong, for anything else,
    including display names ("Sam <sam@example.org>") and header-injection attempts.
    """
    text = (address or "").strip()
    if not text:
        raise InvalidAddress("No email address given")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{text!r} is not a valid email address: {exc}") from None
    normalised: str = checked.normalized
    if len(normalised) > ADDRESS_MAX:
        raise InvalidAddress(f"{text!r} is longer than {ADDRESS_MAX} characters")
    return normalised


def queue_email(
    session: Session,
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    kind: str | None = None,
    now: dt.datetime | None = None,
) -> OutboxEmail:
    """Render the email ``template`` with ``context`` and add it to the outbox for ``to``.

    The row is flushed, not committed: it is sent only if the caller's transaction commits,
    and it is due at once. ``kind`` (default: the template name) says why it was sent, for
    administrators and for ``count_recent``. Raises InvalidAddress (a ValueError) for a bad
    address, jinja2.TemplateNotFound for an unknown template and jinja2.UndefinedError if
    ``context`` lacks a variable the template uses.
    """
    address = normalise_address(to)
    kind = kind or template
    if len(kind) > KIND_MAX:
        raise ValueError(f"kind {kind!r} is longer than {KIND_MAX} characters")
    rendered = render_email(template, **context)
    # Names in a subject come from users; shorten rather than refuse a very long one.
    subject = rendered.subject if len(rendered.subject) <= SUBJECT_MAX else rendered.subject[: SUBJECT_MAX - 1] + "…"
    moment = now or utcnow()
    email = OutboxEmail(
        kind=kind,
        to_address=address,
        subject=subject,
        text_body=rendered.text,
        html_body=rendered.html,
        message_id=new_message_id(),
        status=EmailStatus.PENDING,
        attempts=0,
        next_attempt_at=moment,
        created_at=moment,
    )
    session.add(email)
    session.flush()
    return email


def new_message_id(domain: str | None = None) -> str:
    """A globally unique Message-ID, ``<random@domain>``; the domain defaults to MAIL_FROM's."""
    return f"<{uuid.uuid4().hex}@{domain or _sender_domain()}>"


def _sender_domain() -> str:
    if not has_app_context():
        return DEFAULT_DOMAIN
    _, address = parseaddr(current_app.config.get("MAIL_FROM", ""))
    return address.rpartition("@")[2] or DEFAULT_DOMAIN


def public_url(path: str, base_url: str | None = None) -> str:
    """An absolute link for an email: ``path`` (e.g. from ``url_for``) on PUBLIC_BASE_URL.

    Emails are often written outside a request (or behind a proxy), so the host is never
    taken from the request. ``base_url`` defaults to the app's PUBLIC_BASE_URL setting.
    """
    base = (base_url or current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if urlsplit(path).scheme:
        raise ValueError(f"{path!r} is already absolute")
    return f"{base}/{path.lstrip('/')}"


def count_by_status(session: Session) -> dict[EmailStatus, int]:
    """How many emails are in each state (every state present, zero if none)."""
    rows = session.execute(sa.select(OutboxEmail.status, sa.func.count()).group_by(OutboxEmail.status))
    counts = dict.fromkeys(EmailStatus, 0)
    counts.update(dict(rows.tuples().all()))
    return counts


def count_recent(session: Session, *, to: str, kind: str, since: dt.datetime) -> int:
    """How many ``kind`` emails were queued for ``to`` since ``since`` (for rate limits)."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEmail)
            .where(
                OutboxEmail.to_address == normalise_address(to),
                OutboxEmail.kind == kind,
                OutboxEmail.created_at >= since,
            )
        )
        or 0
    )


def emails_needing_attention(session: Session, *, limit: int = 100) -> list[OutboxEmail]:
    """Uncertain and failed emails, oldest first: the ones an administrator must decide on."""
    return list(
        session.scalars(
            sa.select(OutboxEmail)
            .where(OutboxEmail.status.in_([EmailStatus.UNCERTAIN, EmailStatus.FAILED]))
            .order_by(OutboxEmail.created_at, OutboxEmail.id)
            .limit(limit)
        )
    )


def requeue(session: Session, email: OutboxEmail, *, now: dt.datetime | None = None) -> None:
    """Send a failed or uncertain email again, now, with a fresh set of attempts.

    For an uncertain email, do this only once the mail server's logs show it never
    accepted the Message-ID; otherwise the recipient gets it twice. Raises ValueError
    for an email in any other state.
    """
    if email.status not in {EmailStatus.FAILED, EmailStatus.UNCERTAIN}:
        raise ValueError(f"Only failed or uncertain emails can be sent again, not {email.status.value} ones")
    email.status = EmailStatus.PENDING
    email.attempts = 0
    email.next_attempt_at = now or utcnow()
    email.lease_expires_at = None
    session.flush()


def mark_sent(session: Session, email: OutboxEmail, *, sent_at: dt.datetime | None = None) -> None:
    """Record that an uncertain email did reach the server (checked in its logs).

    Raises ValueError for an email that is not uncertain.
    """
    if email.status is not EmailStatus.UNCERTAIN:
        raise ValueError(f"Only uncertain emails can be marked as sent, not {email.status.value} ones")
    email.status = EmailStatus.SENT
    email.sent_at = sent_at or utcnow()
    email.lease_expires_at = None
    session.flush()


def purge_sent(session: Session, *, before: dt.datetime) -> int:
    """Delete sent emails sent before ``before``; returns how many.

    Sent emails hold personal data and single-use links, so keep them only as long as
    they help answer "did my email arrive?" (docs/email.md suggests 30 days).
    """
    result = session.execute(
        sa.delete(OutboxEmail)
        .where(OutboxEmail.status == EmailStatus.SENT, OutboxEmail.sent_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
