"""Demo cases: routes, claims and history for the recent demo reports, so the demo partners'
inboxes hold cases at every stage (demo mode only, after ``app.reports.demo.generate``).

Written straight into the tables in bulk, like the demo reports themselves, so 5,000 reports
take well under a second. The rules still hold: routes follow each organisation's coverage
(reports nobody covers stay in triage), at most one lead per report, a lead wherever the
report's status is past new, and a history event for every route, decline, claim and status.
There are no audit events: nobody did these things. Running it again adds nothing.

Lifecycle times and deadlines are set as the services would have set them: each route's
acknowledgement deadline from the organisation's targets and working hours, the report's as the
earliest of them, ``acknowledged_at`` when the lead claimed it, the lead's resolution deadline,
and ``resolved_at`` or ``closed_at`` (with a reason) for resolved and closed reports. The delays
are drawn so that most cases meet their targets and some do not, and older open cases are
overdue, as in a real inbox.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.coordination.deadlines import DEFAULT, hours_of, targets_of
from app.coordination.models import CaseClaim, CaseEvent, CaseRoute, ClaimRole, EventKind, ResponseTarget
from app.coordination.routing import NO_MATCH
from app.coordination.working_time import Targets, targets_for
from app.partners.models import Organisation
from app.reports.models import CloseReason, Report, ReportStatus

DEMO_DAYS = 60
# How long demo partners take, in calendar time after publication: log-normal, so most cases
# are acknowledged within hours and resolved within a week or two, with a long tail of late ones
# (about one in ten misses its acknowledgement target, more miss the resolution target).
ACKNOWLEDGE_MEDIAN_HOURS = 10.0
ACKNOWLEDGE_SPREAD = 1.4
RESOLVE_MEDIAN_DAYS = 8.0
RESOLVE_SPREAD = 0.9
CLOSE_REASONS = (CloseReason.NOT_ACTIONABLE, CloseReason.NO_FURTHER_ACTION)
DECLINE_REASONS = (
    "Not on land we manage: the landowner is responsible",
    "Outside what our team deals with",
    "Already dealt with under another report",
)


def load_demo_cases(session: Session, *, now: dt.datetime, seed: int = 2026, days: int = DEMO_DAYS) -> int:
    """Route the demo reports published in the last ``days`` days and give them claims and
    history; returns how many reports it routed (0 if there are cases already)."""
    if session.scalar(sa.select(CaseRoute.id).limit(1)) is not None:
        return 0
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    organisations = list(session.scalars(sa.select(Organisation).where(Organisation.active.is_(True))))
    coverage = [(o, o.ward_codes, o.category_ids) for o in organisations]
    members = {o.id: sorted(m.user_id for m in o.memberships) for o in organisations}
    reports = session.execute(
        sa.select(Report.id, Report.ward_code, Report.category_id, Report.status, Report.published_at, Report.priority)
        .where(Report.published_at >= now - dt.timedelta(days=days))
        .order_by(Report.id)
    ).all()
    standard = {(t.organisation_id, t.category_id): targets_of(t) for t in session.scalars(sa.select(ResponseTarget))}

    def targets(org: Organisation, category_id: int, priority: Any) -> Targets:
        found = standard.get((org.id, category_id), DEFAULT)
        return targets_for(priority, found.acknowledge, found.resolve)

    lifecycle: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def event(report_id: int, at: dt.datetime, kind: EventKind, org: Organisation | None, **values: Any) -> None:
        actor = (
            rng.choice(members[org.id])
            if org is not None and members.get(org.id) and kind != EventKind.ROUTED
            else None
        )
        events.append(
            {
                "report_id": report_id,
                "at": at,
                "actor_id": actor,
                "organisation_id": org.id if org else None,
                "kind": kind,
                "old_value": values.get("old", ""),
                "new_value": values.get("new", ""),
                "detail": values.get("detail", ""),
            }
        )

    routed = 0
    for report_id, ward, category_id, status, published, priority in reports:
        matched = sorted(
            (o for o, wards, cats in coverage if ward in wards and category_id in cats), key=lambda o: o.name
        )
        if not matched:
            event(report_id, published, EventKind.TO_TRIAGE, None, detail=NO_MATCH)
            continue
        routed += 1
        for org in matched:
            routes.append(
                {
                    "report_id": report_id,
                    "organisation_id": org.id,
                    "routed_at": published,
                    "reason": "",
                    "decline_reason": "",
                    "acknowledge_due_at": targets(org, category_id, priority).acknowledge.deadline(
                        published, hours_of(org)
                    ),
                }
            )
            event(report_id, published, EventKind.ROUTED, org, new=org.label, detail="Coverage")
        times: dict[str, Any] = {"id": report_id}
        lifecycle.append(times)
        elapsed = max(now - published, dt.timedelta(minutes=5))
        if status == ReportStatus.NEW:
            # Some organisations have declined; the rest have not looked yet.
            if len(matched) > 1 and rng.random() < 0.3:
                org = matched[-1]
                at = published + elapsed * rng.uniform(0.1, 0.6)
                routes[-1].update(declined_at=at, decline_reason=rng.choice(DECLINE_REASONS), acknowledge_due_at=None)
                event(report_id, at, EventKind.DECLINED, org, old=org.label, detail=routes[-1]["decline_reason"])
            # The earliest deadline of the organisations it is still with (deadlines.refresh).
            times["acknowledge_due_at"] = min(
                r["acknowledge_due_at"] for r in routes[-len(matched) :] if r["acknowledge_due_at"] is not None
            )
            for r in routes[-len(matched) :]:
                r["due_at"] = r["acknowledge_due_at"]  # deadlines.route_due_at: nobody leads it yet
            continue
        # Acknowledged before now; the deadline is kept as it stood then (all routes live).
        times["acknowledge_due_at"] = min(r["acknowledge_due_at"] for r in routes[-len(matched) :])
        lead = rng.choice(matched)
        delay = dt.timedelta(hours=rng.lognormvariate(math.log(ACKNOWLEDGE_MEDIAN_HOURS), ACKNOWLEDGE_SPREAD))
        claimed_at = published + min(delay, elapsed * 0.5)
        times["acknowledged_at"] = claimed_at
        times["resolve_due_at"] = targets(lead, category_id, priority).resolve.deadline(published, hours_of(lead))
        for r in routes[-len(matched) :]:
            r["due_at"] = times["resolve_due_at"] if status.is_open else None  # deadlines.route_due_at
        claims.append(_claim(report_id, lead, ClaimRole.LEAD, claimed_at, members, rng))
        event(report_id, claimed_at, EventKind.CLAIMED, lead, new="lead")
        event(
            report_id,
            claimed_at,
            EventKind.STATUS_CHANGED,
            lead,
            old="new",
            new="acknowledged",
            detail=f"Acknowledged by {lead.label}.",
        )
        others = [o for o in matched if o is not lead]
        if others and rng.random() < 0.4:
            helper = rng.choice(others)
            at = claimed_at + elapsed * rng.uniform(0.0, 0.2)
            claims.append(_claim(report_id, helper, ClaimRole.SUPPORTING, at, members, rng))
            event(report_id, at, EventKind.CLAIMED, helper, new="supporting")
        if status != ReportStatus.ACKNOWLEDGED:
            at = claimed_at + (now - claimed_at) * rng.uniform(0.3, 0.9)
            if status in {ReportStatus.RESOLVED, ReportStatus.CLOSED}:
                took = dt.timedelta(days=rng.lognormvariate(math.log(RESOLVE_MEDIAN_DAYS), RESOLVE_SPREAD))
                at = min(
                    max(published + took, claimed_at + dt.timedelta(minutes=30)), claimed_at + (now - claimed_at) * 0.95
                )
            if status == ReportStatus.RESOLVED:
                times["resolved_at"] = at
            elif status == ReportStatus.CLOSED:
                times.update(closed_at=at, close_reason=rng.choice(CLOSE_REASONS))
            event(
                report_id,
                at,
                EventKind.STATUS_CHANGED,
                lead,
                old="acknowledged",
                new=status.value,
                detail="Demo history",
            )
    for row in routes:
        row.setdefault("declined_at", None)
    if routes:
        session.execute(sa.insert(CaseRoute), routes)
    if claims:
        session.execute(sa.insert(CaseClaim), claims)
    if events:
        session.execute(sa.insert(CaseEvent), events)
    if lifecycle:
        # One bulk UPDATE by primary key; every row names the same columns (None where unset).
        columns = (
            "acknowledge_due_at",
            "acknowledged_at",
            "resolve_due_at",
            "resolved_at",
            "closed_at",
            "close_reason",
        )
        session.execute(sa.update(Report), [{c: row.get(c) for c in ("id", *columns)} for row in lifecycle])
    return routed


def _claim(
    report_id: int,
    org: Organisation,
    role: ClaimRole,
    at: dt.datetime,
    members: dict[int, list[int]],
    rng: random.Random,
) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "organisation_id": org.id,
        "role": role,
        "claimed_at": at,
        "claimed_by_id": rng.choice(members[org.id]) if members.get(org.id) else None,
    }
