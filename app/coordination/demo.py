"""Demo cases: routes, claims and history for the recent demo reports, so the demo partners'
inboxes hold cases at every stage (demo mode only, after ``app.reports.demo.generate``).

Written straight into the tables in bulk, like the demo reports themselves, so 5,000 reports
take well under a second. The rules still hold: routes follow each organisation's coverage
(reports nobody covers stay in triage), at most one lead per report, a lead wherever the
report's status is past new, and a history event for every route, decline, claim and status.
There are no audit events: nobody did these things. Running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.coordination.models import CaseClaim, CaseEvent, CaseRoute, ClaimRole, EventKind
from app.coordination.routing import NO_MATCH
from app.partners.models import Organisation
from app.reports.models import Report, ReportStatus

DEMO_DAYS = 60
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
        sa.select(Report.id, Report.ward_code, Report.category_id, Report.status, Report.published_at)
        .where(Report.published_at >= now - dt.timedelta(days=days))
        .order_by(Report.id)
    ).all()
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
    for report_id, ward, category_id, status, published in reports:
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
                }
            )
            event(report_id, published, EventKind.ROUTED, org, new=org.label, detail="Coverage")
        elapsed = max(now - published, dt.timedelta(minutes=5))
        if status == ReportStatus.NEW:
            # Some organisations have declined; the rest have not looked yet.
            if len(matched) > 1 and rng.random() < 0.3:
                org = matched[-1]
                at = published + elapsed * rng.uniform(0.1, 0.6)
                routes[-1].update(declined_at=at, decline_reason=rng.choice(DECLINE_REASONS))
                event(report_id, at, EventKind.DECLINED, org, old=org.label, detail=routes[-1]["decline_reason"])
            continue
        lead = rng.choice(matched)
        claimed_at = published + elapsed * rng.uniform(0.05, 0.3)
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
