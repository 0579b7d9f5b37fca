"""Mail fixtures: a real SMTP server on loopback (aiosmtpd), and sessions that really commit."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from flask import Flask
from sqlalchemy.orm import Session

from app.extensions import db
from app.mail.models import OutboxEmail
from app.mail.services import queue_email
from app.mail.transports import SMTPTransport

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
SENDER = "TellUs Coventry <no-reply@tellus.coventry.example>"

# Every variable each email uses, as the accounts and reports code will pass them.
EXAMPLES: dict[str, dict[str, Any]] = {
    # Public updates, mentions, replies and merges (app/coordination/notify.py).
    "case_update": {
        "reference": "TC-000123",
        "title": "Fly-tipping behind the shops on Far Gosford Street",
        "author": "Coventry City Council – Street Services",
        "body": "We removed the mattresses this morning.\n\nWe will check again on Friday.",
        "changed": True,
        "status": "Resolved",
        "report_url": "http://127.0.0.1:5000/reports/123",
        "reply_url": "http://127.0.0.1:5000/reports/123/reply/abc123",
        "reopen_until": "23 December 2026",
        "is_reporter": True,
    },
    "case_mention": {
        "name": "Priya Shah",
        "by_name": "Gareth Lloyd",
        "organisation": "West Midlands Police – Coventry",
        "kind": "internal note",
        "audience": "Every organisation on this case",
        "reference": "TC-000123",
        "body": "@priya.shah can your team check the CCTV?",
        "case_url": "http://127.0.0.1:5000/cases/123",
    },
    "case_reply": {
        "organisation": "Coventry City Council – Street Services",
        "reference": "TC-000123",
        "title": "Fly-tipping behind the shops on Far Gosford Street",
        "body": "There are still two bags by the gate.",
        "reopened": True,
        "case_url": "http://127.0.0.1:5000/cases/123",
    },
    "case_merged": {
        "reference": "TC-000124",
        "title": "Mattresses dumped by the shops",
        "into_reference": "TC-000123",
        "into_title": "Fly-tipping behind the shops on Far Gosford Street",
        "into_url": "http://127.0.0.1:5000/reports/123",
        "is_reporter": True,
    },
    # Actions and hand-offs (app/coordination/actions.py, handoffs.py).
    "action_assigned": {
        "assignee_name": "Priya Shah",
        "assigned_by": "Gareth Lloyd",
        "organisation_name": "Coventry City Council – Street Services",
        "title": "Clear the mattresses",
        "details": "Use the small van: the lane is narrow.",
        "due": "Friday 27 November 2026",
        "report_reference": "TC-000123",
        "report_title": "Fly-tipping behind the shops on Far Gosford Street",
        "action_url": "http://127.0.0.1:5000/cases/123/actions/7",
    },
    "handoff_offered": {
        "from_name": "Coventry City Council – Street Services",
        "to_name": "Citizen Housing",
        "offered_by": "Gareth Lloyd",
        "reason": "The land is yours: the garages belong to the estate.",
        "report_reference": "TC-000123",
        "report_title": "Fly-tipping behind the shops on Far Gosford Street",
        "case_url": "http://127.0.0.1:5000/cases/123",
    },
    "handoff_answered": {
        "accepted": True,
        "from_name": "Coventry City Council – Street Services",
        "to_name": "Citizen Housing",
        "answered_by": "Priya Shah",
        "answer": "",
        "note": "From 25 November 2026, Citizen Housing can see the reporter's name and email address; "
        "Coventry City Council – Street Services no longer can.",
        "report_reference": "TC-000123",
        "report_title": "Fly-tipping behind the shops on Far Gosford Street",
        "case_url": "http://127.0.0.1:5000/cases/123",
    },
    "confirm_report": {
        "report_reference": "TC-000123",
        "report_title": "Fly-tipping behind the shops on Far Gosford Street",
        "confirm_url": "http://127.0.0.1:5000/reports/confirm/abc123",
    },
    "verify_email": {"name": "Sam Patel", "verify_url": "http://127.0.0.1:5000/account/verify/abc123"},
    "reset_password": {
        "name": "Sam Patel",
        "reset_url": "http://127.0.0.1:5000/account/reset/abc123",
        "expires_hours": 2,
    },
    "invitation": {
        "organisation_name": "Coventry City Council",
        "role_label": "Caseworker",
        "inviter_name": "Alex Morgan",
        "accept_url": "http://127.0.0.1:5000/invitations/abc123",
        "expires_hours": 72,
    },
    "coordinator_digest": {
        "name": "Gareth Lloyd",
        "day": "Wednesday 25 November",
        "inbox_url": "http://127.0.0.1:5000/inbox",
        "organisations": [
            {
                "organisation": {"label": "West Midlands Police – Coventry"},
                "inbox_url": "http://127.0.0.1:5000/inbox?org=3",
                "sections": [
                    {
                        "title": "Acknowledgements overdue",
                        "count": 12,
                        "more": 2,
                        "entries": [
                            {
                                "reference": "TC-000123",
                                "url": "http://127.0.0.1:5000/cases/123",
                                "note": "Anti-social behaviour, overdue by 2 days",
                            }
                        ],
                    }
                ],
            }
        ],
    },
    # Ward dashboard alerts (app/hotspots/alerts.py).
    "hotspot_alert": {
        "name": "Daniel Okafor",
        "subject_line": "2 new findings in Foleshill",
        "found_on": "Wednesday 25 November 2026",
        "manage_url": "http://127.0.0.1:5000/alerts",
        "findings": [
            {
                "label": "Emerging problem",
                "ward": "Foleshill",
                "category": "Fly-tipping",
                "summary": "Fly-tipping in Foleshill: 41 reports in the last 4 weeks against about 18 expected; "
                "rising for 8 weeks",
                "dashboard_url": "http://127.0.0.1:5000/dashboard?ward=E05001222&category=fly-tipping",
            },
            {
                "label": "New hotspot",
                "ward": "Foleshill",
                "category": "All categories",
                "summary": "Hotspot of reports in every category near CV6 5AB in Foleshill: 23 reports in the "
                "last 12 weeks in one area of about 0.1 km², where an average area of the ward had about 2.5.",
                "dashboard_url": "http://127.0.0.1:5000/dashboard?ward=E05001222",
            },
        ],
    },
}


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class RecordingHandler:
    """Accepts everything, except addresses in ``refuse`` (550) and while ``defer`` is set (451)."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    defer: bool = False

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: SMTP, session: SMTPSession, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:  # noqa: N802
        if self.defer:
            return "451 4.3.0 Try again later"
        raw = bytes(envelope.original_content or b"")
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw))
        return "250 2.0.0 Accepted"


class LocalSMTPServer:
    """An SMTP server on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def transport(self) -> SMTPTransport:
        return SMTPTransport("127.0.0.1", self.port, starttls=False, timeout=5)


@pytest.fixture
def smtp_server() -> Iterator[LocalSMTPServer]:
    server = LocalSMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def queue(db_session: Session) -> Callable[..., OutboxEmail]:
    """Queue an email through the real service; keyword arguments override the defaults."""

    def make(
        to: str = "sam@example.org", template: str = "verify_email", *, now: dt.datetime = NOW, **context: Any
    ) -> OutboxEmail:
        return queue_email(db_session, to=to, template=template, context=context or EXAMPLES[template], now=now)

    return make


@pytest.fixture
def committed_session(app: Flask) -> Iterator[Callable[[], Session]]:
    """Sessions on their own connections, whose commits are real (for tests that need another
    connection to see the data); every outbox row is deleted afterwards."""
    opened: list[Session] = []
    with app.app_context():
        engine = db.engine

        def new() -> Session:
            session = Session(bind=engine, expire_on_commit=False)
            opened.append(session)
            return session

        try:
            yield new
        finally:
            for session in opened:
                session.close()
            with engine.begin() as connection:
                connection.execute(sa.delete(OutboxEmail))
