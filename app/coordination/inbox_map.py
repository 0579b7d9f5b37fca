"""The partner inbox on a map: the organisation's inbox, with the same filters as the list, at
the reports' exact points.

Being on the case (a live route or a claim) is what lets a partner see a report's exact point
and full text (``permissions.can_view_case``); the inbox is exactly those reports, so every
point here is exact, sensitive categories included. The map carries at most ``limit`` points
(config ``MAP_MAX_POINTS``), the first in the inbox's chosen order; the page says how many more
there are and that the filters narrow them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import Session

from app.coordination import queries
from app.db import utcnow
from app.partners.models import Organisation
from app.reports.models import Category, Report, ReportStatus


@dataclass(frozen=True)
class MapPoint:
    """One report in the inbox, as the map needs it."""

    report_id: int
    title: str
    category: str
    sensitive: bool
    status: ReportStatus
    lat: float
    lon: float

    @property
    def reference(self) -> str:
        return f"TC-{self.report_id:06d}"

    def feature(self) -> dict[str, Any]:
        """A GeoJSON feature for the page's script (which escapes every text it shows).
        Needs a request context for the case's URL."""
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "ref": self.reference,
                "title": self.title,
                "category": self.category,
                "sensitive": self.sensitive,
                "status": self.status.value,
                "status_label": self.status.label,
                "open": self.status.is_open,
                "url": url_for("coordination.case", report_id=self.report_id),
            },
        }


def inbox_points(
    session: Session,
    organisation: Organisation,
    filters: queries.InboxFilter,
    *,
    limit: int,
    now: dt.datetime | None = None,
) -> tuple[list[MapPoint], int]:
    """The first ``limit`` reports of ``organisation``'s inbox with ``filters`` (in the order
    the filters ask for), and how many there are in all (at most ``queries.INBOX_COUNT_CAP + 1``):
    three queries, whatever ``limit``."""
    moment = now or utcnow()
    clauses = queries.inbox_clauses(organisation, filters, now=moment)
    big = queries.inbox_is_big(session, organisation)
    total = queries.inbox_total(session, organisation, clauses, big=big)
    points = sa.select(
        Report.id, Report.title, Category.name, Category.sensitive, Report.status, Report.lat, Report.lon
    ).select_from(Report)
    rows = session.execute(
        queries.inbox_ordered(points, organisation, filters, now=moment, big=big, limit=limit).join(
            Category, Category.id == Report.category_id
        )
    ).all()
    return [MapPoint(*row) for row in rows], total
