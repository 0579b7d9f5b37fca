"""Delivering the outbox: claim an email, send it, record the outcome.

Unlike the services, these functions commit: a claim must be durable before the SMTP
conversation starts, so that a worker that dies mid-send leaves a trace (``sending``
with a lease) instead of an email that looks unsent. docs/email.md explains the states.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.mail.models import EmailStatus, OutboxEmail
from app.mail.transports import ServerUnavailable, Transport, TransportError

# Wait after the 1st, 2nd, ... failed attempt. After the last, an email that keeps failing
# for reasons of its own (e.g. "mailbox full") is failed; while the server itself cannot be
# reached, emails keep waiting at the last interval instead, so an outage loses nothing.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# How long a claim lasts. It must outlast one SMTP conversation (about 8 x SMTP_TIMEOUT),
# or a slow but live worker's email would be reported as uncertain.
LEASE = dt.timedelta(minutes=10)


@dataclass
class DeliveryReport:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    # The pass stopped at the first "server unavailable": trying the rest would only wait.
    server_unavailable: bool = False

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def __str__(self) -> str:
        text = f"sent {self.sent}, will retry {self.retrying}, failed {self.failed}, uncertain {self.uncertain}"
        return text + (" (mail server unavailable)" if self.server_unavailable else "")


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after ``attempts`` attempts (1 minute after the first, up to 6 hours)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def build_message(email: OutboxEmail, *, sender: str) -> EmailMessage:
    """The MIME message for ``email``: multipart/alternative, plain text first, then HTML.

    Every header comes from the row (Date is when it was queued), so each attempt sends
    the same message with the same Message-ID.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    message["Message-ID"] = email.message_id
    # RFC 3834: stops auto-replies ("out of office") coming back to a no-reply address.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    return message


def recover_stale(session: Session, *, now: dt.datetime | None = None) -> int:
    """Mark ``uncertain`` every email still ``sending`` after its lease expired; commits.

    Its worker died, perhaps after the server accepted the email, so sending it again
    could deliver it twice: an administrator decides instead (``flask mail status``).
    Returns how many emails were marked.
    """
    moment = now or utcnow()
    stale = list(
        session.scalars(
            sa.select(OutboxEmail)
            .where(OutboxEmail.status == EmailStatus.SENDING, OutboxEmail.lease_expires_at < moment)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    )
    for email in stale:
        email.last_error = (
            f"The worker stopped while sending (lease expired {email.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC): "
            "check the mail server's log for the Message-ID, then requeue or mark sent"
        )
        email.status = EmailStatus.UNCERTAIN
        email.lease_expires_at = None
    session.commit()
    return len(stale)


def deliver_due(
    session: Session,
    transport: Transport,
    *,
    sender: str,
    now: dt.datetime | None = None,
    batch_size: int = 50,
    lease: dt.timedelta = LEASE,
    stop: Callable[[], bool] = lambda: False,
) -> DeliveryReport:
    """Send up to ``batch_size`` due emails, one at a time, oldest due first; commits.

    For each: claim it (``sending``, with a lease) and commit, send it, then record
    ``sent``, a retry time, or ``failed``, and commit. ``now`` fixes the clock (tests);
    by default the real time is read at each step. ``stop`` is checked between emails.
    Exceptions other than TransportError (a lost database, say) propagate and leave the
    email claimed, so it becomes uncertain, never sent twice.
    """
    report = DeliveryReport()
    for _ in range(batch_size):
        if stop():
            break
        email = _claim_next(session, now=now or utcnow(), lease=lease)
        if email is None:
            break
        try:
            message = build_message(email, sender=sender)
        except (ValueError, TypeError) as exc:
            _fail(email, f"Cannot build the message: {exc}")
            session.commit()
            report.failed += 1
            continue
        try:
            transport.send(message)
        except TransportError as exc:
            _record_failure(email, exc, now=now or utcnow())
            session.commit()
            if email.status is EmailStatus.FAILED:
                report.failed += 1
            else:
                report.retrying += 1
            if isinstance(exc, ServerUnavailable):
                report.server_unavailable = True
                break
            continue
        email.status = EmailStatus.SENT
        email.sent_at = now or utcnow()
        email.lease_expires_at = None
        email.last_error = None
        session.commit()
        report.sent += 1
    return report


def _claim_next(session: Session, *, now: dt.datetime, lease: dt.timedelta) -> OutboxEmail | None:
    # SKIP LOCKED lets several workers share the queue on PostgreSQL; SQLite ignores FOR
    # UPDATE and allows one writer at a time, so it runs one worker (docs/email.md).
    email = session.scalars(
        sa.select(OutboxEmail)
        .where(OutboxEmail.status == EmailStatus.PENDING, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if email is None:
        session.commit()  # end the read transaction rather than hold it while idle
        return None
    email.status = EmailStatus.SENDING
    email.attempts += 1
    email.lease_expires_at = now + lease
    session.commit()
    return email


def _record_failure(email: OutboxEmail, exc: TransportError, *, now: dt.datetime) -> None:
    error = str(exc) or type(exc).__name__
    out_of_attempts = email.attempts >= MAX_ATTEMPTS and not isinstance(exc, ServerUnavailable)
    if exc.permanent or out_of_attempts:
        _fail(email, error)
        return
    email.status = EmailStatus.PENDING
    email.next_attempt_at = now + retry_delay(email.attempts)
    email.lease_expires_at = None
    email.last_error = error


def _fail(email: OutboxEmail, error: str) -> None:
    email.status = EmailStatus.FAILED
    email.lease_expires_at = None
    email.last_error = error
