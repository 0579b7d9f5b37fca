"""The coordinators' daily digest: each organisation's work that is waiting or overdue.

Once a day (a scheduled job at 07:00 UK time: ``app.coordination.jobs``) each coordinator gets
one email with a section for every organisation they coordinate that has something in it:

- reports routed to it that nobody leads yet,
- acknowledgements overdue (its own route's target has passed and nobody leads),
- resolutions overdue (it leads, and the resolve target has passed),
- its open actions due before today,
- lead hand-offs offered to it and not answered yet.

Each shows a count and up to ten references with links. Organisations with nothing to say are
left out, and a coordinator with nothing anywhere gets no email. Emails go through the outbox
(kind ``coordinator_digest``), and nobody gets two on the same UK day, however often it runs.
Only references, categories and dates are in the email: never a title or description.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, aliased

from app.accounts.models import User
from app.coordination.models import (
    ActionStatus,
    CaseAction,
    CaseClaim,
    CaseHandoff,
    CaseRoute,
    ClaimRole,
    HandoffState,
)
from app.coordination.timing import duration_text, when
from app.coordination.working_time import LONDON
from app.db import utcnow
from app.mail.services import InvalidAddress, count_recent, public_url, queue_email
from app.partners.models import Membership, Organisation, OrgRole
from app.reports.models import Category, Report, ReportStatus

log = logging.getLogger(__name__)

KIND = "coordinator_digest"
LISTED = 10
OPEN = [s for s in ReportStatus if s.is_open]


@dataclass(frozen=True)
class DigestItem:
    reference: str
    url: str
    note: str


@dataclass(frozen=True)
class DigestSection:
    title: str
    count: int
    entries: list[DigestItem]  # the first LISTED

    @property
    def more(self) -> int:
        return self.count - len(self.entries)


@dataclass
class OrganisationDigest:
    organisation: Organisation
    inbox_url: str
    sections: list[DigestSection] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.sections


def _path(endpoint: str, **values: Any) -> str:
    # Built from the URL map, not url_for: the digest is written by the worker, outside any request.
    return str(current_app.url_map.bind("localhost").build(endpoint, values))


def _case_url(report_id: int) -> str:
    return public_url(_path("coordination.case", report_id=report_id))


def _reference(report_id: int) -> str:
    # As Report.reference, from the id alone: the sections select columns, not reports.
    return f"TC-{report_id:06d}"


def start_of_day(now: dt.datetime) -> dt.datetime:
    """Midnight at the start of ``now``'s UK day, in UTC."""
    local = now.astimezone(LONDON)
    return dt.datetime.combine(local.date(), dt.time(0), tzinfo=LONDON).astimezone(dt.UTC)


def _section(
    session: Session, title: str, query: sa.Select[Any], note: Any, *, id_column: Any = Report.id
) -> DigestSection | None:
    """Count ``query``'s rows and list the first ``LISTED``; None when there are none."""
    count = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    if not count:
        return None
    entries = [
        DigestItem(_reference(row.report_id), _case_url(row.report_id), note(row))
        for row in session.execute(query.limit(LISTED))
    ]
    return DigestSection(title, count, entries)


