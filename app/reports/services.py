"""Writing reports and their photos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from geoalchemy2 import WKTElement
from sqlalchemy.orm import Session

from app.accounts.models import TokenPurpose, User
from app.accounts.tokens import TokenError, consume_token, issue_token
from app.coordination.routing import route_published_report
from app.db import utcnow
from app.geography.services import ward_for_point
from app.mail.services import queue_email
from app.reports import aggregates
from app.reports.models import Category, Photo, Report, ReportStatus
from app.reports.photos import MAX_PHOTOS, new_photo_id, process_photo, save_files
from geo.coarsen import coarsen
from geo.coords import Point


class ReportError(ValueError):
    """A report cannot be made as asked; ``field`` names the form field to fix."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass
class NewReport:
    category_id: int
    title: str
    description: str
    point: Point
    reporter_email: str
    reporter_name: str | None = None
    show_name: bool = False
    photo_ids: list[str] = field(default_factory=list)
    source: str = "web"


def point_geometry(point: Point) -> WKTElement:
    return WKTElement(point.wkt(), srid=4326)


def public_point(point: Point, category: Category) -> Point:
    """Where the public may see a report: coarsened to ~500 m for sensitive categories."""
    return coarsen(point) if category.sensitive else point


def create_report(
    session: Session, data: NewReport, *, reporter: User | None = None, now: dt.datetime | None = None
) -> Report:
    """Create a report and attach its pending photos.

    A report from a signed-in, verified ``reporter`` is published (and counted on the map)
    at once; any other waits, private, until ``publish_report`` is called after the
    reporter confirms by email. Raises ReportError if the category is unknown or retired,
    and OutsideCoventry (from the ward lookup) if the point is not in Coventry.
    """
    category = session.get(Category, data.category_id)
    if category is None or not category.active:
        raise ReportError("category", "Select a category from the list")
    ward = ward_for_point(session, data.point)
    shown = public_point(data.point, category)
    moment = now or utcnow()
    report = Report(
        category=category,
        status=ReportStatus.NEW,
        title=data.title.strip(),
        description=data.description.strip(),
        lon=data.point.lon,
        lat=data.point.lat,
        geom=point_geometry(data.point),
        public_lon=shown.lon,
        public_lat=shown.lat,
        public_geom=point_geometry(shown),
        ward_code=ward.code,
        ward_vintage=ward.vintage,
        reporter_name=(data.reporter_name or "").strip() or None,
        show_name=bool(data.show_name and (data.reporter_name or "").strip()),
        reporter_email=data.reporter_email.strip(),
        source=data.source,
        reporter_id=reporter.id if reporter else None,
        published_at=moment if reporter is not None and reporter.is_verified else None,
        created_at=moment,
        updated_at=moment,
    )
    session.add(report)
    session.flush()
    for position, photo in enumerate(pending_photos(session, data.photo_ids)):
        photo.report_id = report.id
        photo.position = position
    if report.is_published:
        aggregates.add(session, [report])
        route_published_report(session, report, now=moment)
    return report


def request_confirmation(session: Session, report: Report, *, confirm_link: Callable[[str], str]) -> None:
    """Email the reporter a single-use link that publishes their report (7 days)."""
    raw = issue_token(session, TokenPurpose.CONFIRM_REPORT, report_id=report.id)
    queue_email(
        session,
        to=report.reporter_email,
        template="confirm_report",
        context={"report_reference": report.reference, "report_title": report.title, "confirm_url": confirm_link(raw)},
        kind="confirm_report",
    )


def confirm_report(session: Session, raw: str) -> Report:
    """Publish the report a confirmation link is for.

    Raises TokenError for an unknown, used or expired link.
    """
    token = consume_token(session, TokenPurpose.CONFIRM_REPORT, raw)
    report = session.get(Report, token.report_id)
    if report is None:
        raise TokenError("This link is for a report that no longer exists.")
    publish_report(session, report)
    return report


def publish_report(session: Session, report: Report, *, now: dt.datetime | None = None) -> bool:
    """Make a confirmed report public, count it on the map and route it to the organisations
    that cover it (or to council triage); False if it already was public."""
    if report.is_published:
        return False
    report.published_at = now or utcnow()
    session.flush()
    aggregates.add(session, [report])
    route_published_report(session, report, now=report.published_at)
    return True


def pending_photos(session: Session, photo_ids: list[str]) -> list[Photo]:
    """Photos uploaded with a form not yet submitted, in the order given (unknown ids skipped)."""
    if not photo_ids:
        return []
    rows = {
        p.id: p for p in session.scalars(sa.select(Photo).where(Photo.id.in_(photo_ids), Photo.report_id.is_(None)))
    }
    return [rows[i] for i in photo_ids if i in rows][:MAX_PHOTOS]


def store_pending_photo(session: Session, upload_dir: Path, stream: IO[bytes], filename: str) -> Photo:
    """Check, re-encode and keep an uploaded photo until its report is submitted.

    Raises PhotoError if the upload is not an acceptable photo.
    """
    processed = process_photo(stream, filename)
    photo = Photo(
        id=new_photo_id(),
        original_name=Path(filename or "photo").name[:255],
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.full),
    )
    save_files(upload_dir, photo.id, processed)
    session.add(photo)
    session.flush()
    return photo
