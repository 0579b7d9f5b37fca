"""Partnership performance: how quickly each organisation acknowledges and resolves the cases it
leads, against its targets, and how old its open cases are.

Response times cover the reports *published in a period* that an organisation *leads*, per
organisation and category:

- cases: how many it leads;
- acknowledged, and the median time from publication to ``acknowledged_at``;
- the share acknowledged within target: ``acknowledged_at <= acknowledge_due_at``, out of the
  cases whose outcome is known (acknowledged, or still unacknowledged with the target passed);
- resolved (``resolved_at`` set and the report resolved or closed: a reopened report is not),
  and the median time from publication to ``resolved_at``;
- the share resolved within target: ``resolved_at <= resolve_due_at``, out of the resolved
  cases and the open ones past their target. Cases closed without being resolved, and open
  cases still within their target, are left out: their outcome is not known.

Times are calendar time (nights, weekends and bank holidays included); the targets they are
compared with are in each organisation's working time (``app.coordination.deadlines``).

The age profile counts the *open* cases of each organisation now, by time since publication:
those it leads, and those routed to it (a live route) that nobody leads yet, which count
against every organisation they are routed to.

Medians are computed in the database with window functions that SQLite and PostgreSQL both
have (``row_number`` and ``count`` over a partition): SQLite has no percentile function, and
fetching every duration to sort it in Python would not scale. Each part is one query, so the
page costs the same number of queries whatever the number of organisations and categories.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler

from app.coordination.models import CaseClaim, CaseRoute, ClaimRole
from app.reports.models import Report, ReportStatus
from app.templating import LONDON

DEFAULT_DAYS = 90
# (label, lower bound in whole days, upper bound in whole days or None): a case published
# 2 days 23 hours ago is "0 to 2 days" old; one published exactly 3 days ago is "3 to 7 days".
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0 to 2 days", 0, 3),
    ("3 to 7 days", 3, 8),
    ("8 to 28 days", 8, 29),
    ("29 to 90 days", 29, 91),
    ("Over 90 days", 91, None),
)
_OPEN = [ReportStatus.NEW, ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS]
_DONE = [ReportStatus.RESOLVED, ReportStatus.CLOSED]


# --- Seconds between two timestamps, on both databases -----------------------------------------


class seconds_between(sa.sql.functions.FunctionElement[float]):  # noqa: N801  (a SQL function)
    """``seconds_between(a, b)``: the seconds from ``a`` to ``b`` as a float."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(b, **kw)} - {compiler.process(a, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as text; julianday() reads them (to about 50 microseconds).
    a, b = list(element.clauses)
    return f"((julianday({compiler.process(b, **kw)}) - julianday({compiler.process(a, **kw)})) * 86400.0)"


