"""Two organisations claim the lead of the same case at the same instant, over two real
database connections each in its own transaction. Exactly one may win.

Runs on whichever database ``--db`` names and must pass on PostGIS, where the loser waits on
the one-lead index until the winner commits and then gets the unique violation. On SQLite the
second writer gets the unique violation or "database is locked"; either way there is one lead.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.claims import claim_case
from app.coordination.errors import ClaimConflict
from app.coordination.models import CaseClaim, ClaimRole
from app.db import utcnow
from app.extensions import db
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Report, ReportStatus, Sector
from app.reports.services import NewReport, create_report, publish_report
from tests.conftest import COUNCIL_HOUSE, make_test_app, prepare_database
from tests.dbutil import create_database, drop_database
from tests.partners.conftest import ST_MICHAELS


@pytest.fixture
def race(db_kind: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, dict[str, int]]]:
    """A database of its own (the tests commit), with a report routed to two organisations."""
    url = create_database(db_kind, tmp_path, "race")
    app: Flask = make_test_app(url, tmp_path / "uploads")
    prepare_database(app)
    try:
        with app.app_context():
            engine = db.engine
            with Session(engine) as session:
                category_id = session.scalar(sa.select(Category.id).where(Category.slug == "fly-tipping"))
                ids: dict[str, int] = {}
                for key in ("a", "b"):
                    org = Organisation(name=f"Org {key}", sector=Sector.COUNCIL, contact_email=f"{key}@example.org")
                    person = User(
                        email=f"{key}@example.org", display_name=key, password_hash="x", email_verified_at=utcnow()
                    )
                    session.add_all([org, person])
                    session.flush()
                    session.add_all(
                        [
                            OrganisationWard(organisation_id=org.id, ward_code=ST_MICHAELS),
                            OrganisationCategory(organisation_id=org.id, category_id=category_id),
                            Membership(user_id=person.id, organisation_id=org.id, role=OrgRole.MEMBER),
                        ]
                    )
                    ids[f"org_{key}"], ids[f"user_{key}"] = org.id, person.id
                session.flush()
                report = create_report(
                    session,
                    NewReport(
                        category_id=category_id or 0,
                        title="Sofa dumped",
                        description="By the bins",
                        point=COUNCIL_HOUSE,
                        reporter_email="r@example.org",
                    ),
                )
                publish_report(session, report)
                ids["report"] = report.id
                session.commit()
            yield engine, ids
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


def run_together(work: Callable[[str, threading.Barrier], Any]) -> dict[str, Any]:
    """Run ``work("a")`` and ``work("b")`` in two threads released at the same instant;
    return what each returned or raised."""
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, Any] = {}

    def run(key: str) -> None:
        try:
            outcomes[key] = work(key, barrier)
        except Exception as exc:  # the outcome is what the test checks
            outcomes[key] = exc

    # Each thread runs in a copy of this one's context, so it has the race app's context too
    # (claiming the lead emails the reporter, which needs the app's settings).
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, key)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(outcomes) == {"a", "b"}, "a thread did not finish"
    return outcomes


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
