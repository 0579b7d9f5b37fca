"""``flask hotspots ...``: rebuild and check the counts, load ward populations."""

from __future__ import annotations

import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.coordination import jobs
from app.extensions import db
from app.hotspots import counts
from app.hotspots.models import HexCount
from app.hotspots.populations import PopulationFileError, describe, load_populations
from app.reports.models import Report

hotspots_cli = AppGroup("hotspots", help="The ward dashboard's counts and reference figures.")

SHOWN = 50  # differences printed; the rest are counted


def _report_differences(problems: list[str]) -> None:
    for line in problems[:SHOWN]:
        click.echo(line)
    if len(problems) > SHOWN:
        click.echo(f"... and {len(problems) - SHOWN:,} more")
    raise click.ClickException(
        f"{len(problems):,} differences between the hex counts and the reports: run `flask hotspots rebuild`"
    )


@hotspots_cli.command("rebuild")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Only if the table is empty while there are published reports (after the migration that added it).",
)
def rebuild(if_empty: bool) -> None:
    """Recompute the hex counts (and every report's H3 cells) from the reports, then check them."""
    if if_empty:
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(HexCount)) or 0
        published = db.session.scalar(sa.select(sa.func.count()).where(Report.published_at.is_not(None))) or 0
        if rows or not published:
            click.echo(f"The hex counts have {rows:,} rows for {published:,} published reports: nothing to do")
            return
    started = time.perf_counter()
    result = counts.rebuild_all(db.session)
    jobs.request_run(db.session, "hotspot_alerts")  # a bulk change: look for findings at the next pass
    db.session.commit()
    click.echo(
        f"Rebuilt {result.rows:,} hex count rows from {result.reports:,} published reports "
        f"({result.cells_set:,} reports' H3 cells set) in {time.perf_counter() - started:.1f} s"
    )
    problems = counts.verify(db.session)
    if problems:
        _report_differences(problems)
    click.echo("The hex counts agree with the reports")


@hotspots_cli.command("verify")
def verify() -> None:
    """Compare the hex counts with the reports; exit 1 and list the differences if they disagree."""
    problems = counts.verify(db.session)
    if problems:
        _report_differences(problems)
    click.echo("The hex counts agree with the reports")


@hotspots_cli.command("load-populations")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def load_populations_command(file: Path) -> None:
    """Replace the ward populations with those in FILE, a CSV with the columns
    ward_code, population, year, source (docs/hotspots-data.md). Nothing is written if any
    line is wrong."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise click.ClickException(f"{file} does not exist: give the path of the CSV file") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text: save the CSV as UTF-8 and try again") from None
    except OSError as exc:
        raise click.ClickException(f"{file} cannot be read: {exc.strerror}") from None
    try:
        loaded = load_populations(db.session, text)
    except PopulationFileError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"{len(exc.problems)} problem{'s' if len(exc.problems) > 1 else ''} in {file}: nothing was loaded"
        ) from None
    db.session.commit()
    click.echo(f"Loaded the populations of {describe(loaded.rows)} from {file}")
    if loaded.missing:
        click.echo(
            f"No figure for {len(loaded.missing)} ward{'s' if len(loaded.missing) > 1 else ''}: "
            f"{', '.join(loaded.missing)}. Their rates per 1,000 residents are hidden."
        )
