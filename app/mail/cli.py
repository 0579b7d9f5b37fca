"""``flask worker`` (send the outbox) and ``flask mail ...`` (look after it)."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.coordination.jobs import run_due
from app.db import utcnow
from app.extensions import db
from app.mail import services
from app.mail.models import EmailStatus, OutboxEmail
from app.mail.transports import Transport, transport_from_config
from app.mail.worker import LEASE, DeliveryReport, deliver_due, recover_stale

mail_cli = AppGroup("mail", help="The email outbox.")


@click.command("worker")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds to wait between passes when nothing is due.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True, help="Emails per pass.")
@click.option("--once", is_flag=True, help="Make one pass (and run the jobs due), then exit (for tests and cron).")
@with_appcontext
def worker(interval: float, batch_size: int, once: bool) -> None:
    """Send queued emails, retrying with backoff, until stopped (SIGTERM or Ctrl-C).

    Each pass first marks emails left `sending` by a dead worker as uncertain, then
    sends what is due. A stop request lets the email being sent finish first. Between
    passes it runs the scheduled jobs that are due (`flask jobs list`).
    """
    config = current_app.config
    transport = transport_from_config(config)
    sender = config["MAIL_FROM"]
    lease = max(LEASE, dt.timedelta(seconds=10 * config["SMTP_TIMEOUT"]))
    if once:
        click.echo(f"Mail worker: {_pass(transport, sender, batch_size, lease, lambda: False)}")
        for result in run_due(db.session):
            click.echo(f"Scheduled job {result}")
        return

    stopping = threading.Event()
    previous = _on_stop_signals(lambda *_: stopping.set())
    click.echo(f"Mail worker started: {transport!r}, every {interval:g} s (Ctrl-C to stop)")
    try:
        while not stopping.is_set():
            try:
                report = _pass(transport, sender, batch_size, lease, stopping.is_set)
            except Exception:  # a lost database, say: keep the worker alive and try again
                current_app.logger.exception("Mail worker pass failed")
                db.session.rollback()
                report = DeliveryReport()
            if report.attempted or report.uncertain:
                click.echo(f"{utcnow():%H:%M:%S} {report}")
            for result in run_due(db.session):  # never raises: a failed job is logged
                click.echo(f"{utcnow():%H:%M:%S} {result}")
            full_batch = report.attempted >= batch_size and not report.server_unavailable
            if not full_batch:
                stopping.wait(interval)
    finally:
        _restore_signals(previous)
        db.session.close()
    click.echo("Mail worker stopped")


def _pass(
    transport: Transport, sender: str, batch_size: int, lease: dt.timedelta, stop: Callable[[], bool]
) -> DeliveryReport:
    uncertain = recover_stale(db.session)
    report = deliver_due(db.session, transport, sender=sender, batch_size=batch_size, lease=lease, stop=stop)
    report.uncertain = uncertain
    return report


_SignalHandler = Callable[[int, FrameType | None], Any] | int | None


def _on_stop_signals(handler: Callable[[int, FrameType | None], Any]) -> dict[signal.Signals, _SignalHandler]:
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_signals(previous: dict[signal.Signals, _SignalHandler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


@mail_cli.command("status")
@click.option("--limit", default=50, show_default=True, help="How many emails needing attention to list.")
def status(limit: int) -> None:
    """Count emails by state and list the uncertain and failed ones."""
    counts = services.count_by_status(db.session)
    click.echo(", ".join(f"{s.value} {counts[s]}" for s in EmailStatus))
    for email in services.emails_needing_attention(db.session, limit=limit):
        click.echo(
            f"#{email.id} {email.status.value} {email.kind} to {email.to_address} "
            f"queued {email.created_at:%Y-%m-%d %H:%M} UTC, {email.attempts} attempts, {email.message_id}"
        )
        if email.last_error:
            click.echo(f"    {email.last_error}")


@mail_cli.command("requeue")
@click.argument("ids", nargs=-1, type=int, required=True)
def requeue(ids: tuple[int, ...]) -> None:
    """Send failed or uncertain emails IDS again (for uncertain ones, check the server's log first)."""
    for email in _load(ids):
        try:
            services.requeue(db.session, email)
        except ValueError as exc:
            raise click.ClickException(f"#{email.id}: {exc}") from None
    db.session.commit()
    click.echo(f"Requeued {len(ids)} email(s)")


@mail_cli.command("mark-sent")
@click.argument("ids", nargs=-1, type=int, required=True)
def mark_sent(ids: tuple[int, ...]) -> None:
    """Record that uncertain emails IDS did reach the mail server (found in its log)."""
    for email in _load(ids):
        try:
            services.mark_sent(db.session, email)
        except ValueError as exc:
            raise click.ClickException(f"#{email.id}: {exc}") from None
    db.session.commit()
    click.echo(f"Marked {len(ids)} email(s) as sent")


@mail_cli.command("purge")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1), help="Keep sent emails this long.")
def purge(days: int) -> None:
    """Delete sent emails older than DAYS (they hold personal data and one-time links)."""
    deleted = services.purge_sent(db.session, before=utcnow() - dt.timedelta(days=days))
    db.session.commit()
    click.echo(f"Deleted {deleted} sent email(s)")


def _load(ids: tuple[int, ...]) -> list[OutboxEmail]:
    found = {e.id: e for e in db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.id.in_(ids)))}
    missing = sorted(set(ids) - set(found))
    if missing:
        raise click.ClickException(f"No email with id {', '.join(map(str, missing))}")
    return [found[i] for i in ids]