# --- The period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days in UK local time, ``first`` to ``last`` inclusive."""

    first: dt.date
    last: dt.date

    @classmethod
    def default(cls, now: dt.datetime) -> Period:
        """The last ``DEFAULT_DAYS`` days, today included."""
        today = now.astimezone(LONDON).date()
        return cls(today - dt.timedelta(days=DEFAULT_DAYS - 1), today)

    @property
    def start(self) -> dt.datetime:
        """Midnight at the start of ``first`` in London, in UTC."""
        return _london_midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        """Midnight at the end of ``last`` in London, in UTC (not included)."""
        return _london_midnight(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _london_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


# --- What the page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """``within`` of ``decided`` cases met the target."""

    within: int = 0
    decided: int = 0

    @property
    def percent(self) -> int | None:
        """Whole percent, or None when no case's outcome is known yet."""
        return None if self.decided == 0 else round(100 * self.within / self.decided)

    def __add__(self, other: Share) -> Share:
        return Share(self.within + other.within, self.decided + other.decided)


@dataclass
class ResponseTimes:
    """One organisation's figures for one category (``category_id``), or for all of them (None)."""

    organisation_id: int
    category_id: int | None
    cases: int = 0
    acknowledged: int = 0
    median_acknowledge: dt.timedelta | None = None
    acknowledge_share: Share = field(default_factory=Share)
    resolved: int = 0
    median_resolve: dt.timedelta | None = None
    resolve_share: Share = field(default_factory=Share)


@dataclass
class AgeProfile:
    """One organisation's open cases now, per ``AGE_BUCKETS`` bucket: those it leads, and those
    routed to it that nobody leads yet."""

    organisation_id: int
    led: list[int] = field(default_factory=lambda: [0] * len(AGE_BUCKETS))
    routed: list[int] = field(default_factory=lambda: [0] * len(AGE_BUCKETS))

    @property
    def total(self) -> int:
        return sum(self.led) + sum(self.routed)


@dataclass
class Performance:
    """Per organisation id: its category rows (category id order as given by the caller's
    categories), its all-categories row, and its age profile."""

    by_category: dict[int, list[ResponseTimes]]
    overall: dict[int, ResponseTimes]
    ages: dict[int, AgeProfile]


def plain_duration(value: dt.timedelta | None) -> str:
    """A duration in words, to the minute under a day and to the hour above: "45 minutes",
    "3 hours 20 minutes", "1 day 4 hours", "12 days". "No cases" for None."""
    if value is None:
        return "No cases"
    seconds = value.total_seconds()
    if seconds < 60:
        return "Under a minute"
    if seconds < 86400 - 30:
        minutes = round(seconds / 60)
        hours, minutes = divmod(minutes, 60)
        return _join((hours, "hour"), (minutes, "minute"))
    hours = round(seconds / 3600)
    days, hours = divmod(hours, 24)
    return _join((days, "day"), (hours, "hour"))


def _join(*parts: tuple[int, str]) -> str:
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n)


# --- The queries --------------------------------------------------------------------------------


def performance(
    session: Session,
    organisation_ids: list[int],
    *,
    period: Period,
    category_id: int | None,
    category_ids: list[int],
    now: dt.datetime,
) -> Performance:
    """The figures for ``organisation_ids`` (already authorised by the caller) over ``period``,
    for one category or all. ``category_ids`` gives the order of each organisation's category
    rows; only categories with cases get one. Three queries, whatever the number of
    organisations and categories."""
    if not organisation_ids:
        return Performance({}, {}, {})
    lead = aliased(CaseClaim)
    led = (
        sa.select()
        .select_from(Report)
        .join(lead, sa.and_(lead.report_id == Report.id, lead.role == ClaimRole.LEAD))
        .where(
            lead.organisation_id.in_(organisation_ids),
            Report.published_at >= period.start,
            Report.published_at < period.end,
        )
    )
    if category_id is not None:
        led = led.where(Report.category_id == category_id)
    rows = _counts(session, led, lead.organisation_id, now)
    _medians(session, led, lead.organisation_id, rows)
    by_category: dict[int, list[ResponseTimes]] = {}
    overall: dict[int, ResponseTimes] = {}
    order = {cid: i for i, cid in enumerate(category_ids)}
    for (org_id, cat_id), row in sorted(rows.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1] or -1, 10**9))):
        if cat_id is None:
            overall[org_id] = row
        else:
            by_category.setdefault(org_id, []).append(row)
    for org_id in organisation_ids:
        by_category.setdefault(org_id, [])
        overall.setdefault(org_id, ResponseTimes(org_id, None))
    return Performance(by_category, overall, _ages(session, organisation_ids, category_id=category_id, now=now))


