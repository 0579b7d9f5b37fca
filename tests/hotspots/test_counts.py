"""The ward dashboard's hex counts (app/hotspots/counts.py): kept on every write through the
map's hooks, counted on the UK local day and the public location's cells, rebuilt and checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import queries
from app.coordination.lifecycle import Actor, Closure
from app.coordination.status import change_status
from app.hotspots import counts
from app.hotspots.models import HexCount
from app.reports import aggregates
from app.reports.categories import CategoryDetails, update_category
from app.reports.models import Category, CloseReason, Report, ReportStatus
from geo import hexes
from geo.coarsen import coarsen
from geo.coords import Point

MakeReport = Callable[..., Report]
ST_MICHAELS = "E05001228"
CV1_1AH = Point(lon=-1.509392, lat=52.410296)  # St Michael's, another cell than the Council House
SUMMER_EVENING = dt.datetime(2026, 7, 10, 23, 30, tzinfo=dt.UTC)  # 00:30 BST on 11 July
WINTER_EVENING = dt.datetime(2026, 1, 10, 23, 30, tzinfo=dt.UTC)  # 23:30 GMT on 10 January


def rows(session: Session) -> list[tuple[object, ...]]:
    return [
        (r.day, r.ward_code, r.category_id, r.status, r.cell9, r.cell8, r.n)
        for r in session.scalars(sa.select(HexCount).order_by(HexCount.day, HexCount.status, HexCount.cell9))
    ]


def cells(point: Point) -> tuple[int, int]:
    cell9 = hexes.cell_of(point.lon, point.lat, 9)
    return cell9, hexes.parent(cell9, 8)


def admin_sets(session: Session, admin: User, report: Report, target: ReportStatus, **closure: object) -> None:
    case = queries.load_case(session, report.id)
    assert case is not None
    change_status(
        session,
        case,
        target,
        by=admin,
        organisation=None,
        actor=Actor.ADMIN,
        note="Checked by the council.",
        closure=Closure(**closure) if closure else None,  # type: ignore[arg-type]
    )


def test_day_of_is_the_uk_local_date() -> None:
    """Is a report's day its date on UK clocks (BST in summer, GMT in winter), with naive times refused?"""
    assert counts.day_of(SUMMER_EVENING) == dt.date(2026, 7, 11)
    assert counts.day_of(WINTER_EVENING) == dt.date(2026, 1, 10)
    with pytest.raises(ValueError, match="naive"):
        counts.day_of(dt.datetime(2026, 1, 1, 12))


def test_publishing_counts_a_report_on_its_day_cell_and_status(
    db_session: Session, make_report: MakeReport, category: Callable[[str], Category]
) -> None:
    """Does a published report add 1 to its (UK day, ward, category, status, cell) row, with its
    cells stored on it, while an unpublished one counts nowhere until it is published?"""
    waiting = make_report(point=CV1_1AH, created_at=SUMMER_EVENING, publish=False)
    assert rows(db_session) == [] and waiting.h3_r9 is None
    published = make_report(created_at=WINTER_EVENING)
    cell9, cell8 = cells(Point(published.public_lon, published.public_lat))
    assert (published.h3_r9, published.h3_r8) == (cell9, cell8)
    fly = category("fly-tipping").id
    assert rows(db_session) == [(dt.date(2026, 1, 10), ST_MICHAELS, fly, "new", cell9, cell8, 1)]
    from app.reports.services import publish_report

    publish_report(db_session, waiting, now=SUMMER_EVENING)
    assert (dt.date(2026, 7, 11), ST_MICHAELS, fly, "new", *cells(CV1_1AH), 1) in rows(db_session)
    assert counts.verify(db_session) == []


