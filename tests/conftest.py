"""Test set-up: one migrated database per session (SpatiaLite or PostGIS, chosen with
--db), and each test inside a transaction that is rolled back afterwards."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.db import utcnow
from app.extensions import db
from app.geography.services import load_reference_data
from app.partners.models import WardOfficerWard
from app.reports.models import Category, Report
from app.reports.services import NewReport, create_report, publish_report
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
    """An app for tests; ``overrides`` win over these defaults."""
    settings: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "UPLOAD_DIR": upload_dir,
        "GEO_DATA_DIR": GEO_DATA_DIR,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "TILE_URL": "",
        "WTF_CSRF_ENABLED": False,
        "MAIL_DIR": upload_dir.parent / "mail",
        # Cheap hashing keeps the suite fast; production cost is tested in test_passwords.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 1024,
    }
    settings.update(overrides)
    return create_app(Config.from_env(**settings))


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


_PER_REQUEST = ("_login_user", "user_session")


def _fresh_request_globals(sender: Flask, **extra: Any) -> None:
    # The test keeps one app context open (for the rolled-back session), so requests share
    # `g`; in production each request has its own. Forget who was signed in last request.
    for name in _PER_REQUEST:
        g.pop(name, None)


@pytest.fixture
def client(app: Flask, db_session: Session) -> Iterator[FlaskClient]:
    request_started.connect(_fresh_request_globals, app)
    try:
        yield app.test_client()
    finally:
        request_started.disconnect(_fresh_request_globals, app)


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
        publish: bool = True,
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
        if publish:
            publish_report(db_session, report, now=created_at)
        for key, value in fields.items():
            setattr(report, key, value)
        db_session.flush()
        return report

    return make


PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app: Flask) -> None:
    """Each test starts with no rate-limit history (limits are kept in memory)."""
    from app.extensions import limiter

    with app.app_context():
        limiter.reset()


@pytest.fixture
def make_user(db_session: Session) -> Callable[..., User]:
    """Create a verified user; ``admin=True``, ``wards=[...]`` and ``totp=True`` as needed.

    Users who must have a second factor (administrators and ward officers) get one unless
    ``totp=False``; its secret is on ``user.totp_secret``.
    """
    counter = iter(range(1, 100000))

    def make(
        *,
        email: str | None = None,
        name: str | None = None,
        admin: bool = False,
        wards: list[str] | None = None,
        verified: bool = True,
        totp: bool | None = None,
    ) -> User:
        n = next(counter)
        user = User(
            email=email or f"user{n}@example.org",
            display_name=name or f"User {n}",
            password_hash=hash_password(PASSWORD),
            email_verified_at=utcnow() if verified else None,
            is_admin=admin,
        )
        db_session.add(user)
        db_session.flush()
        for code in wards or []:
            db_session.add(WardOfficerWard(user_id=user.id, ward_code=code))
        if totp if totp is not None else (admin or bool(wards)):
            user.totp_secret = pyotp.random_base32()
            user.totp_enabled_at = utcnow()
        db_session.flush()
        db_session.refresh(user)
        return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], None]:
    """Sign ``user`` in through the real sign-in pages (with a TOTP code when they have one)."""

    def sign_in(user: User, password: str = PASSWORD) -> None:
        response = client.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.text
        if response.location.endswith("/sign-in/code"):
            assert user.totp_secret is not None
            code = pyotp.TOTP(user.totp_secret).now()
            response = client.post("/sign-in/code", data={"code": code})
            assert response.status_code == 302, response.text

    return sign_in


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
