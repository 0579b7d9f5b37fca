"""Test set-up: one migrated database per session (SpatiaLite or PostGIS, chosen with
--db), and each test inside a transaction that is rolled back afterwards."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from app.extensions import db
from app.geography.services import load_reference_data
from app.reports.models import Category, Report
from app.reports.services import NewReport, create_report
from config import Config
from geo.coords import Point
from tests.dbutil import create_database, drop_database

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
GEO_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "coventry"
if not GEO_DATA_DIR.exists():
    GEO_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coventry"

# Points used across the tests, checked against the ward data.
COUNCIL_HOUSE = Point(lon=-1.508383, lat=52.407526)  # CV1 5RR, St Michael's


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db", choices=["spatialite", "postgis"], default="spatialite", help="Database to run the tests on"
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--db')}"


def make_test_app(database_url: str, upload_dir: Path, **overrides: Any) -> Flask:
    config = Config.from_env(
        DATABASE_URL=database_url,
        UPLOAD_DIR=upload_dir,
        GEO_DATA_DIR=GEO_DATA_DIR,
        TESTING=True,
        SECRET_KEY="test-secret",
        TILE_URL="",
        WTF_CSRF_ENABLED=False,
        **overrides,
    )
    return create_app(config)


def prepare_database(app: Flask) -> None:
    """Migrate to head and load the reference geography (committed: shared by all tests)."""
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        load_reference_data(db.session, app.config["GEO_DATA_DIR"])
        db.session.commit()
        db.session.close()


@pytest.fixture(scope="session")
def db_kind(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


@pytest.fixture(scope="session")
def app(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("db")
    url = create_database(db_kind, tmp, "test")
    application = make_test_app(url, tmp / "uploads")
    prepare_database(application)
    yield application
    with application.app_context():
        db.engine.dispose()
    drop_database(url)


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session whose commits release savepoints inside one transaction rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session_factory
        db.session_factory = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield db.session
        finally:
            db.session_factory = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db_session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def category(db_session: Session) -> Callable[[str], Category]:
    def get(slug: str = "fly-tipping") -> Category:
        found = db_session.scalar(sa.select(Category).where(Category.slug == slug))
        assert found is not None, slug
        return found

    return get


@pytest.fixture
def make_report(db_session: Session, category: Callable[[str], Category]) -> Callable[..., Report]:
    """Create a report through the real service; keyword arguments override the defaults."""
    counter = iter(range(1, 100000))

    def make(
        *,
        slug: str = "fly-tipping",
        point: Point = COUNCIL_HOUSE,
        created_at: dt.datetime | None = None,
        **fields: Any,
    ) -> Report:
        n = next(counter)
        data = NewReport(
            category_id=category(slug).id,
            title=fields.pop("title", f"Test report {n}"),
            description=fields.pop("description", f"Description of test report {n}"),
            point=point,
            reporter_email=fields.pop("reporter_email", f"person{n}@example.org"),
            reporter_name=fields.pop("reporter_name", None),
            show_name=fields.pop("show_name", False),
        )
        report = create_report(db_session, data, now=created_at)
        for key, value in fields.items():
            setattr(report, key, value)
        db_session.flush()
        return report

    return make


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """``with count_queries() as q: ...`` then ``q.count``: SQL statements run inside the block."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
                counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting
