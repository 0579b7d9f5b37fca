"""Reading cases: one case with its routes and claims, its history, the partner inbox and the
council triage queue. Each list costs a fixed number of queries whatever its length."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, raiseload

from app.coordination.models import Case, CaseClaim, CaseEvent, CaseRoute, ClaimRole
from app.coordination.timing import Timing, against, resolution
from app.db import utcnow
from app.partners.models import Organisation
from app.reports.models import Category, Priority, Report, ReportStatus
from app.reports.queries import FilterError


def load_case(session: Session, report_id: int) -> Case | None:
    """The case of a published report, or None (no such report, or it awaits confirmation)."""
    report = session.get(Report, report_id)
    if report is None or not report.is_published:
        return None
    routes = session.scalars(sa.select(CaseRoute).where(CaseRoute.report_id == report_id).order_by(CaseRoute.id))
    claims = session.scalars(sa.select(CaseClaim).where(CaseClaim.report_id == report_id).order_by(CaseClaim.id))
    return Case(report, list(routes), list(claims))


def current_lead(session: Session, report_id: int) -> Organisation | None:
    """The organisation leading the case now, read afresh from the database."""
    return session.scalar(
        sa.select(Organisation)
        .join(CaseClaim, CaseClaim.organisation_id == Organisation.id)
        .where(CaseClaim.report_id == report_id, CaseClaim.role == ClaimRole.LEAD)
        .execution_options(populate_existing=True)
    )


def history(session: Session, report_id: int) -> list[CaseEvent]:
    """Every change to the case, oldest first (actor and organisation loaded with it)."""
    return list(
        session.scalars(
            sa.select(CaseEvent).where(CaseEvent.report_id == report_id).order_by(CaseEvent.at, CaseEvent.id)
        )
    )


# --- The partner inbox -------------------------------------------------------------------------

AGES = {
    "day": "Published in the last day",
    "week": "Published in the last 7 days",
    "month": "Published in the last 30 days",
    "older": "Published over 30 days ago",
}
SORTS = {
    "oldest": "Oldest first",
    "newest": "Newest first",
    "status": "Status",
    "priority": "Priority (high risk first)",
    "due": "Due soonest",
}
PRIORITIES = {p.value: p.label for p in Priority}
_AGE_DAYS = {"day": 1, "week": 7, "month": 30}
OPEN_STATUSES = [s for s in ReportStatus if s.is_open]


@dataclass(frozen=True)
class InboxFilter:
    ward: str | None = None
    category_id: int | None = None
    status: ReportStatus | None = None
    age: str | None = None
    unclaimed: bool = False
    sort: str = "oldest"
    priority: Priority | None = None
    overdue: bool = False
    open_only: bool = False  # new, acknowledged or in progress: what the inbox shows unless asked


# The status filter's value for every status; no value at all means open cases only.
ANY_STATUS = "all"


def parse_inbox_filter(
    session: Session,
    *,
    ward: str | None,
    category: str | None,
    status: str | None,
    age: str | None,
    unclaimed: str | None,
    sort: str | None,
    priority: str | None = None,
    overdue: str | None = None,
) -> InboxFilter:
    """Turn query-string values into an ``InboxFilter``: no status means open cases only,
    ``ANY_STATUS`` every status. Raises FilterError naming the field."""
    ward = (ward or "").strip() or None
    if ward:
        from app.geography.models import Ward

        if session.scalar(sa.select(Ward.id).where(Ward.code == ward)) is None:
            raise FilterError("ward", "Choose a ward from the list")
    category_id = None
    if (category or "").strip():
        category_id = session.scalar(sa.select(Category.id).where(Category.slug == (category or "").strip()))
        if category_id is None:
            raise FilterError("category", "Choose a category from the list")
    chosen_status = None
    open_only = not (status or "").strip()
    if (status or "").strip() and (status or "").strip() != ANY_STATUS:
        try:
            chosen_status = ReportStatus((status or "").strip())
        except ValueError:
            raise FilterError("status", "Choose a status from the list") from None
    age = (age or "").strip() or None
    if age is not None and age not in AGES:
        raise FilterError("age", "Choose an age from the list")
    sort = (sort or "").strip() or "oldest"
    if sort not in SORTS:
        raise FilterError("sort", "Choose how to sort from the list")
    chosen_priority = None
    if (priority or "").strip():
        try:
            chosen_priority = Priority((priority or "").strip())
        except ValueError:
            raise FilterError("priority", "Choose a priority from the list") from None
    yes = {"1", "on", "true", "yes"}
    return InboxFilter(
        ward, category_id, chosen_status, age, unclaimed in yes, sort, chosen_priority, overdue in yes, open_only
    )


@dataclass
class InboxRow:
    """One report in an organisation's inbox, with that organisation's part in it."""

    report: Report
    routed_at: dt.datetime | None  # our live route, if any
    our_role: ClaimRole | None  # our claim, if any
    lead_name: str | None  # who leads it, if anyone
    acknowledge_due_at: dt.datetime | None = None  # our live route's acknowledgement target

    @property
    def unclaimed(self) -> bool:
        return self.lead_name is None

    def due(self, now: dt.datetime) -> tuple[str, Timing] | None:
        """What is due next and where it stands: our own acknowledgement while nobody leads
        it, then the lead's resolution; None for a report closed before anyone led it."""
        if self.unclaimed:
            if not self.report.status.is_open:
                return None
            return "To acknowledge", against(self.acknowledge_due_at, now=now, done="acknowledged")
        return "To resolve", resolution(self.report, now=now)


