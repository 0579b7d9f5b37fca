"""Races over two real database connections: a database of the test's own (the racers commit,
so the usual rolled-back test transaction cannot be used), and two threads released together.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.extensions import db
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Report, Sector
from app.reports.services import NewReport, create_report, publish_report
from tests.conftest import COUNCIL_HOUSE, make_test_app, prepare_database
from tests.dbutil import create_database, drop_database
from tests.partners.conftest import ST_MICHAELS


@contextmanager
def own_database(
    db_kind: str, tmp_path: Path, label: str, setup: Callable[[Session], dict[str, int]]
) -> Iterator[tuple[sa.Engine, dict[str, int]]]:
    """A migrated database of its own, filled by ``setup`` (which returns the ids the test
    needs) and committed; yields its engine and those ids, and drops it afterwards."""
    url = create_database(db_kind, tmp_path, label)
    app: Flask = make_test_app(url, tmp_path / "uploads")
    prepare_database(app)
    try:
        with app.app_context():
            engine = db.engine
            with Session(engine) as session:
                ids = setup(session)
                session.commit()
            yield engine, ids
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


def fly_tipping(session: Session) -> int:
    category_id = session.scalar(sa.select(Category.id).where(Category.slug == "fly-tipping"))
    assert category_id is not None
    return category_id


def add_organisation(session: Session, key: str, *, covers: bool) -> Organisation:
    """ "Org <key>", covering fly-tipping in St Michael's if ``covers``."""
    org = Organisation(name=f"Org {key}", sector=Sector.COUNCIL, contact_email=f"{key}@example.org")
    session.add(org)
    session.flush()
    if covers:
        session.add_all(
            [
                OrganisationWard(organisation_id=org.id, ward_code=ST_MICHAELS),
                OrganisationCategory(organisation_id=org.id, category_id=fly_tipping(session)),
            ]
        )
    return org


def add_member(session: Session, organisation: Organisation, email: str) -> User:
    person = User(email=email, display_name=email.split("@")[0], password_hash="x", email_verified_at=utcnow())
    session.add(person)
    session.flush()
    session.add(Membership(user_id=person.id, organisation_id=organisation.id, role=OrgRole.MEMBER))
    session.flush()
    return person


def published_report(session: Session) -> Report:
    """A fly-tipping report at the Council House (St Michael's), published and so routed."""
    report = create_report(
        session,
        NewReport(
            category_id=fly_tipping(session),
            title="Sofa dumped",
            description="By the bins",
            point=COUNCIL_HOUSE,
            reporter_email="r@example.org",
        ),
    )
    publish_report(session, report)
    return report


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
