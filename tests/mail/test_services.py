"""Queueing emails in the caller's transaction, and the helpers an administrator needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.db import utcnow
from app.extensions import db
from app.mail import services
from app.mail.models import EmailStatus, OutboxEmail
from app.mail.services import InvalidAddress, queue_email
from app.mail.worker import deliver_due
from tests.mail.conftest import EXAMPLES, NOW, SENDER, LocalSMTPServer


def count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) or 0


def test_queued_email_is_pending_and_fully_rendered(queue: Callable[..., OutboxEmail]) -> None:
    """Does a queued email hold its rendered parts, a unique Message-ID and a due time of now?"""
    first = queue()
    second = queue(template="reset_password")
    assert first.status is EmailStatus.PENDING and first.attempts == 0
    assert first.kind == "verify_email" and second.kind == "reset_password"
    assert first.next_attempt_at == NOW and first.created_at == NOW
    assert first.subject == "TellUs Coventry: Confirm your email address"
    assert EXAMPLES["verify_email"]["verify_url"] in first.text_body
    assert 'lang="en"' in first.html_body
    assert first.message_id.startswith("<") and first.message_id.endswith("@tellus.coventry.example>")
    assert first.message_id != second.message_id


@pytest.mark.parametrize(
    "address",
    [
        "",
        "not-an-address",
        "sam@",
        "@example.org",
        "sam@example",
        "Sam Patel <sam@example.org>",
        "sam@example.org\r\nBcc: everyone@example.org",
        "sam@example.org, alex@example.org",
    ],
)
def test_a_bad_address_is_refused(db_session: Session, address: str) -> None:
    """Is anything but exactly one valid mailbox refused with a ValueError saying why, and nothing queued?"""
    with pytest.raises(ValueError, match=r"(not a valid email address|No email address)") as caught:
        queue_email(db_session, to=address, template="verify_email", context=EXAMPLES["verify_email"])
    assert isinstance(caught.value, InvalidAddress)
    assert count(db_session) == 0


def test_address_is_trimmed_and_domain_lower_cased(queue: Callable[..., OutboxEmail]) -> None:
    """Is the stored address normalised (spaces trimmed, domain in lower case)?"""
    assert queue(to="  Sam.Patel@Example.ORG ").to_address == "Sam.Patel@example.org"


def test_email_queued_in_a_transaction_that_rolls_back_is_never_sent(
    app: Flask, db_session: Session, smtp_server: LocalSMTPServer
) -> None:
    """If the request that queued an email fails, is the email gone and never sent?"""
    with pytest.raises(RuntimeError), app.app_context():
        queue_email(db.session, to="sam@example.org", template="verify_email", context=EXAMPLES["verify_email"])
        raise RuntimeError("the view failed after queueing")
    report = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=NOW)
    assert report.attempted == 0 and count(db_session) == 0
    assert smtp_server.received == []


def test_email_queued_in_a_transaction_that_commits_is_sent(
    app: Flask, db_session: Session, smtp_server: LocalSMTPServer
) -> None:
    """If the request that queued an email commits, does the worker then send it?"""
    with app.app_context():
        queue_email(db.session, to="sam@example.org", template="verify_email", context=EXAMPLES["verify_email"])
        db.session.commit()
    report = deliver_due(db_session, smtp_server.transport(), sender=SENDER, now=utcnow() + dt.timedelta(seconds=1))
    assert report.sent == 1 and len(smtp_server.received) == 1


def test_counts_by_status_include_every_state(db_session: Session, queue: Callable[..., OutboxEmail]) -> None:
    """Does the status summary count each state, with zero for states no email is in?"""
    queue()
    queue(to="alex@example.org")
    queue(to="kim@example.org").status = EmailStatus.FAILED
    counts = services.count_by_status(db_session)
    assert counts == {
        EmailStatus.PENDING: 2,
        EmailStatus.SENDING: 0,
        EmailStatus.SENT: 0,
        EmailStatus.FAILED: 1,
        EmailStatus.UNCERTAIN: 0,
    }


def test_count_recent_serves_rate_limits(db_session: Session, queue: Callable[..., OutboxEmail]) -> None:
    """Can the accounts code count recent emails of one kind to one address?"""
    queue(template="reset_password", now=NOW - dt.timedelta(hours=2))
    queue(template="reset_password", now=NOW - dt.timedelta(minutes=10))
    queue(template="reset_password", to="alex@example.org")
    queue(template="verify_email")
    since = NOW - dt.timedelta(hours=1)
    assert services.count_recent(db_session, to="sam@example.org", kind="reset_password", since=since) == 1


def test_requeue_and_mark_sent_only_from_the_right_states(
    db_session: Session, queue: Callable[..., OutboxEmail]
) -> None:
    """Can an administrator resend a failed or uncertain email, or mark an uncertain one sent, and nothing else?"""
    email = queue()
    with pytest.raises(ValueError, match="Only failed or uncertain"):
        services.requeue(db_session, email)
    email.status, email.attempts = EmailStatus.UNCERTAIN, 3
    services.requeue(db_session, email, now=NOW)
    assert (email.status, email.attempts, email.next_attempt_at) == (EmailStatus.PENDING, 0, NOW)
    with pytest.raises(ValueError, match="Only uncertain"):
        services.mark_sent(db_session, email)
    email.status = EmailStatus.UNCERTAIN
    services.mark_sent(db_session, email, sent_at=NOW)
    assert email.status is EmailStatus.SENT and email.sent_at == NOW
    assert services.emails_needing_attention(db_session) == []


def test_purge_deletes_only_old_sent_emails(db_session: Session, queue: Callable[..., OutboxEmail]) -> None:
    """Does purging remove sent emails older than the cut-off and keep everything else?"""
    old, recent, waiting = queue(), queue(to="alex@example.org"), queue(to="kim@example.org")
    for email, sent_at in ((old, NOW - dt.timedelta(days=40)), (recent, NOW - dt.timedelta(days=2))):
        email.status, email.sent_at = EmailStatus.SENT, sent_at
    db_session.flush()
    assert services.purge_sent(db_session, before=NOW - dt.timedelta(days=30)) == 1
    remaining = set(db_session.scalars(sa.select(OutboxEmail.id)))
    assert remaining == {recent.id, waiting.id}


def test_public_url_uses_the_configured_base(app: Flask) -> None:
    """Are links in emails built on PUBLIC_BASE_URL, whatever host a request came in on?"""
    with app.test_request_context("/", base_url="http://internal:8000"):
        assert services.public_url("/account/verify/abc") == "http://127.0.0.1:5000/account/verify/abc"
    assert services.public_url("x/y", base_url="https://tellus.example/") == "https://tellus.example/x/y"
    with pytest.raises(ValueError, match="already absolute"):
        services.public_url("https://elsewhere.example/x", base_url="https://tellus.example")


def test_a_very_long_subject_is_shortened_not_refused(queue: Callable[..., OutboxEmail]) -> None:
    """Does an invitation from someone with a very long name still queue, with the subject cut to fit?"""
    context = {**EXAMPLES["invitation"], "inviter_name": "A" * 300}
    email = queue(template="invitation", **context)
    assert len(email.subject) == 255 and email.subject.endswith("…")