def _counts(
    session: Session, led: sa.Select[Any], org_column: Any, now: dt.datetime
) -> dict[tuple[int, int | None], ResponseTimes]:
    """Counts and within-target shares per (organisation, category), plus each organisation's
    all-categories row (category None), summed from them."""
    resolved = sa.and_(Report.resolved_at.is_not(None), Report.status.in_(_DONE))

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    query = led.add_columns(
        org_column,
        Report.category_id,
        sa.func.count(),
        sa.func.count(Report.acknowledged_at),
        count_if(sa.and_(Report.acknowledged_at.is_not(None), Report.acknowledged_at <= Report.acknowledge_due_at)),
        count_if(
            sa.and_(
                Report.acknowledge_due_at.is_not(None),
                sa.or_(Report.acknowledged_at.is_not(None), Report.acknowledge_due_at < now),
            )
        ),
        count_if(resolved),
        count_if(sa.and_(resolved, Report.resolved_at <= Report.resolve_due_at)),
        count_if(
            sa.and_(
                Report.resolve_due_at.is_not(None),
                sa.or_(resolved, sa.and_(Report.status.in_(_OPEN), Report.resolve_due_at < now)),
            )
        ),
    ).group_by(org_column, Report.category_id)
    found: dict[tuple[int, int | None], ResponseTimes] = {}
    for org_id, cat_id, cases, acked, ack_in, ack_known, n_resolved, res_in, res_known in session.execute(query):
        row = ResponseTimes(
            org_id,
            cat_id,
            cases=cases,
            acknowledged=acked,
            acknowledge_share=Share(int(ack_in), int(ack_known)),
            resolved=int(n_resolved),
            resolve_share=Share(int(res_in), int(res_known)),
        )
        found[(org_id, cat_id)] = row
        total = found.setdefault((org_id, None), ResponseTimes(org_id, None))
        total.cases += row.cases
        total.acknowledged += row.acknowledged
        total.acknowledge_share += row.acknowledge_share
        total.resolved += row.resolved
        total.resolve_share += row.resolve_share
    return found


def _medians(
    session: Session,
    led: sa.Select[Any],
    org_column: Any,
    rows: dict[tuple[int, int | None], ResponseTimes],
) -> None:
    """Fill in the median times to acknowledge and to resolve, per (organisation, category)
    and per organisation, in one query.

    Each duration is numbered within its group (``row_number``) and the group counted
    (``count``); the median is the mean of the middle one or two: those with
    ``n <= 2 * rn <= n + 2`` (rn 3 of 5; rn 2 and 3 of 4).
    """
    resolved = sa.and_(Report.resolved_at.is_not(None), Report.status.in_(_DONE))
    # The led cases are read once (a CTE used four times, which both databases materialise);
    # each duration is NULL where there is none (not acknowledged, or not resolved).
    cases = led.add_columns(
        org_column.label("org"),
        Report.category_id.label("cat"),
        seconds_between(Report.published_at, Report.acknowledged_at).label("acknowledge"),
        sa.case((resolved, seconds_between(Report.published_at, Report.resolved_at)), else_=sa.null()).label("resolve"),
    ).cte("led_cases")
    parts = []
    for name in ("acknowledge", "resolve"):
        duration = cases.c[name]
        for by_category in (True, False):
            keys = [cases.c.org, cases.c.cat] if by_category else [cases.c.org]
            numbered = (
                sa.select(
                    cases.c.org,
                    (cases.c.cat if by_category else sa.cast(sa.null(), sa.Integer)).label("cat"),
                    duration.label("v"),
                    sa.func.row_number().over(partition_by=keys, order_by=duration).label("rn"),
                    sa.func.count().over(partition_by=keys).label("n"),
                )
                .where(duration.is_not(None))
                .subquery()
            )
            parts.append(
                sa.select(
                    numbered.c.org,
                    numbered.c.cat,
                    sa.literal(name).label("measure"),
                    sa.func.avg(numbered.c.v).label("median"),
                )
                .where(numbered.c.rn * 2 >= numbered.c.n, numbered.c.rn * 2 <= numbered.c.n + 2)
                .group_by(numbered.c.org, numbered.c.cat)
            )
    for org_id, cat_id, name, median in session.execute(sa.union_all(*parts)):
        row = rows.get((org_id, cat_id))
        if row is None or median is None:
            continue
        value = dt.timedelta(seconds=round(float(median)))
        if name == "acknowledge":
            row.median_acknowledge = value
        else:
            row.median_resolve = value


