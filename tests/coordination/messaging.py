"""Helpers for the tests of public updates, notes, mentions, replies and merges."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.coordination import queries
from app.coordination.claims import claim_case
from app.coordination.models import Case
from app.mail.models import OutboxEmail
from app.reports.models import Report
from tests.coordination.conftest import Partners


def case_of(session: Session, report: Report) -> Case:
    """The case of ``report`` as it is now."""
    found = queries.load_case(session, report.id)
    assert found is not None
    return found


def led_by_council(session: Session, partners: Partners, report: Report, *, police_supports: bool = True) -> Case:
    """Council claims the lead of ``report`` (acknowledging it); police supports it if asked."""
    claim_case(session, report, partners.council, role="lead", by=partners.council_member)
    if police_supports:
        claim_case(session, report, partners.police, role="supporting", by=partners.police_member)
    return case_of(session, report)


def emails(session: Session, kind: str | None = None) -> list[OutboxEmail]:
    """Queued emails, oldest first, of one kind (template name) if given."""
    query = sa.select(OutboxEmail).order_by(OutboxEmail.id)
    if kind is not None:
        query = query.where(OutboxEmail.kind == kind)
    return list(session.scalars(query))


def addresses(session: Session, kind: str) -> list[str]:
    return [e.to_address for e in emails(session, kind)]