# Counting a big inbox exactly would read every one of its reports (1,000,000 rows for an
# organisation that covers the whole city: seconds, docs/benchmarks.md). The count stops one
# past this, and the pages say "More than 1,000 reports" beyond it.
INBOX_COUNT_CAP = 1_000


def _live_route(organisation: Organisation) -> sa.ColumnElement[bool]:
    return sa.and_(CaseRoute.organisation_id == organisation.id, CaseRoute.declined_at.is_(None))


def in_inbox(organisation: Organisation) -> sa.ColumnElement[bool]:
    """``Report`` is routed to ``organisation`` (a live route) or claimed by it.

    Two EXISTS rather than ``id IN (routes UNION claims)``: the planner can then walk the
    reports in the order a page asks for and stop after one page, probing each report's route
    and claim (or hashing a small organisation's), instead of gathering and de-duplicating
    every report of a big organisation first."""
    return sa.or_(
        sa.exists().where(CaseRoute.report_id == Report.id, _live_route(organisation)),
        sa.exists().where(CaseClaim.report_id == Report.id, CaseClaim.organisation_id == organisation.id),
    )


def inbox_ids(organisation: Organisation) -> sa.Subquery:
    """The ids (``report_id``) of the reports in ``organisation``'s inbox, each once: its live
    routes, then its claims on reports without one (so no UNION de-duplication is needed).
    Joined to ``Report``, it lets a small inbox start from the organisation's own rows (an
    index on ``organisation_id``) rather than from all the reports."""
    routed = sa.select(CaseRoute.report_id).where(_live_route(organisation))
    other = aliased(CaseRoute)
    claimed = sa.select(CaseClaim.report_id).where(
        CaseClaim.organisation_id == organisation.id,
        ~sa.exists().where(
            other.report_id == CaseClaim.report_id,
            other.organisation_id == organisation.id,
            other.declined_at.is_(None),
        ),
    )
    return sa.union_all(routed, claimed).subquery("inbox_ids")


