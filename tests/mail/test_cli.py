"""`flask worker` and `flask mail ...`, end to end."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.db import utcnow
from app.mail.models import EmailStatus, OutboxEmail
from app.mail.services import queue_email
from tests.mail.conftest import EXAMPLES, LocalSMTPServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def smtp_settings(app: Flask, smtp_server: LocalSMTPServer, monkeypatch: pytest.MonkeyPatch) -> LocalSMTPServer:
    for key, value in {
        "MAIL_TRANSPORT": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 5,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return smtp_server


def test_worker_once_sends_over_smtp(
    app: Flask, db_session: Session, queue: Callable[..., OutboxEmail], smtp_settings: LocalSMTPServer
) -> None:
    """Does `flask worker --once` send what is due through the configured SMTP server and report it?"""
    email = queue(template="reset_password")
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, will retry 0, failed 0, uncertain 0" in result.output
    [got] = smtp_settings.received
    assert got.message["Subject"] == "TellUs Coventry: Reset your password"
    db_session.refresh(email)
    assert email.status is EmailStatus.SENT


def test_worker_once_marks_stale_claims_uncertain(
    app: Flask, db_session: Session, queue: Callable[..., OutboxEmail], smtp_settings: LocalSMTPServer
) -> None:
    """Does a worker pass first turn a claim abandoned by a dead worker into an uncertain email, without sending it?"""
    email = queue()
    email.status, email.attempts, email.lease_expires_at = EmailStatus.SENDING, 1, utcnow() - dt.timedelta(minutes=1)
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "uncertain 1" in result.output
    db_session.refresh(email)
    assert email.status is EmailStatus.UNCERTAIN
    assert smtp_settings.received == []

    status = app.test_cli_runner().invoke(args=["mail", "status"])
    assert "uncertain 1" in status.output and email.message_id in status.output
    requeued = app.test_cli_runner().invoke(args=["mail", "requeue", str(email.id)])
    assert requeued.exit_code == 0, requeued.output
    db_session.refresh(email)
    assert email.status is EmailStatus.PENDING


def test_mail_commands_refuse_the_wrong_emails(
    app: Flask, db_session: Session, queue: Callable[..., OutboxEmail]
) -> None:
    """Do `flask mail requeue` and `mark-sent` refuse unknown ids and emails in the wrong state?"""
    email = queue()
    db_session.commit()
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["mail", "requeue", "999999"])
    assert unknown.exit_code != 0 and "No email with id 999999" in unknown.output
    wrong = runner.invoke(args=["mail", "mark-sent", str(email.id)])
    assert wrong.exit_code != 0 and "Only uncertain" in wrong.output


def test_mail_purge(app: Flask, db_session: Session, queue: Callable[..., OutboxEmail]) -> None:
    """Does `flask mail purge` delete sent emails older than the given days?"""
    email = queue()
    email.status, email.sent_at = EmailStatus.SENT, utcnow() - dt.timedelta(days=31)
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "purge", "--days", "30"])
    assert result.exit_code == 0 and "Deleted 1 sent email" in result.output


def test_worker_process_writes_eml_files_and_stops_on_sigterm(
    app: Flask, committed_session: Callable[[], Session], tmp_path: Path
) -> None:
    """Does a real `flask worker` process deliver a committed email to MAIL_DIR, then exit
    cleanly on SIGTERM (as `make run` stops it)?"""
    session = committed_session()
    email = queue_email(session, to="sam@example.org", template="confirm_report", context=EXAMPLES["confirm_report"])
    session.commit()
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "GEO_DATA_DIR": str(app.config["GEO_DATA_DIR"]),
        "SECRET_KEY": "test-secret",
        "MAIL_TRANSPORT": "file",
        "MAIL_DIR": str(mail_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not list(mail_dir.glob("*.eml")) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        files = list(mail_dir.glob("*.eml"))
        assert len(files) == 1, "the worker wrote no email"
        time.sleep(0.5)  # let it record the outcome and go back to waiting
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    text = output.decode()
    assert process.returncode == 0, text
    assert "Mail worker started" in text and "Mail worker stopped" in text
    parsed = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert parsed["Message-ID"] == email.message_id
    check = committed_session()
    stored = check.get(OutboxEmail, email.id)
    assert stored is not None and stored.status is EmailStatus.SENT
