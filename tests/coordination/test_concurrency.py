"""Two organisations claim the lead of the same case at the same instant, over two real
database connections each in its own transaction. Exactly one may win.

Runs on whichever database ``--db`` names and must pass on PostGIS, where the loser waits on
the one-lead index until the winner commits and then gets the unique violation. On SQLite the
second writer gets the unique violation or "database is locked"; either way there is one lead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.claims import claim_case
from app.coordination.errors import ClaimConflict
from app.coordination.models import CaseClaim, ClaimRole
from app.db import utcnow
from app.partners.models import Organisation
from app.reports.models import Report, ReportStatus
from tests.coordination.racing import add_member, add_organisation, own_database, published_report, run_together


@pytest.fixture
def race(db_kind: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, dict[str, int]]]:
    """A database of its own (the tests commit), with a report routed to two organisations."""

    def setup(session: Session) -> dict[str, int]:
        ids: dict[str, int] = {}
        for key in ("a", "b"):
            org = add_organisation(session, key, covers=True)
            ids[f"org_{key}"], ids[f"user_{key}"] = org.id, add_member(session, org, f"{key}@example.org").id
        ids["report"] = published_report(session).id
        return ids

    with own_database(db_kind, tmp_path, "race", setup) as made:
        yield made


def leads(engine: sa.Engine, report_id: int) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(CaseClaim.organisation_id).where(
                    CaseClaim.report_id == report_id, CaseClaim.role == ClaimRole.LEAD
                )
            )
        )


def test_two_connections_inserting_a_lead_claim_at_once_leave_exactly_one(
    race: tuple[sa.Engine, dict[str, int]], db_kind: str
) -> None:
    """When two transactions insert a lead claim for one report at once, does exactly one commit?"""
    engine, ids = race

    def insert(key: str, barrier: threading.Barrier) -> str:
        with engine.connect() as conn:
            conn.begin()
            barrier.wait()
            conn.execute(
                sa.insert(CaseClaim).values(
                    report_id=ids["report"],
                    organisation_id=ids[f"org_{key}"],
                    role=ClaimRole.LEAD,
                    claimed_at=utcnow(),
                    claimed_by_id=ids[f"user_{key}"],
                )
            )
            conn.commit()
        return "committed"

    outcomes = run_together(insert)
    committed = [k for k, v in outcomes.items() if v == "committed"]
    assert len(committed) == 1, outcomes
    loser = outcomes["b" if committed == ["a"] else "a"]
    if db_kind == "postgis":
        assert isinstance(loser, IntegrityError) and "uq_case_claims_one_lead" in str(loser)
    else:
        assert isinstance(loser, IntegrityError | OperationalError), loser
    assert leads(engine, ids["report"]) == [ids[f"org_{committed[0]}"]]


def test_two_organisations_claiming_the_lead_at_once_one_wins_and_the_other_is_told_who(
    race: tuple[sa.Engine, dict[str, int]], db_kind: str
) -> None:
    """When two organisations claim the lead at once, does one win and the other learn who leads?"""
    engine, ids = race

    def claim(key: str, barrier: threading.Barrier) -> str:
        with Session(engine, expire_on_commit=False) as session:
            report = session.get(Report, ids["report"])
            organisation = session.get(Organisation, ids[f"org_{key}"])
            person = session.get(User, ids[f"user_{key}"])
            assert report is not None and organisation is not None and person is not None
            person.memberships  # noqa: B018  (loaded before the race, not during it)
            barrier.wait()
            claim_case(session, report, organisation, role="lead", by=person)
            session.commit()
        return "won"

    outcomes = run_together(claim)
    winners = [k for k, v in outcomes.items() if v == "won"]
    assert len(winners) == 1, outcomes
    loser = outcomes["b" if winners == ["a"] else "a"]
    if db_kind == "postgis":
        assert isinstance(loser, ClaimConflict), loser
        assert loser.lead.id == ids[f"org_{winners[0]}"]
        assert f"Org {winners[0]} leads this case now" in str(loser)
    else:
        assert isinstance(loser, ClaimConflict | IntegrityError | OperationalError), loser
    assert leads(engine, ids["report"]) == [ids[f"org_{winners[0]}"]]
    with Session(engine) as session:
        report = session.get(Report, ids["report"])
        assert report is not None and report.status == ReportStatus.ACKNOWLEDGED
