"""The worker: claim, send, record; backoff; and no email lost or sent twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.mail.models import EmailStatus, OutboxEmail
from app.mail.services import queue_email
from app.mail.transports import FileTransport, SMTPTransport
from app.mail.worker import BACKOFF, LEASE, MAX_ATTEMPTS, deliver_due, recover_stale
from tests.mail.conftest import EXAMPLES, NOW, SENDER, LocalSMTPServer

MINUTE = dt.timedelta(minutes=1)


class SimulatedCrash(BaseException):
    """Stands for the process dying (kill -9, power cut): nothing after it runs."""


class CrashAfterSending:
    """A transport that hands the message to the real server, then "dies" before the
    worker can record that it was sent: the worst moment for a crash."""

    def __init__(self, inner: SMTPTransport) -> None:
        self.inner = inner

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise SimulatedCrash


def test_delivers_with_both_parts_and_the_right_headers(
    db_session: Session, queue: Callable[..., OutboxEmail], smtp_server: LocalSMTPServer
) -> None:
    """Is a due email delivered over SMTP as multipart/alternative, with its stored Message-ID, and recorded as sent?"""
    email = queue(template="confirm_report")
    report = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [got] = smtp_server.received
    message = got.message
    assert message["From"] == SENDER
    assert message["To"] == "sam@example.org"
    assert message["Subject"] == "TellUs Coventry: Confirm your report TC-000123"
    assert message["Message-ID"] == email.message_id
    assert message["Date"].datetime == NOW
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and EXAMPLES["confirm_report"]["confirm_url"] in plain.get_content()
    assert html is not None and "<title>TellUs Coventry: Confirm your report TC-000123</title>" in html.get_content()
    assert plain.get_content_charset() == "utf-8"
    assert (email.status, email.attempts, email.sent_at, email.lease_expires_at) == (EmailStatus.SENT, 1, NOW, None)


def test_server_down_keeps_the_email_and_backs_off_then_delivers(
    db_session: Session, queue: Callable[..., OutboxEmail], smtp_server: LocalSMTPServer
) -> None:
    """With the SMTP server down, does the email stay pending with the attempt counted and
    the next one a minute later, and go once the server is back?"""
    email = queue()
    smtp_server.stop()
    report = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW)
    assert report.retrying == 1 and report.server_unavailable
    assert (email.status, email.attempts, email.next_attempt_at) == (EmailStatus.PENDING, 1, NOW + MINUTE)
    assert email.last_error and "Cannot connect" in email.last_error
    assert email.lease_expires_at is None

    smtp_server.start()
    early = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW + MINUTE / 2)
    assert early.attempted == 0 and smtp_server.received == []
    later = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW + MINUTE)
    assert later.sent == 1 and len(smtp_server.received) == 1
    assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 2, None)


def test_a_long_outage_never_fails_an_email(
    db_session: Session, queue: Callable[..., OutboxEmail], smtp_server: LocalSMTPServer
) -> None:
    """While the server stays unreachable, does the email keep waiting (at most 6 hours apart) instead of failing?"""
    email = queue()
    smtp_server.stop()
    now = NOW
    delays = []
    for _ in range(MAX_ATTEMPTS + 3):
        deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=now)
        delays.append(email.next_attempt_at - now)
        now = email.next_attempt_at
    assert email.status is EmailStatus.PENDING and email.attempts == MAX_ATTEMPTS + 3
    assert delays == [*BACKOFF, BACKOFF[-1], BACKOFF[-1], BACKOFF[-1], BACKOFF[-1]]


def test_repeated_deferrals_back_off_then_fail(
    db_session: Session, queue: Callable[..., OutboxEmail], smtp_server: LocalSMTPServer
) -> None:
    """When the server keeps answering 451, are retries spaced 1 min, 5 min, 30 min, 2 h and
    6 h, and the email failed after the last?"""
    email = queue()
    smtp_server.handler.defer = True
    now = NOW
    delays = []
    while email.status is EmailStatus.PENDING:
        deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=now)
        if email.status is EmailStatus.PENDING:
            delays.append(email.next_attempt_at - now)
            now = email.next_attempt_at
    assert delays == list(BACKOFF)
    assert email.status is EmailStatus.FAILED and email.attempts == MAX_ATTEMPTS
    assert email.last_error and "451" in email.last_error


def test_a_refused_recipient_fails_at_once(
    db_session: Session, queue: Callable[..., OutboxEmail], smtp_server: LocalSMTPServer
) -> None:
    """Is an email whose recipient the server refuses (5xx) failed without retrying, with the reason kept?"""
    refused = queue(to="gone@example.org")
    fine = queue(to="sam@example.org")
    smtp_server.handler.refuse.add("gone@example.org")
    report = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW)
    assert (report.sent, report.failed) == (1, 1)
    assert refused.status is EmailStatus.FAILED and refused.attempts == 1
    assert refused.last_error and "550" in refused.last_error
    assert fine.status is EmailStatus.SENT


def test_crash_after_claiming_is_never_sent_again(
    db_session: Session, queue: Callable[..., OutboxEmail], smtp_server: LocalSMTPServer
) -> None:
    """If the worker dies after the server accepted an email but before recording it, is the
    email marked uncertain after its lease instead of being sent twice?"""
    email = queue()
    with pytest.raises(SimulatedCrash):
        deliver_due(db_session, CrashAfterSending(smtp_server.transport()), sender=SENDER, now=NOW)
    db_session.rollback()  # the dead process's unsaved state is gone; its claim was committed
    db_session.expire_all()
    assert email.status is EmailStatus.SENDING and email.lease_expires_at == NOW + LEASE
    assert len(smtp_server.received) == 1

    # A restarted worker neither resends it nor gives up on it while the lease runs.
    assert recover_stale(db_session, now=NOW + LEASE - MINUTE) == 0
    assert deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW + LEASE - MINUTE).attempted == 0

    assert recover_stale(db_session, now=NOW + LEASE + MINUTE) == 1
    assert email.status is EmailStatus.UNCERTAIN and email.lease_expires_at is None
    assert email.last_error and "stopped while sending" in email.last_error
    for hours in (1, 24):
        deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW + dt.timedelta(hours=hours))
    assert len(smtp_server.received) == 1
    assert email.status is EmailStatus.UNCERTAIN


def test_sends_oldest_due_first_within_the_batch(
    db_session: Session, queue: Callable[..., OutboxEmail], smtp_server: LocalSMTPServer
) -> None:
    """Are due emails sent oldest first, at most batch_size per pass, and future ones left alone?"""
    later = queue(to="c@example.org", now=NOW - MINUTE)
    earliest = queue(to="a@example.org", now=NOW - 3 * MINUTE)
    middle = queue(to="b@example.org", now=NOW - 2 * MINUTE)
    future = queue(to="d@example.org", now=NOW + MINUTE)
    first = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW, batch_size=2)
    assert first.sent == 2
    assert [r.rcpt_tos[0] for r in smtp_server.received] == ["a@example.org", "b@example.org"]
    assert deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW).sent == 1
    assert {earliest.status, middle.status, later.status} == {EmailStatus.SENT}
    assert future.status is EmailStatus.PENDING


def test_file_transport_through_the_worker(
    db_session: Session, queue: Callable[..., OutboxEmail], tmp_path: Path
) -> None:
    """Does the worker with the file transport leave one .eml per email and mark them sent?"""
    emails = [queue(), queue(to="alex@example.org", template="invitation")]
    report = deliver_due(db_session, FileTransport(tmp_path), sender=SENDER, now=NOW)
    assert report.sent == 2
    assert len(list(tmp_path.glob("*.eml"))) == 2
    assert all(e.status is EmailStatus.SENT for e in emails)


def test_claim_is_committed_before_the_smtp_conversation(
    committed_session: Callable[[], Session], smtp_server: LocalSMTPServer
) -> None:
    """While the message is being handed over, does another connection already see the
    email as sending, with a lease?"""
    worker_session = committed_session()
    email = queue_email(worker_session, to="sam@example.org", template="verify_email", context=EXAMPLES["verify_email"])
    worker_session.commit()
    seen: list[tuple[EmailStatus, int, dt.datetime | None]] = []

    class Observer:
        def send(self, message: EmailMessage) -> None:
            observer = committed_session()
            row = observer.get(OutboxEmail, email.id)
            assert row is not None
            seen.append((row.status, row.attempts, row.lease_expires_at))
            observer.close()
            smtp_server.transport().send(message)

    now = email.next_attempt_at
    assert deliver_due(worker_session, Observer(), sender=SENDER, now=now).sent == 1
    assert seen == [(EmailStatus.SENDING, 1, now + LEASE)]
    check = committed_session()
    assert check.scalar(sa.select(OutboxEmail.status).where(OutboxEmail.id == email.id)) is EmailStatus.SENT


def test_a_second_worker_never_takes_an_email_being_claimed(
    db_kind: str, committed_session: Callable[[], Session], smtp_server: LocalSMTPServer
) -> None:
    """While one worker holds an email, does another skip it (PostgreSQL, SKIP LOCKED) or
    stop with an error rather than take it (SQLite, one writer)?"""
    setup = committed_session()
    first, second = (
        queue_email(setup, to=to, template="verify_email", context=EXAMPLES["verify_email"], now=NOW)
        for to in ("a@example.org", "b@example.org")
    )
    setup.commit()

    worker_a = committed_session()
    held = worker_a.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.id == first.id).with_for_update(skip_locked=True)
    ).one()
    held.status, held.lease_expires_at = EmailStatus.SENDING, NOW + LEASE
    worker_a.flush()  # worker A is mid-claim: row locked (PostgreSQL) or write lock held (SQLite)

    worker_b = committed_session()
    if db_kind == "postgis":
        report = deliver_due(worker_b, smtp_server.transport(), sender=SENDER, now=NOW)
        assert report.sent == 1
        assert [r.rcpt_tos for r in smtp_server.received] == [["b@example.org"]]
    else:
        worker_b.connection().exec_driver_sql("PRAGMA busy_timeout = 50")
        try:
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                deliver_due(worker_b, smtp_server.transport(), sender=SENDER, now=NOW)
        finally:
            worker_b.rollback()
            worker_b.connection().exec_driver_sql("PRAGMA busy_timeout = 5000")
            worker_b.rollback()
        assert smtp_server.received == []
    worker_a.rollback()
    statuses = dict(setup.execute(sa.select(OutboxEmail.id, OutboxEmail.status)).all())
    assert statuses[first.id] is EmailStatus.PENDING
    assert statuses[second.id] is (EmailStatus.SENT if db_kind == "postgis" else EmailStatus.PENDING)