def test_two_reports_in_one_cell_share_a_row_and_removing_one_keeps_it(
    db_session: Session, make_report: MakeReport
) -> None:
    """Do two reports on the same day, cell, category and status make one row of 2, and does
    taking both out delete the row rather than leave a zero?"""
    first = make_report(created_at=WINTER_EVENING)
    second = make_report(created_at=WINTER_EVENING + dt.timedelta(minutes=10))
    assert [r[-1] for r in rows(db_session)] == [2]
    counts.remove(db_session, [first])
    assert [r[-1] for r in rows(db_session)] == [1]
    counts.remove(db_session, [second])
    assert rows(db_session) == []


def test_a_status_change_moves_the_count_between_statuses(
    db_session: Session, make_report: MakeReport, make_user: Callable[..., User]
) -> None:
    """Does closing a report (through the real status service) move its count from new to
    closed, and reopening move it back, with the counts equal to the reports throughout?"""
    report = make_report(created_at=WINTER_EVENING)
    admin = make_user(admin=True)
    admin_sets(db_session, admin, report, ReportStatus.CLOSED, reason=CloseReason.NO_FURTHER_ACTION)
    assert [(r[3], r[-1]) for r in rows(db_session)] == [("closed", 1)]
    assert counts.verify(db_session) == []
    admin_sets(db_session, admin, report, ReportStatus.NEW)
    assert [(r[3], r[-1]) for r in rows(db_session)] == [("new", 1)]
    assert counts.verify(db_session) == []


def test_a_category_turning_sensitive_moves_its_reports_cells(
    db_session: Session, make_report: MakeReport, make_user: Callable[..., User], category: Callable[[str], Category]
) -> None:
    """When a category becomes sensitive, do its reports' counts and stored cells move to the
    coarsened public location (and back when it stops being sensitive)?"""
    report = make_report(slug="graffiti", point=CV1_1AH)
    exact = cells(CV1_1AH)
    coarse_point = coarsen(CV1_1AH)
    coarse = cells(coarse_point)
    assert exact != coarse, "the fixture point must change cell when coarsened"
    graffiti = category("graffiti")
    admin = make_user(admin=True)
    same = {"name": graffiti.name, "group": graffiti.group, "hint": graffiti.hint, "default_sector": "council"}
    update_category(db_session, graffiti, CategoryDetails(**same, sensitive=True), by=admin)
    assert [(r[4], r[5]) for r in rows(db_session)] == [coarse]
    assert (report.h3_r9, report.h3_r8) == coarse
    update_category(db_session, graffiti, CategoryDetails(**same, sensitive=False), by=admin)
    assert [(r[4], r[5]) for r in rows(db_session)] == [exact]
    assert counts.verify(db_session) == []


def test_rebuild_recomputes_the_counts_and_the_reports_cells(db_session: Session, make_report: MakeReport) -> None:
    """Does rebuild give the same rows as the incremental upkeep, from scratch, including the
    UK day of reports just after midnight BST, and repair reports whose stored cells are stale?"""
    make_report(created_at=SUMMER_EVENING)
    make_report(created_at=WINTER_EVENING, point=CV1_1AH)
    make_report(created_at=WINTER_EVENING, slug="noise")  # sensitive: counted at its public point
    make_report(created_at=SUMMER_EVENING, publish=False)
    stale = make_report(created_at=SUMMER_EVENING - dt.timedelta(days=3))
    kept = rows(db_session)
    db_session.execute(sa.update(Report).where(Report.id == stale.id).values(h3_r9=None, h3_r8=None))
    db_session.execute(sa.delete(HexCount))
    result = counts.rebuild_all(db_session)
    assert rows(db_session) == kept
    assert (result.rows, result.reports, result.cells_set) == (len(kept), 4, 1)
    assert (stale.h3_r9, stale.h3_r8) == cells(Point(stale.public_lon, stale.public_lat))
    assert counts.verify(db_session) == []


