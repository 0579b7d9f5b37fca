"""``flask demo ...`` and ``flask reports ...`` commands."""

from __future__ import annotations

import datetime as dt
import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.coordination.jobs import request_run
from app.db import utcnow
from app.extensions import db
from app.hotspots.models import HexCount
from app.reports import aggregates
from app.reports.demo import generate
from app.reports.models import Photo, Report

demo_cli = AppGroup("demo", help="Demo data.")
reports_cli = AppGroup("reports", help="Report maintenance.")


@demo_cli.command("load")
@click.option("--reports", "count", default=5000, show_default=True, help="How many reports to generate.")
@click.option("--seed", default=2026, show_default=True, help="Random seed: the same seed gives the same data.")
@click.option("--if-empty", is_flag=True, help="Do nothing if there are reports already.")
def load(count: int, seed: int, if_empty: bool) -> None:
    """Generate a realistic, deterministic set of reports over the last two years.

    In demo mode (DEMO_MODE), also add the demo organisations and sign-ins if missing.
    """
    if current_app.config["DEMO_MODE"]:
        _load_accounts()
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Report)) or 0
    if if_empty and existing:
        click.echo(f"{existing} reports already present: no demo data added")
        return
    started = time.perf_counter()
    end = utcnow().replace(minute=0, second=0, microsecond=0)
    for done in generate(db.session, count=count, seed=seed, data_dir=current_app.config["GEO_DATA_DIR"], end=end):
        if done % 100000 == 0 or done == count:
            click.echo(f"  {done:,} reports ({time.perf_counter() - started:.1f} s)")
    # generate() ends by rebuilding the map's cells and the ward dashboard's hex counts.
    hex_rows = db.session.scalar(sa.select(sa.func.count()).select_from(HexCount)) or 0
    click.echo(f"  map cells and {hex_rows:,} hex count rows rebuilt ({time.perf_counter() - started:.1f} s)")
    if current_app.config["DEMO_MODE"]:
        from app.coordination.demo import load_demo_cases
        from app.coordination.demo_casework import load_demo_casework, load_demo_targets
        from app.hotspots.subscriptions import load_demo_subscriptions

        load_demo_targets(db.session)
        routed = load_demo_cases(db.session, now=end, seed=seed)
        work = load_demo_casework(db.session, now=end, seed=seed)
        click.echo(
            f"  routed {routed:,} recent reports to the demo partners, with {work['updates']:,} public updates,"
            f" {work['actions']:,} actions, {work['notes']:,} notes and {work['handoffs']} lead hand-offs offered"
        )
        watched = load_demo_subscriptions(db.session)
        click.echo(f"  {watched} ward alert subscription(s) for the demo ward officers")
    # A bulk change: the worker looks for new findings (and sends alerts) at its next pass.
    request_run(db.session, "hotspot_alerts")
    db.session.commit()
    click.echo(f"Generated {count:,} demo reports in {time.perf_counter() - started:.1f} s")


@reports_cli.command("rebuild-cells")
@click.option("--check", is_flag=True, help="Only compare the cells with the reports; exit 1 if they differ.")
def rebuild_cells(check: bool) -> None:
    """Rebuild the map's per-cell counts from the reports, or check them."""
    if check:
        problems = aggregates.verify(db.session)
        for line in problems[:50]:
            click.echo(line)
        if problems:
            raise SystemExit(f"{len(problems)} cells disagree with the reports")
        click.echo("The cells agree with the reports")
        return
    cells = aggregates.rebuild(db.session)
    db.session.commit()
    click.echo(f"Rebuilt {cells:,} cells")


@reports_cli.command("purge-photos")
@click.option("--hours", default=24, show_default=True)
def purge_photos(hours: int) -> None:
    """Delete photos uploaded with forms that were never sent, older than HOURS."""
    cutoff = utcnow() - dt.timedelta(hours=hours)
    stale = list(db.session.scalars(sa.select(Photo).where(Photo.report_id.is_(None), Photo.created_at < cutoff)))
    from app.reports.photos import photo_path

    for photo in stale:
        for thumb in (False, True):
            photo_path(current_app.config["UPLOAD_DIR"], photo.id, thumb=thumb).unlink(missing_ok=True)
        db.session.delete(photo)
    db.session.commit()
    click.echo(f"Deleted {len(stale)} unused photos")


def _load_accounts() -> None:
    from app.partners.demo import load_demo_accounts

    organisations, people = load_demo_accounts(db.session)
    db.session.commit()
    if organisations or people:
        click.echo(f"Added {organisations} demo organisations and {people} demo people")


def _demo_mode_only() -> None:
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("Demo sign-ins exist only in demo mode (DEMO_MODE=1)")


@demo_cli.command("accounts")
def accounts() -> None:
    """Add the demo organisations and people if missing, and print the demo sign-ins."""
    from app.partners.demo import sign_in_lines

    if not current_app.config["DEMO_MODE"]:
        click.echo("Not in demo mode (DEMO_MODE=0): there are no demo sign-ins")
        return
    _load_accounts()
    click.echo("\n".join(sign_in_lines(".venv/bin/flask --app wsgi")))


@demo_cli.command("code")
@click.argument("email")
def code(email: str) -> None:
    """Print the current 6-digit sign-in code of the demo person EMAIL."""
    from app.accounts.models import User
    from app.partners.demo import current_code

    _demo_mode_only()
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower(), User.is_demo.is_(True)))
    if user is None:
        raise click.ClickException(f"{email} is not a demo sign-in")
    try:
        click.echo(current_code(user))
    except ValueError as exc:
        raise click.ClickException(f"{exc}: they sign in with the password alone") from None