def _ages(
    session: Session, organisation_ids: list[int], *, category_id: int | None, now: dt.datetime
) -> dict[int, AgeProfile]:
    """Open cases per organisation and age bucket: led by it, or routed to it and led by nobody."""
    bucket = sa.case(
        *[
            (Report.published_at > now - dt.timedelta(days=upper), i)
            for i, (_, _, upper) in enumerate(AGE_BUCKETS)
            if upper is not None
        ],
        else_=len(AGE_BUCKETS) - 1,
    )
    common: list[sa.ColumnElement[bool]] = [Report.published_at.is_not(None), Report.status.in_(_OPEN)]
    if category_id is not None:
        common.append(Report.category_id == category_id)
    lead = aliased(CaseClaim)
    led = (
        sa.select(lead.organisation_id, sa.literal("led").label("kind"), bucket.label("bucket"), sa.func.count())
        .select_from(Report)
        .join(lead, sa.and_(lead.report_id == Report.id, lead.role == ClaimRole.LEAD))
        .where(lead.organisation_id.in_(organisation_ids), *common)
        .group_by(lead.organisation_id, bucket)
    )
    anyone_leads = sa.exists().where(CaseClaim.report_id == Report.id, CaseClaim.role == ClaimRole.LEAD)
    routed = (
        sa.select(
            CaseRoute.organisation_id, sa.literal("routed").label("kind"), bucket.label("bucket"), sa.func.count()
        )
        .select_from(Report)
        .join(CaseRoute, CaseRoute.report_id == Report.id)
        .where(
            CaseRoute.organisation_id.in_(organisation_ids),
            CaseRoute.declined_at.is_(None),
            ~anyone_leads,
            *common,
        )
        .group_by(CaseRoute.organisation_id, bucket)
    )
    profiles = {org_id: AgeProfile(org_id) for org_id in organisation_ids}
    for org_id, kind, index, count in session.execute(sa.union_all(led, routed)):
        target = profiles[org_id].led if kind == "led" else profiles[org_id].routed
        target[int(index)] += int(count)
    return profiles


# --- Reading the period from the form -----------------------------------------------------------

_PARTS = ("day", "month", "year")


def parse_period(values: dict[str, str], *, now: dt.datetime) -> tuple[Period, dict[str, str]]:
    """Read the GOV.UK date inputs ``from-day``, ``from-month``, ``from-year``, ``to-day``, ...

    A date left blank takes its default (the last ``DEFAULT_DAYS`` days, today included).
    Returns the period and {id of the field to fix: message}; with errors, the period is the
    default one. Raises nothing.
    """
    default = Period.default(now)
    today = now.astimezone(LONDON).date()
    errors: dict[str, str] = {}
    chosen: dict[str, dt.date] = {}
    for key, label, fallback in (("from", "Start date", default.first), ("to", "End date", default.last)):
        parts = {p: (values.get(f"{key}-{p}") or "").strip() for p in _PARTS}
        if not any(parts.values()):
            chosen[key] = fallback
            continue
        missing = [p for p in _PARTS if not parts[p]]
        if missing:
            errors[f"{key}-{missing[0]}"] = f"{label} must include a {' and '.join(missing)}"
            continue
        if not all(parts[p].isdigit() for p in _PARTS):
            errors[f"{key}-day"] = f"{label} must be a real date"
            continue
        if len(parts["year"]) != 4:
            errors[f"{key}-year"] = f"{label} year must include 4 numbers"
            continue
        try:
            day = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            errors[f"{key}-day"] = f"{label} must be a real date"
            continue
        if day > today:
            errors[f"{key}-day"] = f"{label} must be today or in the past"
            continue
        chosen[key] = day
    if not errors and chosen["to"] < chosen["from"]:
        errors["to-day"] = "End date must be the same as or after the start date"
    if errors:
        return default, errors
    return Period(chosen["from"], chosen["to"]), {}
