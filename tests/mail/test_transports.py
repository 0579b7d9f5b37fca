"""The two transports on their own: SMTP against a real local server, and .eml files."""

from __future__ import annotations

from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from app.mail.models import OutboxEmail
from app.mail.transports import (
    FileTransport,
    PermanentFailure,
    ServerUnavailable,
    SMTPTransport,
    TemporaryFailure,
    transport_from_config,
)
from app.mail.worker import build_message
from tests.mail.conftest import SENDER, LocalSMTPServer


@pytest.fixture
def message(queue: Callable[..., OutboxEmail]) -> EmailMessage:
    return build_message(queue(), sender=SENDER)


def test_file_transport_writes_a_parseable_eml(tmp_path: Path, message: EmailMessage) -> None:
    """Does the file transport write one RFC 5322 file, with CRLF line ends, that parses back to both parts?"""
    transport = FileTransport(tmp_path / "mail")
    transport.send(message)
    transport.send(message)  # the same message again replaces the file
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    raw = files[0].read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Message-ID"] == message["Message-ID"]
    assert parsed["Subject"] == "TellUs Coventry: Confirm your email address"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain is not None and "Hello Sam Patel" in plain.get_content()
    assert html is not None and '<html lang="en">' in html.get_content()


def test_file_transport_failure_is_temporary(tmp_path: Path, message: EmailMessage) -> None:
    """When the folder cannot be written, is the failure one to retry later?"""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(TemporaryFailure, match="Cannot write"):
        FileTransport(blocker).send(message)


def test_smtp_transport_hands_the_message_over(smtp_server: LocalSMTPServer, message: EmailMessage) -> None:
    """Does the SMTP transport deliver to a real server, with the envelope taken from the headers?"""
    smtp_server.transport().send(message)
    [got] = smtp_server.received
    assert got.mail_from == "no-reply@tellus.coventry.example"
    assert got.rcpt_tos == ["sam@example.org"]
    assert got.message["Message-ID"] == message["Message-ID"]


def test_smtp_refusal_of_the_recipient_is_permanent(smtp_server: LocalSMTPServer, message: EmailMessage) -> None:
    """Is a 550 for the recipient reported as a permanent failure with the server's words?"""
    smtp_server.handler.refuse.add("sam@example.org")
    with pytest.raises(PermanentFailure, match="550"):
        smtp_server.transport().send(message)


def test_smtp_deferral_is_temporary(smtp_server: LocalSMTPServer, message: EmailMessage) -> None:
    """Is a 451 reported as a temporary failure?"""
    smtp_server.handler.defer = True
    with pytest.raises(TemporaryFailure, match="451") as caught:
        smtp_server.transport().send(message)
    assert not caught.value.permanent


def test_smtp_server_down_is_unavailable(smtp_server: LocalSMTPServer, message: EmailMessage) -> None:
    """With nothing listening, is the failure "server unavailable" (temporary)?"""
    smtp_server.stop()
    with pytest.raises(ServerUnavailable, match="Cannot connect"):
        smtp_server.transport().send(message)


def test_starttls_refused_is_a_settings_problem(smtp_server: LocalSMTPServer, message: EmailMessage) -> None:
    """If STARTTLS is required but the server does not offer it, is nothing sent and the failure temporary?"""
    transport = SMTPTransport("127.0.0.1", smtp_server.port, starttls=True, timeout=5)
    with pytest.raises(ServerUnavailable, match="set-up"):
        transport.send(message)
    assert smtp_server.received == []


def test_transport_from_config(tmp_path: Path) -> None:
    """Do the settings choose the transport, and is an unknown MAIL_TRANSPORT refused?"""
    base = {
        "MAIL_DIR": tmp_path,
        "SMTP_HOST": "mail.example.org",
        "SMTP_PORT": 2525,
        "SMTP_USERNAME": "tellus",
        "SMTP_PASSWORD": "secret",
        "SMTP_STARTTLS": True,
        "SMTP_TIMEOUT": 10,
    }
    file_transport = transport_from_config({**base, "MAIL_TRANSPORT": "file"})
    assert isinstance(file_transport, FileTransport) and file_transport.directory == tmp_path
    smtp = transport_from_config({**base, "MAIL_TRANSPORT": "SMTP"})
    assert isinstance(smtp, SMTPTransport)
    assert (smtp.host, smtp.port, smtp.username, smtp.starttls, smtp.timeout) == (
        "mail.example.org",
        2525,
        "tellus",
        True,
        10.0,
    )
    assert "secret" not in repr(smtp)
    with pytest.raises(ValueError, match="MAIL_TRANSPORT"):
        transport_from_config({**base, "MAIL_TRANSPORT": "carrier-pigeon"})
