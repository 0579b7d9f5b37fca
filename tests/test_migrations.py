"""The models and the migrations describe the same schema, and every migration reverses."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from app.db import Base
from app.extensions import db
from app.migration_support import include_object
from tests.conftest import make_test_app
from tests.dbutil import create_database, drop_database


def test_models_and_migrations_agree(app: Flask) -> None:
    """Would autogenerate find nothing to do on a database migrated to head?"""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object, "compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_migration_downgrades_and_upgrades_again(db_kind: str, tmp_path: Path) -> None:
    """Can a fresh database go to head, back to base, and to head again?"""
    url = create_database(db_kind, tmp_path, "cycle")
    fresh = make_test_app(url, tmp_path / "uploads")
    try:
        with fresh.app_context():
            directory = fresh.extensions["migrate"].directory
            upgrade(directory=directory)
            downgrade(directory=directory, revision="base")
            upgrade(directory=directory)
    finally:
        with fresh.app_context():
            db.engine.dispose()
        drop_database(url)


def test_migration_files_have_a_downgrade() -> None:
    """Does every migration script define a real downgrade()?"""
    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    scripts = sorted(versions.glob("*.py"))
    assert scripts
    for script in scripts:
        text = script.read_text()
        assert "def downgrade() -> None:" in text, script.name
        body = text.split("def downgrade() -> None:", 1)[1]
        assert body.strip() not in {"pass", ""}, script.name


@pytest.mark.parametrize("name", ["categories", "reports", "wards", "postcodes", "photos", "report_cells"])
def test_tables_exist_after_migration(app: Flask, name: str) -> None:
    """Is each table created by the migrations (not by create_all)?"""
    import sqlalchemy as sa

    with app.app_context():
        assert name in sa.inspect(db.engine).get_table_names()