def organisation_digest(session: Session, organisation: Organisation, *, now: dt.datetime) -> OrganisationDigest:
    """What ``organisation``'s coordinators should hear about at ``now`` (10 queries at most)."""
    today = now.astimezone(LONDON).date()
    digest = OrganisationDigest(organisation, public_url(_path("coordination.inbox", org=organisation.id)))
    lead = aliased(CaseClaim)
    led = sa.exists().where(lead.report_id == Report.id, lead.role == ClaimRole.LEAD)
    routed = (
        sa.select(
            Report.id.label("report_id"),
            Category.name.label("category"),
            CaseRoute.routed_at,
            CaseRoute.acknowledge_due_at,
        )
        .join(CaseRoute, CaseRoute.report_id == Report.id)
        .join(Category, Category.id == Report.category_id)
        .where(
            CaseRoute.organisation_id == organisation.id,
            CaseRoute.declined_at.is_(None),
            Report.published_at.is_not(None),
            Report.status.in_(OPEN),
            ~led,
        )
    )
    sections = [
        _section(
            session,
            "Routed to you, and nobody leads them yet",
            routed.order_by(CaseRoute.routed_at, Report.id),
            lambda r: f"{r.category}, routed {duration_text(now - r.routed_at)} ago",
        ),
        _section(
            session,
            "Acknowledgements overdue",
            routed.where(Report.status == ReportStatus.NEW, CaseRoute.acknowledge_due_at < now).order_by(
                CaseRoute.acknowledge_due_at, Report.id
            ),
            lambda r: f"{r.category}, overdue by {duration_text(now - r.acknowledge_due_at)}",
        ),
        _section(
            session,
            "Resolutions overdue",
            sa.select(Report.id.label("report_id"), Category.name.label("category"), Report.resolve_due_at)
            .join(Category, Category.id == Report.category_id)
            .join(CaseClaim, CaseClaim.report_id == Report.id)
            .where(
                CaseClaim.organisation_id == organisation.id,
                CaseClaim.role == ClaimRole.LEAD,
                Report.status.in_(OPEN),
                Report.resolve_due_at < now,
            )
            .order_by(Report.resolve_due_at, Report.id),
            lambda r: f"{r.category}, overdue by {duration_text(now - r.resolve_due_at)}",
        ),
        _section(
            session,
            "Actions overdue",
            sa.select(CaseAction.report_id, CaseAction.title, CaseAction.due_on, User.display_name.label("assignee"))
            .outerjoin(User, User.id == CaseAction.assignee_id)
            .where(
                CaseAction.organisation_id == organisation.id,
                CaseAction.status.in_([s for s in ActionStatus if s.is_open]),
                CaseAction.due_on < today,
            )
            .order_by(CaseAction.due_on, CaseAction.id),
            lambda r: (
                f"“{r.title}”, due {r.due_on.day} {r.due_on:%B}"
                + (f", assigned to {r.assignee}" if r.assignee else ", not assigned")
            ),
        ),
        _section(
            session,
            "Lead hand-offs offered to you",
            sa.select(CaseHandoff.report_id, CaseHandoff.offered_at, Organisation.name.label("source"))
            .join(Organisation, Organisation.id == CaseHandoff.from_organisation_id)
            .where(CaseHandoff.to_organisation_id == organisation.id, CaseHandoff.state == HandoffState.OFFERED)
            .order_by(CaseHandoff.offered_at, CaseHandoff.id),
            lambda r: f"offered by {r.source} on {when(r.offered_at, now=now)}",
        ),
    ]
    digest.sections = [s for s in sections if s is not None]
    return digest


def coordinators(session: Session) -> dict[User, list[Organisation]]:
    """Each coordinator of an active organisation (accounts not deleted), with the active
    organisations they coordinate, by name."""
    found: dict[User, list[Organisation]] = {}
    rows = session.scalars(
        sa.select(Membership)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == OrgRole.COORDINATOR, Organisation.active.is_(True), User.deleted_at.is_(None))
        .order_by(User.id, Organisation.name)
    )
    for membership in rows:
        found.setdefault(membership.user, []).append(membership.organisation)
    return found


def send_digests(session: Session, *, now: dt.datetime | None = None) -> int:
    """Queue today's digest for every coordinator who has something to hear and has not had
    one today (UK time); returns how many were queued. Flushes, never commits. A coordinator
    whose address is unusable is logged and skipped."""
    moment = now or utcnow()
    since = start_of_day(moment)
    cached: dict[int, OrganisationDigest] = {}
    queued = 0
    for user, organisations in coordinators(session).items():
        digests = []
        for organisation in organisations:
            if organisation.id not in cached:
                cached[organisation.id] = organisation_digest(session, organisation, now=moment)
            if not cached[organisation.id].empty:
                digests.append(cached[organisation.id])
        if not digests:
            continue
        try:
            if count_recent(session, to=user.email, kind=KIND, since=since):
                continue
            queue_email(
                session,
                to=user.email,
                template="coordinator_digest",
                context={
                    "name": user.display_name,
                    "day": f"{moment.astimezone(LONDON):%A} {moment.astimezone(LONDON).day} "
                    f"{moment.astimezone(LONDON):%B}",
                    "organisations": digests,
                    "inbox_url": public_url(_path("coordination.inbox")),
                },
                kind=KIND,
                now=moment,
            )
        except InvalidAddress:
            log.warning("No digest for user %s: their address cannot be used", user.id)
            continue
        queued += 1
    return queued