def inbox_clauses(
    organisation: Organisation, filters: InboxFilter, *, now: dt.datetime
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses on ``Report`` for ``organisation``'s inbox with ``filters``: the
    reports routed to it (live routes) or claimed by it, published, and matching every
    filter. The list and the inbox map (``app.coordination.inbox_map``) both use these."""
    return [in_inbox(organisation), *filter_clauses(organisation, filters, now=now)]


def filter_clauses(
    organisation: Organisation, filters: InboxFilter, *, now: dt.datetime
) -> list[sa.ColumnElement[bool]]:
    """``inbox_clauses`` without the membership test: published, and matching every filter."""
    clauses: list[sa.ColumnElement[bool]] = [Report.published_at.is_not(None)]
    if filters.ward:
        clauses.append(Report.ward_code == filters.ward)
    if filters.category_id is not None:
        clauses.append(Report.category_id == filters.category_id)
    if filters.status is not None:
        clauses.append(Report.status == filters.status)
    elif filters.open_only:
        clauses.append(Report.status.in_(OPEN_STATUSES))
    if filters.age in _AGE_DAYS:
        clauses.append(Report.published_at >= now - dt.timedelta(days=_AGE_DAYS[filters.age]))
    elif filters.age == "older":
        clauses.append(Report.published_at < now - dt.timedelta(days=30))
    if filters.unclaimed:
        clauses.append(~sa.exists().where(CaseClaim.report_id == Report.id, CaseClaim.role == ClaimRole.LEAD))
    if filters.priority is not None:
        clauses.append(Report.priority == filters.priority)
    if filters.overdue:
        # An alias, so that the EXISTS stays self-contained inside a walk that joins CaseRoute.
        ours = aliased(CaseRoute)
        clauses.append(
            sa.exists().where(
                ours.report_id == Report.id,
                ours.organisation_id == organisation.id,
                ours.declined_at.is_(None),
                ours.due_at < now,
            )
        )
    return clauses


def _statuses(filters: InboxFilter) -> list[ReportStatus]:
    if filters.status is not None:
        return [filters.status]
    return OPEN_STATUSES if filters.open_only else list(ReportStatus)


def _walks(
    organisation: Organisation, filters: InboxFilter, *, now: dt.datetime, big: bool, limit: int
) -> list[sa.Select[Any]]:
    """The index walks that make up a sort, each ``(id, rank, sort_at)`` in its own order and cut
    at ``limit`` rows: for oldest and newest, one per status shown, in publication order (on
    ``reports (status, published_at, id)``); for status, the same in lifecycle order; one per
    priority (high risk first); or for "due" the organisation's routes in due order
    (``CaseRoute.due_at``, whose index starts with the organisation) followed by the reports
    with nothing due (resolved and closed, in publication order). The first ``limit`` rows of
    the whole sort are among the first ``limit`` of each walk, so no walk reads further."""
    everything = inbox_clauses(organisation, filters, now=now)
    # A walk of one status needs no status filter besides its own (a redundant IN list can
    # lead the planner to combine indexes and sort instead of walking one in order).
    any_status = inbox_clauses(organisation, replace(filters, status=None, open_only=False), now=now)
    newest = filters.sort == "newest"

    def walk(rank: int, clause: sa.ColumnElement[bool], *, by_status: bool = True) -> sa.Select[Any]:
        columns = sa.select(Report.id, sa.literal(rank, sa.Integer).label("rank"), Report.published_at.label("sort_at"))
        order = [Report.published_at.desc(), Report.id.desc()] if newest else [Report.published_at, Report.id]
        where = [*(any_status if by_status else everything), clause]
        return inbox_select(columns.select_from(Report), organisation, where, big=big).order_by(*order)

    walks: list[sa.Select[Any]] = []
    if filters.sort in ("oldest", "newest"):
        walks = [walk(0, Report.status == s) for s in _statuses(filters)]
    elif filters.sort == "status":
        walks = [walk(list(ReportStatus).index(s), Report.status == s) for s in _statuses(filters)]
    elif filters.sort == "priority":
        chosen = [filters.priority] if filters.priority is not None else [Priority.HIGH, Priority.STANDARD]
        walks = [walk(rank, Report.priority == p, by_status=False) for rank, p in enumerate(chosen)]
    else:
        due = (
            sa.select(Report.id, sa.literal(0, sa.Integer).label("rank"), CaseRoute.due_at.label("sort_at"))
            .select_from(Report)
            .join(
                CaseRoute,
                sa.and_(CaseRoute.report_id == Report.id, _live_route(organisation), CaseRoute.due_at.is_not(None)),
            )
            .where(*filter_clauses(organisation, filters, now=now))
            .order_by(CaseRoute.due_at.asc(), CaseRoute.report_id.asc())
        )
        walks = [due] + [walk(1, Report.status == s) for s in _statuses(filters) if not s.is_open]
    return [w.limit(limit) for w in walks]


def inbox_ordered(
    statement: sa.Select[Any],
    organisation: Organisation,
    filters: InboxFilter,
    *,
    now: dt.datetime,
    big: bool,
    limit: int,
    offset: int = 0,
) -> sa.Select[Any]:
    """``statement`` (a select from ``Report``) narrowed to ``organisation``'s inbox with
    ``filters``, in the order ``filters.sort`` asks for, ``limit`` rows from ``offset`` (the list
    and the inbox map share it).

    Every order is read through an index and stops after the page (docs/benchmarks.md). Oldest
    and newest over every status walk ``reports (published_at, id)``. Otherwise (the open cases
    that the inbox shows by default, say) the page joins the union of a few walks, each cut at
    ``offset + limit`` rows (``_walks``): a status filter on the publication walk would make
    SQLite, which keeps no statistics, sort every open report instead."""
    if filters.sort in ("oldest", "newest") and len(_statuses(filters)) == len(ReportStatus):
        clauses = inbox_clauses(organisation, filters, now=now)
        order = [Report.published_at, Report.id]
        return (
            inbox_select(statement, organisation, clauses, big=big)
            .order_by(*(o.desc() if filters.sort == "newest" else o.asc() for o in order))
            .limit(limit)
            .offset(offset)
        )
    walks = [w.subquery() for w in _walks(organisation, filters, now=now, big=big, limit=offset + limit)]
    # Each walk is wrapped in a subquery: SQLite refuses ORDER BY and LIMIT on a compound's parts.
    parts = [sa.select(w.c.id, w.c.rank, w.c.sort_at) for w in walks]
    ranked = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("ranked")
    within: list[Any] = [ranked.c.sort_at, ranked.c.id]
    if filters.sort == "newest":
        within = [ranked.c.sort_at.desc(), ranked.c.id.desc()]
    return statement.join(ranked, ranked.c.id == Report.id).order_by(ranked.c.rank, *within).limit(limit).offset(offset)


def inbox_is_big(session: Session, organisation: Organisation) -> bool:
    """Whether more than ``INBOX_COUNT_CAP`` reports are routed to or claimed by
    ``organisation``: one query that reads at most that many index entries."""
    ids = inbox_ids(organisation)
    first = sa.select(ids.c.report_id).limit(INBOX_COUNT_CAP + 1).subquery()
    return (session.scalar(sa.select(sa.func.count()).select_from(first)) or 0) > INBOX_COUNT_CAP


def inbox_select(
    statement: sa.Select[Any], organisation: Organisation, clauses: list[sa.ColumnElement[bool]], *, big: bool
) -> sa.Select[Any]:
    """``statement`` (a select from ``Report``) narrowed to ``organisation``'s inbox and
    ``clauses``. A small inbox is joined to ``inbox_ids``, so the database starts from the
    organisation's own rows. A big one (``inbox_is_big``) is not: the database may walk the
    reports in the page's order (through an index on that order) or through an index on a
    filter, checking ``in_inbox`` on each, and stop after a page."""
    if not big:
        ids = inbox_ids(organisation)
        statement = statement.join(ids, ids.c.report_id == Report.id)
    return statement.where(*clauses)


def inbox_total(
    session: Session, organisation: Organisation, clauses: list[sa.ColumnElement[bool]], *, big: bool
) -> int:
    """How many reports of ``organisation``'s inbox ``clauses`` match, counting no further than
    ``INBOX_COUNT_CAP + 1``: one query (the list and the inbox map share it)."""
    matching = inbox_select(sa.select(sa.literal(1)).select_from(Report), organisation, clauses, big=big)
    return session.scalar(sa.select(sa.func.count()).select_from(matching.limit(INBOX_COUNT_CAP + 1).subquery())) or 0


def inbox(
    session: Session,
    organisation: Organisation,
    filters: InboxFilter,
    *,
    page: int,
    per_page: int,
    now: dt.datetime | None = None,
) -> tuple[list[InboxRow], int]:
    """One page of the reports routed to ``organisation`` (live routes) and the cases it has
    claimed, with the total (at most ``INBOX_COUNT_CAP + 1``): three queries, whatever the page
    size."""
    moment = now or utcnow()
    clauses = inbox_clauses(organisation, filters, now=moment)
    lead = aliased(CaseClaim)
    lead_org = aliased(Organisation)
    big = inbox_is_big(session, organisation)
    total = inbox_total(session, organisation, clauses, big=big)
    our_route = aliased(CaseRoute)
    our_claim = aliased(CaseClaim)
    page_of = sa.select(
        Report, our_route.routed_at, our_claim.role, lead_org.name, lead_org.is_demo, our_route.acknowledge_due_at
    ).select_from(Report)
    rows = session.execute(
        inbox_ordered(page_of, organisation, filters, now=moment, big=big, limit=per_page, offset=(page - 1) * per_page)
        .options(raiseload(Report.photos))
        .outerjoin(
            our_route,
            sa.and_(
                our_route.report_id == Report.id,
                our_route.organisation_id == organisation.id,
                our_route.declined_at.is_(None),
            ),
        )
        .outerjoin(our_claim, sa.and_(our_claim.report_id == Report.id, our_claim.organisation_id == organisation.id))
        .outerjoin(lead, sa.and_(lead.report_id == Report.id, lead.role == ClaimRole.LEAD))
        .outerjoin(lead_org, lead_org.id == lead.organisation_id)
    ).all()
    return [
        InboxRow(report, routed_at, role, None if name is None else (f"{name} (demo)" if is_demo else name), due)
        for report, routed_at, role, name, is_demo, due in rows
    ], total


# --- Council triage ----------------------------------------------------------------------------


def _triage_clauses() -> list[sa.ColumnElement[bool]]:
    live = sa.exists().where(CaseRoute.report_id == Report.id, CaseRoute.declined_at.is_(None))
    led = sa.exists().where(CaseClaim.report_id == Report.id, CaseClaim.role == ClaimRole.LEAD)
    nobody_has_it = sa.and_(Report.status == ReportStatus.NEW, ~live, ~led)
    # Still unacknowledged past its target (app.coordination.escalation), though routed.
    escalated = sa.and_(
        Report.status == ReportStatus.NEW, Report.escalated_at.is_not(None), Report.acknowledged_at.is_(None), ~led
    )
    # A possible ASB Community Trigger case (app.coordination.trigger), while it is open.
    flagged = sa.and_(Report.trigger_flagged_at.is_not(None), Report.status.in_(OPEN_STATUSES))
    return [Report.published_at.is_not(None), sa.or_(nobody_has_it, escalated, flagged)]


def triage_queue(session: Session, *, page: int, per_page: int) -> tuple[list[Report], int]:
    """Reports for council triage, oldest first, with the total: new published reports with no
    live route and no lead; new ones escalated unacknowledged past their target until one is
    led; and open ones flagged as a possible Community Trigger case."""
    clauses = _triage_clauses()
    total = session.scalar(sa.select(sa.func.count()).select_from(Report).where(*clauses)) or 0
    rows = session.scalars(
        sa.select(Report)
        .options(raiseload(Report.photos))
        .where(*clauses)
        .order_by(Report.published_at.asc(), Report.id.asc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def active_organisations(session: Session) -> list[Organisation]:
    return list(
        session.scalars(sa.select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.name))
    )


def declined_by(session: Session, report_ids: list[int]) -> dict[int, list[str]]:
    """{report id: names of the organisations that declined it}, in one query."""
    if not report_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = session.execute(
        sa.select(CaseRoute.report_id, Organisation.name, Organisation.is_demo)
        .join(Organisation, Organisation.id == CaseRoute.organisation_id)
        .where(CaseRoute.report_id.in_(report_ids), CaseRoute.declined_at.is_not(None))
        .order_by(Organisation.name)
    )
    for report_id, name, is_demo in rows:
        found.setdefault(report_id, []).append(f"{name} (demo)" if is_demo else name)
    return found
