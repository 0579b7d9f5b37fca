"""Property test: whatever happens to reports, the hex counts (and the map's cells) stay equal
to counts made afresh from the reports.

Each example runs a random sequence of writes through the real services where they exist
(creating and publishing reports: app/reports/services.py; claiming: app/coordination/claims.py;
status changes: app/coordination/status.py; merging and undoing: app/coordination/merge.py;
a category turning sensitive or not: app/reports/categories.py). TellUs has no service that
changes one report's category or location, so those two are done as any such service must:
``aggregates.remove`` before, ``aggregates.add`` after. Reports are never deleted (accounts are
anonymised), so there is no delete to test. Each example runs in a savepoint rolled back
afterwards, inside the test's own rolled-back transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import merge, queries
from app.coordination.claims import claim_case
from app.coordination.errors import CoordinationError
from app.coordination.lifecycle import TRANSITIONS, Actor, Closure, TransitionError
from app.coordination.status import change_status
from app.geography.services import ward_for_point
from app.hotspots import counts
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports import aggregates
from app.reports.categories import CategoryDetails, update_category
from app.reports.models import Category, CloseReason, Report, ReportStatus
from app.reports.services import NewReport, create_report, point_geometry, public_point, publish_report
from geo.coords import Point
from tests.partners.conftest import BABLAKE, ST_MICHAELS, make_organisation  # noqa: F401 (a fixture)

# Points in three wards and several H3 cells (two wards covered by the council below).
POINTS = (
    Point(lon=-1.508383, lat=52.407526),  # St Michael's: the Council House
    Point(lon=-1.509392, lat=52.410296),  # St Michael's, another cell
    Point(lon=-1.51186, lat=52.407753),  # St Michael's
    Point(lon=-1.563014, lat=52.44053),  # Bablake
    Point(lon=-1.4958, lat=52.4270),  # Foleshill
)
SLUGS = ("fly-tipping", "litter", "graffiti", "noise")  # noise is sensitive: coarsened
FLIPPABLE = ("graffiti", "fly-tipping")
# Across a year, so days fall in GMT and BST, some just after UK midnight.
BASE = dt.datetime(2026, 6, 30, 23, 20, tzinfo=dt.UTC)


@dataclass
class World:
    admin: User
    member: User
    council: Organisation


@pytest.fixture
def world(make_user: Callable[..., User], make_organisation: Callable[..., Organisation]) -> World:  # noqa: F811
    member = make_user()
    council = make_organisation(
        name="Council", members={member: "member"}, wards=[ST_MICHAELS, BABLAKE], categories=["fly-tipping", "litter"]
    )
    return World(admin=make_user(admin=True), member=member, council=council)


index = st.integers(min_value=0, max_value=50)
create = st.tuples(
    st.just("create"),
    st.integers(0, len(POINTS) - 1),
    st.integers(0, len(SLUGS) - 1),
    st.booleans(),
    st.integers(0, 400),
)
write = st.one_of(
    create,
    st.tuples(st.just("publish"), index),
    st.tuples(st.just("claim"), index),
    st.tuples(st.just("status"), index, index),
    st.tuples(st.just("recategorise"), index, st.integers(0, len(SLUGS) - 1)),
    st.tuples(st.just("move"), index, st.integers(0, len(POINTS) - 1)),
    st.tuples(st.just("sensitive"), st.sampled_from(FLIPPABLE)),
    st.tuples(st.just("merge"), index, index),
    st.tuples(st.just("undo"), index),
    # Twice as likely as the others: a merge needs two open published reports, so it is often refused.
    st.tuples(st.just("merge"), index, index),
)
# A few reports first, so the writes after them have something to work on.
operations = st.tuples(st.lists(create, min_size=2, max_size=4), st.lists(write, min_size=3, max_size=14)).map(
    lambda parts: parts[0] + parts[1]
)


class Runner:
    def __init__(self, session: Session, world: World) -> None:
        self.session = session
        self.world = world
        self.reports: list[Report] = []

    def category(self, slug: str) -> Category:
        found = self.session.scalar(sa.select(Category).where(Category.slug == slug))
        assert found is not None
        return found

    def pick(self, i: int) -> Report | None:
        return self.reports[i % len(self.reports)] if self.reports else None

    def run(self, op: tuple[object, ...]) -> None:
        # Each do_ returns whether the write happened (False: nothing to do, or refused).
        done = getattr(self, f"do_{op[0]}")(*op[1:])
        event(f"{op[0]}: {'done' if done else 'skipped or refused'}")  # --hypothesis-show-statistics

    def do_create(self, point: int, slug: int, publish: bool, days_ago: int) -> bool:
        n = len(self.reports) + 1
        created = BASE - dt.timedelta(days=days_ago, minutes=7 * n)
        data = NewReport(
            category_id=self.category(SLUGS[slug]).id,
            title=f"Property report {n}",
            description="Made by the property test.",
            point=POINTS[point],
            reporter_email=f"prop{n}@example.org",
        )
        report = create_report(self.session, data, now=created)
        if publish:
            publish_report(self.session, report, now=created)
        self.reports.append(report)
        return True

    def do_publish(self, i: int) -> bool:
        report = self.pick(i)
        return report is not None and publish_report(self.session, report, now=report.created_at)

    def do_claim(self, i: int) -> bool:
        report = self.pick(i)
        if report is None or not report.is_published:
            return False
        try:
            claim_case(self.session, report, self.world.council, role="lead", by=self.world.member)
        except (NotAllowed, CoordinationError):
            return False  # not routed to the council, already led, or closed: the service refuses
        return True

    def do_status(self, i: int, choice: int) -> bool:
        report = self.pick(i)
        case = queries.load_case(self.session, report.id) if report is not None and report.is_published else None
        if case is None:
            return False
        # One of the changes the lifecycle table lets an administrator make from here.
        targets = [t.target for t in TRANSITIONS if t.source == report.status and Actor.ADMIN in t.actors]
        if not targets:
            return False
        target = targets[choice % len(targets)]
        closure = Closure(CloseReason.NO_FURTHER_ACTION) if target == ReportStatus.CLOSED else None
        try:
            change_status(
                self.session,
                case,
                target,
                by=self.world.admin,
                organisation=None,
                actor=Actor.ADMIN,
                note="Changed by the property test.",
                closure=closure,
            )
        except (TransitionError, NotAllowed):
            return False  # not a change the lifecycle table lets an administrator make
        return True

    def _rewrite(self, report: Report, change: Callable[[], None]) -> bool:
        # What a service that edits one report must do: out of the counts before, in after.
        if report.is_published:
            aggregates.remove(self.session, [report])
        change()
        self.session.flush()
        if report.is_published:
            aggregates.add(self.session, [report])
        return True

    def do_recategorise(self, i: int, slug: int) -> bool:
        report = self.pick(i)
        if report is None:
            return False
        category = self.category(SLUGS[slug])

        def change() -> None:
            report.category = category
            self._place(report, Point(lon=report.lon, lat=report.lat), category)

        return self._rewrite(report, change)

    def do_move(self, i: int, point: int) -> bool:
        report = self.pick(i)
        if report is None:
            return False

        def change() -> None:
            ward = ward_for_point(self.session, POINTS[point])
            report.ward_code, report.ward_vintage = ward.code, ward.vintage
            report.lon, report.lat = POINTS[point].lon, POINTS[point].lat
            report.geom = point_geometry(POINTS[point])
            self._place(report, POINTS[point], report.category)

        return self._rewrite(report, change)

    @staticmethod
    def _place(report: Report, point: Point, category: Category) -> None:
        shown = public_point(point, category)
        report.public_lon, report.public_lat = shown.lon, shown.lat
        report.public_geom = point_geometry(shown)

    def do_sensitive(self, slug: str) -> bool:
        category = self.category(slug)
        details = CategoryDetails(
            name=category.name,
            group=category.group,
            hint=category.hint,
            sensitive=not category.sensitive,
            default_sector=category.default_sector.value,
            active=category.active,
        )
        update_category(self.session, category, details, by=self.world.admin)
        return True

    def do_merge(self, i: int, j: int) -> bool:
        duplicate = self.pick(i)
        if duplicate is None or not duplicate.is_published or len(self.reports) < 2:
            return False
        others = [r for r in self.reports if r is not duplicate]
        into = others[j % len(others)]
        case = queries.load_case(self.session, duplicate.id)
        assert case is not None
        try:
            merge.merge(self.session, case, into.reference, by=self.world.admin)
        except (CoordinationError, NotAllowed):
            return False  # itself, not open, merged already, ...: the service refuses
        return True

    def do_undo(self, i: int) -> bool:
        merged = [(r, m) for r in self.reports if (m := merge.active_merge(self.session, r.id)) is not None]
        if not merged:
            return False
        report, row = merged[i % len(merged)]
        case = queries.load_case(self.session, report.id)
        assert case is not None
        try:
            merge.undo(self.session, case, row, by=self.world.admin)
        except CoordinationError:
            return False  # its status changed since the merge
        return True


# No "explain" phase: on a failure it replays hundreds of database-heavy examples (minutes).
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
)
@given(ops=operations)
def test_counts_equal_the_reports_after_any_writes(db_session: Session, world: World, ops: list[tuple]) -> None:  # type: ignore[type-arg]
    """After any sequence of creates, publications, claims, status changes, category changes
    (one report's, or a whole category turning sensitive), moves, merges and undone merges, do
    the hex counts (and the map's cells) equal a fresh count of the reports?"""
    savepoint = db_session.begin_nested()
    try:
        # The world's rows outlive the examples; its objects are loaded afresh in each.
        here = World(
            admin=db_session.get_one(User, world.admin.id),
            member=db_session.get_one(User, world.member.id),
            council=db_session.get_one(Organisation, world.council.id),
        )
        runner = Runner(db_session, here)
        for op in ops:
            runner.run(op)
        db_session.flush()
        assert counts.verify(db_session) == []
        assert aggregates.verify(db_session) == []
    finally:
        savepoint.rollback()
        # SQLite reuses the ids of rolled-back rows: forget every object of this example.
        db_session.expunge_all()
