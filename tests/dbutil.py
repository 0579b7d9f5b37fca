"""Throwaway databases for the tests: a SpatiaLite file or a PostGIS database."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")


def create_database(kind: str, tmp_dir: Path, label: str) -> str:
    """Create an empty database of ``kind`` ("spatialite" or "postgis") and return its URL.

    Raises RuntimeError when PostgreSQL cannot be reached, so PostGIS tests fail, never skip.
    """
    if kind == "spatialite":
        return f"sqlite:///{tmp_dir / f'{label}.db'}"
    if kind != "postgis":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"tellus_{label}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: run `make postgres`") from exc
    return f"{PG_ADMIN_URL}/{name}"


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
