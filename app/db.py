"""The database layer: declarative base, engine set-up for SpatiaLite and PostGIS, sessions.

Flask-SQLAlchemy is not used: its session ignores a bind given at construction, which the
tests need to run each case inside a rolled-back transaction. This small class gives
Flask-Migrate what it reads (``metadata`` and ``engine``) and a request-scoped session.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL.

    SQLite has no timezone type, so values are stored as naive UTC there and given their
    timezone back on the way out. Naive datetimes are refused on the way in.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def value_enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    """A Python enum stored by its values in a VARCHAR(20) with a CHECK constraint.

    Not a native PostgreSQL enum: adding a value then needs no ALTER TYPE, and SQLite and
    PostgreSQL store the same thing.
    """
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_engine(url: str, *, echo: bool = False) -> sa.Engine:
    """Create an engine for a SpatiaLite (``sqlite:///``) or PostGIS (``postgresql://``) URL.

    Raises RuntimeError if SpatiaLite cannot be loaded.
    """
    if url.startswith("sqlite"):
        # pyenv's sqlite3 cannot load extensions; pysqlite3-binary can.
        import pysqlite3.dbapi2 as sqlite_module
        from geoalchemy2.admin.dialects.sqlite import load_spatialite

        os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
        engine = sa.create_engine(url, module=sqlite_module, echo=echo)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, own transactions so that SAVEPOINTs work.
            dbapi_conn.isolation_level = None
            load_spatialite(dbapi_conn, init_mode="WGS84")  # type: ignore[no-untyped-call]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA busy_timeout = 5000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # psycopg prepares a statement after its 5th run, and PostgreSQL may then switch to a
    # generic plan that cannot see the bbox: for ``public_geom && ST_MakeEnvelope($1..)`` it
    # guesses 100 rows and walks the GiST index over every report (90 ms instead of 11 ms
    # for a city-wide date filter at 1M reports; docs/benchmarks.md). Planning each run
    # with its real values costs well under a millisecond.
    return sa.create_engine(
        url, echo=echo, pool_pre_ping=True, connect_args={"options": "-c plan_cache_mode=force_custom_plan"}
    )


@dataclass
class _AppDatabase:
    engine: sa.Engine
    session_factory: sessionmaker[Session]


class Database:
    """Engine and request-scoped sessions, one engine per Flask app.

    ``db.session`` is the session of the current app context; it is closed at teardown.
    Tests swap ``db.session_factory`` (per app) to bind sessions to an outer transaction.
    """

    metadata = Base.metadata

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"])
        app.extensions["tellus_db"] = _AppDatabase(engine, sessionmaker(bind=engine, expire_on_commit=False))
        app.after_request(commit_after_request)
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def _state() -> _AppDatabase:
        state: _AppDatabase = current_app.extensions["tellus_db"]
        return state

    @property
    def engine(self) -> sa.Engine:
        return self._state().engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self._state().session_factory

    @session_factory.setter
    def session_factory(self, factory: sessionmaker[Session]) -> None:
        self._state().session_factory = factory

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.session_factory()
        session: Session = g.db_session
        return session

    def _teardown(self, exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def commit_after_request(response: Any) -> Any:
    """Commit the request's session once, after the view returns (one commit per request).

    An exception in the view skips this and the teardown rolls back instead.
    """
    session = g.get("db_session")
    if session is not None:
        session.commit()
    return response