def test_verify_names_every_difference(db_session: Session, make_report: MakeReport) -> None:
    """Does verify report a wrong count, a missing row, a row with no reports and a report
    whose stored cells are stale, each on its own line?"""
    first = make_report(created_at=WINTER_EVENING)
    second = make_report(created_at=SUMMER_EVENING, point=CV1_1AH)
    assert counts.verify(db_session) == []
    db_session.execute(sa.update(HexCount).where(HexCount.cell9 == first.h3_r9).values(n=5))
    db_session.execute(sa.delete(HexCount).where(HexCount.cell9 == second.h3_r9))
    db_session.add(HexCount(day=dt.date(2020, 1, 1), ward_code=ST_MICHAELS, category_id=first.category_id,
                            status="new", cell9=first.h3_r9, cell8=first.h3_r8, n=1))  # fmt: skip
    db_session.execute(sa.update(Report).where(Report.id == first.id).values(h3_r9=1))
    problems = counts.verify(db_session)
    assert len(problems) == 4, problems
    assert any(f"report {first.id}: stored cells 1/" in p for p in problems)
    assert any(p.startswith("2026-01-10 ") and "table has 5, reports give 1" in p for p in problems)
    assert any(p.startswith("2026-07-11 ") and "table has 0, reports give 1" in p for p in problems)
    assert any(p.startswith("2020-01-01 ") and "table has 1, reports give 0" in p for p in problems)


def test_refreshing_one_report_is_one_statement(
    db_session: Session, make_report: MakeReport, count_queries: Callable[..., object]
) -> None:
    """Is counting one new report a single upsert, and taking one out at most an upsert and a
    delete by primary key (never a scan of the table)?"""
    report = make_report(created_at=WINTER_EVENING)
    with count_queries() as added:  # type: ignore[attr-defined]
        counts.add(db_session, [report])
    with count_queries() as removed:  # type: ignore[attr-defined]
        counts.remove(db_session, [report])
    assert added.count == 1
    assert removed.count == 2
    assert "n <= " in removed.statements[1] and "cell9 = " in removed.statements[1]
    counts.remove(db_session, [report])
    assert rows(db_session) == []


def test_the_map_hooks_keep_the_hex_counts_without_scanning(
    db_session: Session, make_report: MakeReport, count_queries: Callable[..., object]
) -> None:
    """Do the map's aggregates.add/remove (which every write path calls) keep the hex counts
    too, with adding one upsert per table and no DELETE, and removing deleting emptied rows
    by primary key only (never ``DELETE … WHERE n <= 0`` over a whole table)?"""
    report = make_report(created_at=WINTER_EVENING)
    with count_queries() as removed:  # type: ignore[attr-defined]
        aggregates.remove(db_session, [report])
    assert rows(db_session) == []
    with count_queries() as added:  # type: ignore[attr-defined]
        aggregates.add(db_session, [report])
    assert len(rows(db_session)) == 1
    assert len(added.statements) == 2 and not any("DELETE" in s.upper() for s in added.statements)
    deletes = [" ".join(s.split()) for s in removed.statements if s.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 2 and all("n <= " in d and " AND " in d for d in deletes), deletes
    assert counts.verify(db_session) == [] and aggregates.verify(db_session) == []


def test_rebuild_of_an_empty_database_is_empty(db_session: Session) -> None:
    """With no published reports, does rebuild leave no rows and verify agree?"""
    db_session.add(HexCount(day=dt.date(2020, 1, 1), ward_code=ST_MICHAELS, category_id=1,
                            status="new", cell9=1, cell8=1, n=3))  # fmt: skip
    assert counts.rebuild(db_session) == 0
    assert counts.verify(db_session) == []


def test_bst_periods_come_from_the_time_zone_database() -> None:
    """Are the UTC spans of British Summer Time those of the tz database (last Sunday of March
    to last Sunday of October, 01:00 UTC)?"""
    assert counts._bst_periods(dt.date(2025, 6, 1), dt.date(2026, 6, 1)) == [
        (dt.datetime(2025, 3, 30, 1, tzinfo=dt.UTC), dt.datetime(2025, 10, 26, 1, tzinfo=dt.UTC)),
        (dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC)),
    ]
