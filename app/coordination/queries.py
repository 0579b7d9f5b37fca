"""Reading cases: one case with its routes and claims, its history, the partner inbox and the
council triage queue. Each list costs a fixed number of queries whatever its length."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, raiseload

from app.coordination.models import Case, CaseClaim, CaseEvent, CaseRoute, ClaimRole
from app.db import utcnow
from app.partners.models import Organisation
from app.reports.models import Category, Report, ReportStatus
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
SORTS = {"oldest": "Oldest first", "newest": "Newest first", "status": "Status"}
_AGE_DAYS = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class InboxFilter:
    ward: str | None = None
    category_id: int | None = None
    status: ReportStatus | None = None
    age: str | None = None
    unclaimed: bool = False
    sort: str = "oldest"


def parse_inbox_filter(
    session: Session,
    *,
    ward: str | None,
    category: str | None,
    status: str | None,
    age: str | None,
    unclaimed: str | None,
    sort: str | None,
) -> InboxFilter:
    """Turn query-string values into an ``InboxFilter``. Raises FilterError naming the field."""
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
    if (status or "").strip():
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
    return InboxFilter(ward, category_id, chosen_status, age, unclaimed in {"1", "on", "true", "yes"}, sort)


@dataclass
class InboxRow:
    """One report in an organisation's inbox, with that organisation's part in it."""

    report: Report
    routed_at: dt.datetime | None  # our live route, if any
    our_role: ClaimRole | None  # our claim, if any
    lead_name: str | None  # who leads it, if anyone

    @property
    def unclaimed(self) -> bool:
        return self.lead_name is None


_STATUS_ORDER = sa.case(*[(Report.status == s, i) for i, s in enumerate(ReportStatus)], else_=99)


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
    claimed, with the total: two queries, whatever the page size."""
    now = now or utcnow()
    ours = sa.union(
        sa.select(CaseRoute.report_id).where(
            CaseRoute.organisation_id == organisation.id, CaseRoute.declined_at.is_(None)
        ),
        sa.select(CaseClaim.report_id).where(CaseClaim.organisation_id == organisation.id),
    )
    lead = aliased(CaseClaim)
    lead_org = aliased(Organisation)
    clauses: list[sa.ColumnElement[bool]] = [Report.id.in_(ours), Report.published_at.is_not(None)]
    if filters.ward:
        clauses.append(Report.ward_code == filters.ward)
    if filters.category_id is not None:
        clauses.append(Report.category_id == filters.category_id)
    if filters.status is not None:
        clauses.append(Report.status == filters.status)
    if filters.age in _AGE_DAYS:
        clauses.append(Report.published_at >= now - dt.timedelta(days=_AGE_DAYS[filters.age]))
    elif filters.age == "older":
        clauses.append(Report.published_at < now - dt.timedelta(days=30))
    if filters.unclaimed:
        clauses.append(~sa.exists().where(CaseClaim.report_id == Report.id, CaseClaim.role == ClaimRole.LEAD))
    total = session.scalar(sa.select(sa.func.count()).select_from(Report).where(*clauses)) or 0
    orders: dict[str, list[Any]] = {
        "oldest": [Report.published_at.asc(), Report.id.asc()],
        "newest": [Report.published_at.desc(), Report.id.desc()],
        "status": [_STATUS_ORDER, Report.published_at.asc(), Report.id.asc()],
    }
    order = orders[filters.sort]
    our_route = aliased(CaseRoute)
    our_claim = aliased(CaseClaim)
    rows = session.execute(
        sa.select(Report, our_route.routed_at, our_claim.role, lead_org.name, lead_org.is_demo)
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
        .where(*clauses)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [
        InboxRow(report, routed_at, role, None if name is None else (f"{name} (demo)" if is_demo else name))
        for report, routed_at, role, name, is_demo in rows
    ], total


# --- Council triage ----------------------------------------------------------------------------


def _triage_clauses() -> list[sa.ColumnElement[bool]]:
    live = sa.exists().where(CaseRoute.report_id == Report.id, CaseRoute.declined_at.is_(None))
    led = sa.exists().where(CaseClaim.report_id == Report.id, CaseClaim.role == ClaimRole.LEAD)
    return [Report.published_at.is_not(None), Report.status == ReportStatus.NEW, ~live, ~led]


def triage_queue(session: Session, *, page: int, per_page: int) -> tuple[list[Report], int]:
    """New published reports with no live route and no lead, oldest first, with the total."""
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
