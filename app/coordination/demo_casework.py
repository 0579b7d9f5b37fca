"""Demo casework: response targets, public updates, internal notes, actions and lead hand-offs
for the demo cases (demo mode only), so the demo partners' cases look worked on.

``load_demo_targets`` runs before ``app.coordination.demo.load_demo_cases`` (whose deadlines
read the targets); ``load_demo_casework`` runs after it and works from what it wrote: every
status change in the history gets its public update, led cases get actions (some overdue),
cases with a supporting partner get a case-wide note, and a few leads have offered the lead to
their supporting partner. Written in bulk like the rest of the demo data, with history events;
nobody is emailed. Running either again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.coordination.actions import today
from app.coordination.models import (
    ActionStatus,
    CaseAction,
    CaseClaim,
    CaseEvent,
    CaseHandoff,
    CaseMessage,
    ClaimRole,
    EventKind,
    HandoffState,
    MessageKind,
    NoteAudience,
    ResponseTarget,
)
from app.partners.models import Organisation, OrganisationCategory
from app.reports.models import Category, Report, ReportStatus, Sector

# (sector, category slug) → (acknowledge working minutes, acknowledge days, resolve days).
# Police answer anti-social behaviour and drug dealing within hours; councils take the
# standard two days to acknowledge street problems but fix potholes and lights within set days.
DEMO_TARGETS: dict[tuple[Sector, str], tuple[int | None, int | None, int]] = {
    (Sector.POLICE, "anti-social-behaviour"): (4 * 60, None, 10),
    (Sector.POLICE, "drug-dealing"): (4 * 60, None, 15),
    (Sector.COUNCIL, "potholes-pavements"): (None, 2, 10),
    (Sector.COUNCIL, "street-lighting"): (None, 2, 7),
    (Sector.COUNCIL, "fly-tipping"): (None, 1, 5),
    (Sector.HEALTH, "welfare-concern"): (2 * 60, None, 5),
}

UPDATES = {
    ReportStatus.IN_PROGRESS: (
        "We have looked at this and booked the work. We will update you when it is done.",
        "An officer visited today. We are arranging the next steps with our partners.",
        "This is with our team now, and we expect to start within the week.",
    ),
    ReportStatus.RESOLVED: (
        "The work is done. Thank you for telling us: reply if anything is still wrong.",
        "We have cleared this today. Please let us know if it happens again.",
        "Fixed. Our team checked the site afterwards.",
    ),
    ReportStatus.CLOSED: (
        "We have looked into this and there is nothing further we can do at the moment.",
        "We have checked and no further action is needed. Thank you for reporting it.",
    ),
}
ACTIONS = (
    ("Visit the site and assess", "Take photos and note anything unsafe."),
    ("Book the contractor", "Standard job: check the schedule for this ward."),
    ("Check back with the resident", "Confirm the problem is gone."),
    ("Share findings with partners", "Post an internal note with what we found."),
)
NOTES = (
    "We have a patrol nearby on Thursday evening and can look in.",
    "Our records show a similar report here last spring: same cause, it seems.",
    "Happy to support. Please tag us when the visit is booked.",
)
HANDOFF_REASON = "Your team is better placed: the site is on land you manage."


def load_demo_targets(session: Session) -> int:
    """Give the demo organisations response targets for the categories in ``DEMO_TARGETS``
    that they cover; returns how many it added (0 if any targets exist already)."""
    if session.scalar(sa.select(ResponseTarget.id).limit(1)) is not None:
        return 0
    slugs = {slug for _, slug in DEMO_TARGETS}
    categories: dict[int, str] = {
        row.id: row.slug
        for row in session.execute(sa.select(Category.id, Category.slug).where(Category.slug.in_(slugs)))
    }
    rows = session.execute(
        sa.select(Organisation.id, Organisation.sector, OrganisationCategory.category_id)
        .join(OrganisationCategory, OrganisationCategory.organisation_id == Organisation.id)
        .where(Organisation.is_demo.is_(True), OrganisationCategory.category_id.in_(categories))
    ).all()
    targets = []
    for org_id, sector, category_id in rows:
        found = DEMO_TARGETS.get((sector, categories[category_id]))
        if found is None:
            continue
        minutes, days, resolve_days = found
        targets.append(
            {
                "organisation_id": org_id,
                "category_id": category_id,
                "acknowledge_minutes": minutes,
                "acknowledge_days": days,
                "resolve_minutes": None,
                "resolve_days": resolve_days,
            }
        )
    if targets:
        session.execute(sa.insert(ResponseTarget), targets)
    return len(targets)


def load_demo_casework(session: Session, *, now: dt.datetime, seed: int = 2026) -> dict[str, int]:
    """Add public updates, notes, actions and hand-off offers to the demo cases; returns how
    many of each it added (all 0 if there are messages already)."""
    if session.scalar(sa.select(CaseMessage.id).limit(1)) is not None:
        return {"updates": 0, "notes": 0, "actions": 0, "handoffs": 0}
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    labels = {o.id: o.label for o in session.scalars(sa.select(Organisation))}
    members: dict[int, list[int]] = {}
    for org in session.scalars(sa.select(Organisation)):
        members[org.id] = sorted(m.user_id for m in org.memberships)
    changes = session.execute(
        sa.select(CaseEvent.report_id, CaseEvent.at, CaseEvent.actor_id, CaseEvent.organisation_id, CaseEvent)
        .where(CaseEvent.kind == EventKind.STATUS_CHANGED)
        .order_by(CaseEvent.report_id, CaseEvent.at)
    ).all()
    messages: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for report_id, at, actor_id, org_id, event in changes:
        target = ReportStatus(event.new_value)
        if target == ReportStatus.ACKNOWLEDGED:
            body = event.detail or f"Acknowledged by {labels.get(org_id, 'the council')}."
        else:
            body = rng.choice(UPDATES.get(target, UPDATES[ReportStatus.IN_PROGRESS]))
        messages.append(_message(report_id, at, actor_id, org_id, labels, MessageKind.PUBLIC_UPDATE, body, event))
        events.append(_event(report_id, at, actor_id, org_id, EventKind.PUBLIC_UPDATE, detail=body))

    claims = session.execute(
        sa.select(CaseClaim.report_id, CaseClaim.organisation_id, CaseClaim.role, CaseClaim.claimed_at, Report.status)
        .join(Report, Report.id == CaseClaim.report_id)
        .order_by(CaseClaim.report_id, CaseClaim.id)
    ).all()
    leads = {r: (org, at, status) for r, org, role, at, status in claims if role == ClaimRole.LEAD}
    supporters = {r: (org, at) for r, org, role, at, _ in claims if role == ClaimRole.SUPPORTING}
    notes = 0
    for report_id, (org_id, at) in supporters.items():
        author = _member(members, org_id, rng)
        noted = min(at + dt.timedelta(hours=rng.uniform(1, 48)), now)
        body = rng.choice(NOTES)
        messages.append(_message(report_id, noted, author, org_id, labels, MessageKind.INTERNAL_NOTE, body, None))
        events.append(_event(report_id, noted, author, org_id, EventKind.NOTE_ADDED, detail="For every organisation"))
        notes += 1

    actions: list[dict[str, Any]] = []
    local_today = today(now)
    for report_id, (org_id, claimed_at, status) in leads.items():
        if status == ReportStatus.CLOSED or rng.random() < 0.3:
            continue
        for title, details in rng.sample(ACTIONS, rng.randint(1, 2)):
            owner = org_id if report_id not in supporters or rng.random() < 0.7 else supporters[report_id][0]
            assignee = _member(members, owner, rng)
            created = min(claimed_at + dt.timedelta(hours=rng.uniform(0.5, 24)), now)
            due_on = created.date() + dt.timedelta(days=rng.randint(2, 14))
            if status == ReportStatus.RESOLVED:
                state, note = ActionStatus.DONE, "Done as planned."
            elif due_on < local_today and rng.random() < 0.5:
                state, note = ActionStatus.DONE, "Done."
            else:
                # Open: those already past their due date show as overdue.
                state, note = rng.choice((ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)), ""
            actions.append(
                {
                    "report_id": report_id,
                    "organisation_id": owner,
                    "title": title,
                    "details": details,
                    "assignee_id": assignee,
                    "due_on": due_on,
                    "status": state,
                    "completion_note": note,
                    "created_by_id": assignee,
                    "created_at": created,
                    "updated_at": created,
                    "completed_at": created if state == ActionStatus.DONE else None,
                }
            )
            events.append(_event(report_id, created, assignee, owner, EventKind.ACTION_ADDED, new=title))

    handoffs: list[dict[str, Any]] = []
    open_with_support = [r for r, (_, _, status) in leads.items() if r in supporters and status.is_open]
    for report_id in rng.sample(open_with_support, min(4, len(open_with_support))):
        lead_org, claimed_at, _ = leads[report_id]
        to_org = supporters[report_id][0]
        offered_by = _member(members, lead_org, rng)
        offered = min(claimed_at + dt.timedelta(hours=rng.uniform(2, 72)), now)
        handoffs.append(
            {
                "report_id": report_id,
                "from_organisation_id": lead_org,
                "to_organisation_id": to_org,
                "reason": HANDOFF_REASON,
                "state": HandoffState.OFFERED,
                "offered_by_id": offered_by,
                "offered_at": offered,
                "answer": "",
            }
        )
        events.append(
            _event(
                report_id,
                offered,
                offered_by,
                lead_org,
                EventKind.HANDOFF_OFFERED,
                old=labels[lead_org],
                new=labels[to_org],
                detail=HANDOFF_REASON,
            )
        )
    for table, rows in ((CaseMessage, messages), (CaseAction, actions), (CaseHandoff, handoffs), (CaseEvent, events)):
        if rows:
            session.execute(sa.insert(table), rows)
    return {"updates": len(changes), "notes": notes, "actions": len(actions), "handoffs": len(handoffs)}


def _member(members: dict[int, list[int]], org_id: int, rng: random.Random) -> int | None:
    return rng.choice(members[org_id]) if members.get(org_id) else None


def _message(
    report_id: int,
    at: dt.datetime,
    author_id: int | None,
    org_id: int | None,
    labels: dict[int, str],
    kind: MessageKind,
    body: str,
    change: CaseEvent | None,
) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "kind": kind,
        "audience": NoteAudience.PUBLIC if kind == MessageKind.PUBLIC_UPDATE else NoteAudience.CASE,
        "organisation_id": org_id,
        "author_id": author_id,
        "author_name": labels.get(org_id, "Council") if org_id else "Council",
        "body": body,
        "status_from": change.old_value if change else None,
        "status_to": change.new_value if change else None,
        "created_at": at,
    }


def _event(
    report_id: int,
    at: dt.datetime,
    actor_id: int | None,
    org_id: int | None,
    kind: EventKind,
    *,
    old: str = "",
    new: str = "",
    detail: str = "",
) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "at": at,
        "actor_id": actor_id,
        "organisation_id": org_id,
        "kind": kind,
        "old_value": old[:100],
        "new_value": new[:100],
        "detail": detail[:500],
    }
