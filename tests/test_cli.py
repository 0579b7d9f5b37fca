"""The CLI commands that `make run` uses: geography, demo data, cell maintenance."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.geography.models import CityBoundary, Postcode, Ward
from app.reports import aggregates
from app.reports.demo import generate
from app.reports.models import Category, Report, ReportCell, ReportStatus

END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def count(session: Session, model: type) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_geo_load_is_harmless_to_run_again(app: Flask, db_session: Session) -> None:
    """Does loading the geography a second time leave 18 wards, 1 boundary and 6,364 postcodes?"""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["geo", "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded 18 wards, 1 boundary, 6364 postcodes" in result.output
    assert (count(db_session, Ward), count(db_session, CityBoundary), count(db_session, Postcode)) == (18, 1, 6364)


def test_demo_data_is_deterministic(app: Flask, db_session: Session) -> None:
    """Does the same seed give exactly the same reports?"""

    def snapshot() -> list[tuple[object, ...]]:
        rows = db_session.execute(
            sa.select(
                Report.category_id, Report.lon, Report.lat, Report.created_at, Report.status, Report.title
            ).order_by(Report.id)
        ).all()
        return [tuple(r) for r in rows]

    list(generate(db_session, count=300, seed=11, data_dir=app.config["GEO_DATA_DIR"], end=END))
    first = snapshot()
    db_session.execute(sa.delete(ReportCell))
    db_session.execute(sa.delete(Report))
    list(generate(db_session, count=300, seed=11, data_dir=app.config["GEO_DATA_DIR"], end=END))
    assert snapshot() == first and len(first) == 300


def test_demo_data_is_plausible(app: Flask, db_session: Session) -> None:
    """Are demo reports spread over wards, categories and two years, denser where deprivation is higher?"""
    list(generate(db_session, count=3000, seed=5, data_dir=app.config["GEO_DATA_DIR"], end=END))
    reports = db_session.execute(
        sa.select(
            Report.ward_code,
            Report.category_id,
            Report.created_at,
            Report.status,
            Report.lon,
            Report.lat,
            Report.public_lon,
            Report.public_lat,
            Category.sensitive,
        ).join(Category)
    ).all()
    assert len({r.ward_code for r in reports}) == 18
    assert len({r.category_id for r in reports}) == count(db_session, Category)
    assert min(r.created_at for r in reports) >= END - dt.timedelta(days=731)
    statuses = Counter(r.status for r in reports)
    assert statuses[ReportStatus.RESOLVED] > statuses[ReportStatus.NEW] > 0
    assert all((r.public_lon, r.public_lat) != (r.lon, r.lat) for r in reports if r.sensitive)
    assert all((r.public_lon, r.public_lat) == (r.lon, r.lat) for r in reports if not r.sensitive)
    by_ward = Counter(r.ward_code for r in reports)
    # Foleshill (deprived) gets clearly more reports per postcode than Wainbody (affluent).
    per_postcode = {code: by_ward[code] / count_postcodes(db_session, code) for code in ("E05001222", "E05001231")}
    assert per_postcode["E05001222"] > 1.5 * per_postcode["E05001231"]
    assert aggregates.verify(db_session) == []


def count_postcodes(session: Session, ward_code: str) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Postcode).where(Postcode.ward_code == ward_code)) or 0


def test_demo_load_if_empty_adds_nothing_when_there_are_reports(app: Flask, db_session: Session, make_report) -> None:  # type: ignore[no-untyped-def]
    """Does `flask demo load --if-empty` leave an existing database alone?"""
    make_report()
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0 and "already present" in result.output
    assert count(db_session, Report) == 1


def test_rebuild_cells_check_and_repair(app: Flask, db_session: Session, make_report) -> None:  # type: ignore[no-untyped-def]
    """Does the check command fail on a broken cell table, and the rebuild repair it?"""
    make_report()
    db_session.execute(sa.delete(ReportCell).where(ReportCell.level == 2))
    db_session.commit()
    runner = app.test_cli_runner()
    broken = runner.invoke(args=["reports", "rebuild-cells", "--check"])
    assert broken.exit_code != 0 and "disagree" in broken.output
    assert runner.invoke(args=["reports", "rebuild-cells"]).exit_code == 0
    fixed = runner.invoke(args=["reports", "rebuild-cells", "--check"])
    assert fixed.exit_code == 0 and "agree" in fixed.output
