"""Demo cases: the demo partners' inboxes hold cases at every stage, and the rules still hold."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.coordination import queries
from app.coordination.demo import load_demo_cases
from app.coordination.models import CaseClaim, CaseEvent, CaseRoute, ClaimRole
from app.partners.demo import load_demo_accounts
from app.reports.demo import generate
from app.reports.models import Report, ReportStatus

END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_demo_cases_are_realistic_and_keep_the_rules(app: Flask, db_session: Session) -> None:
    """Do recent demo reports get routes, one lead wherever past new, declines and history, once only?"""
    load_demo_accounts(db_session)
    list(generate(db_session, count=2000, seed=3, data_dir=app.config["GEO_DATA_DIR"], end=END))
    routed = load_demo_cases(db_session, now=END, seed=3)
    assert routed > 50
    leads = Counter(db_session.scalars(sa.select(CaseClaim.report_id).where(CaseClaim.role == ClaimRole.LEAD)))
    assert leads and max(leads.values()) == 1
    assert db_session.scalar(sa.select(sa.func.count()).where(CaseClaim.role == ClaimRole.SUPPORTING)) > 0
    assert db_session.scalar(sa.select(sa.func.count()).where(CaseRoute.declined_at.is_not(None))) > 0
    # Every routed report past new has a lead; new ones have none.
    routed_ids = set(db_session.scalars(sa.select(CaseRoute.report_id)))
    statuses = dict(db_session.execute(sa.select(Report.id, Report.status).where(Report.id.in_(routed_ids))).all())
    assert {rid for rid, s in statuses.items() if s != ReportStatus.NEW} == set(leads)
    assert set(statuses.values()) >= {ReportStatus.NEW, ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) > len(routed_ids)
    # Running it again adds nothing.
    assert load_demo_cases(db_session, now=END, seed=3) == 0
    # Each routed report shows in the inbox of an organisation it went to.
    some_route = db_session.scalars(sa.select(CaseRoute).where(CaseRoute.declined_at.is_(None))).first()
    assert some_route is not None
    rows, total = queries.inbox(
        db_session, some_route.organisation, queries.InboxFilter(), page=1, per_page=10_000, now=END
    )
    assert some_route.report_id in {r.report.id for r in rows} and total == len(rows)


def test_demo_casework_gives_cases_targets_updates_actions_notes_and_hand_offs(app: Flask, db_session: Session) -> None:
    """After the demo load, do demo organisations have response targets, does every status change
    have its public update, do led cases have actions (some overdue), supported cases notes, and
    a few leads an open hand-off offer to their supporter, once only?"""
    from app.coordination.actions import today
    from app.coordination.demo_casework import load_demo_casework, load_demo_targets
    from app.coordination.models import (
        CaseAction,
        CaseHandoff,
        CaseMessage,
        EventKind,
        HandoffState,
        MessageKind,
        ResponseTarget,
    )

    load_demo_accounts(db_session)
    list(generate(db_session, count=2000, seed=3, data_dir=app.config["GEO_DATA_DIR"], end=END))
    assert load_demo_targets(db_session) > 0
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ResponseTarget)) > 0
    load_demo_cases(db_session, now=END, seed=3)
    counts = load_demo_casework(db_session, now=END, seed=3)
    assert min(counts.values()) > 0, counts

    changes = db_session.scalar(
        sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.kind == EventKind.STATUS_CHANGED)
    )
    updates = db_session.scalar(
        sa.select(sa.func.count()).select_from(CaseMessage).where(CaseMessage.kind == MessageKind.PUBLIC_UPDATE)
    )
    assert changes == updates > 0
    actions = list(db_session.scalars(sa.select(CaseAction)))
    assert any(a.status.is_open and a.due_on < today(END) for a in actions), "some actions are overdue"
    assert any(a.status.is_open and a.due_on >= today(END) for a in actions), "some are on time"
    # Every action belongs to an organisation with a claim on its case.
    claimed = set(db_session.execute(sa.select(CaseClaim.report_id, CaseClaim.organisation_id)).tuples())
    assert all((a.report_id, a.organisation_id) in claimed for a in actions)
    offers = list(db_session.scalars(sa.select(CaseHandoff)))
    assert offers and all(o.state == HandoffState.OFFERED for o in offers)
    assert all((o.report_id, o.to_organisation_id) in claimed for o in offers)
    # Running it again adds nothing.
    assert load_demo_targets(db_session) == 0
    assert set(load_demo_casework(db_session, now=END, seed=3).values()) == {0}
