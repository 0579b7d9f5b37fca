"""Category administration: services and pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.reports import aggregates
from app.reports.categories import CategoryDetails, CategoryError, NotAllowed, create_category, update_category
from app.reports.models import Category, Report, Sector
from geo.coarsen import coarsen
from geo.coords import Point

MakeUser = Callable[..., User]


def details(**overrides: Any) -> CategoryDetails:
    values: dict[str, Any] = {
        "name": "Dog fouling",
        "group": "Streets and cleanliness",
        "hint": "Pavements, parks and verges",
        "sensitive": False,
        "default_sector": "council",
        **overrides,
    }
    return CategoryDetails(**values)


def test_an_administrator_adds_a_category_at_the_end_with_a_slug(db_session: Session, make_user: MakeUser) -> None:
    """Does a new category get a unique slug from its name, the last position, and an audit event?"""
    admin = make_user(admin=True)
    first = create_category(db_session, details(), by=admin)
    assert first.slug == "dog-fouling" and first.default_sector == Sector.COUNCIL and first.active
    last = db_session.scalar(sa.select(sa.func.max(Category.position)))
    assert first.position == last
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "category_created")).one()
    assert event.target == f"category:{first.id}" and event.actor_id == admin.id


def test_slugs_stay_unique(db_session: Session, make_user: MakeUser, category: Callable[[str], Category]) -> None:
    """If a new name makes an existing slug (e.g. after a rename), is a numbered slug used?"""
    admin = make_user(admin=True)
    litter = category("litter")
    update_category(
        db_session,
        litter,
        details(name="Street litter", group=litter.group, hint="", default_sector="council"),
        by=admin,
    )
    new = create_category(db_session, details(name="Litter"), by=admin)
    assert litter.slug == "litter" and new.slug == "litter-2"


def test_category_input_is_checked(
    db_session: Session, make_user: MakeUser, category: Callable[[str], Category]
) -> None:
    """Are an empty name, an existing name, an empty group, a long hint and an unknown sector reported together?"""
    admin = make_user(admin=True)
    with pytest.raises(CategoryError) as caught:
        create_category(db_session, details(name="", group=" ", hint="x" * 201, default_sector="?"), by=admin)
    assert set(caught.value.errors) == {"name", "group", "hint", "default_sector"}
    with pytest.raises(CategoryError, match="already a category"):
        create_category(db_session, details(name=category("graffiti").name.upper()), by=admin)


def test_only_administrators_manage_categories(
    db_session: Session, make_user: MakeUser, category: Callable[[str], Category]
) -> None:
    """Are a resident and a ward officer refused?"""
    for person in (make_user(), make_user(wards=["E05001228"])):
        with pytest.raises(NotAllowed):
            create_category(db_session, details(), by=person)
        with pytest.raises(NotAllowed):
            update_category(db_session, category("litter"), details(), by=person)


def test_retiring_a_category_is_audited(
    db_session: Session, make_user: MakeUser, category: Callable[[str], Category]
) -> None:
    """Does retiring a category keep it (with its reports) and record the change?"""
    graffiti = category("graffiti")
    update_category(
        db_session,
        graffiti,
        details(
            name=graffiti.name,
            group=graffiti.group,
            hint=graffiti.hint,
            sensitive=graffiti.sensitive,
            default_sector=graffiti.default_sector.value,
            active=False,
        ),
        by=make_user(admin=True),
    )
    assert not graffiti.active
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "category_updated")).one()
    assert event.detail == "active: True → False"


def test_making_a_category_sensitive_hides_its_reports_exact_points(
    db_session: Session, make_user: MakeUser, make_report: Callable[..., Report], category: Callable[[str], Category]
) -> None:
    """When a category becomes sensitive, do its reports move to the ~500 m point, with the map counts right?"""
    report = make_report(slug="graffiti")
    assert (report.public_lon, report.public_lat) == (report.lon, report.lat)
    graffiti = category("graffiti")
    admin = make_user(admin=True)
    flip = {"name": graffiti.name, "group": graffiti.group, "hint": graffiti.hint, "default_sector": "council"}
    update_category(db_session, graffiti, details(**flip, sensitive=True), by=admin)
    coarse = coarsen(Point(lon=report.lon, lat=report.lat))
    assert (report.public_lon, report.public_lat) == (coarse.lon, coarse.lat)
    assert aggregates.verify(db_session) == []
    update_category(db_session, graffiti, details(**flip, sensitive=False), by=admin)
    assert (report.public_lon, report.public_lat) == (report.lon, report.lat)
    assert aggregates.verify(db_session) == []


def test_category_pages_create_and_edit_keeping_input_on_error(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Callable[[User], None]
) -> None:
    """Does the new-category form keep every value on error, and do create and edit work?"""
    login(make_user(admin=True))
    form = {"name": "", "group": "Pets", "hint": "Loose dogs", "default_sector": "police", "sensitive": "yes"}
    bad = client.post("/admin/categories/new", data=form)
    assert bad.status_code == 400 and 'href="#name"' in bad.text
    assert 'value="Pets"' in bad.text and 'value="Loose dogs"' in bad.text
    assert 'value="police" checked' in bad.text and 'value="yes" checked' in bad.text
    created = client.post("/admin/categories/new", data={**form, "name": "Dangerous dogs", "active": "yes"})
    assert created.status_code == 302
    new = db_session.scalar(sa.select(Category).where(Category.name == "Dangerous dogs"))
    assert new is not None and new.sensitive and new.active and new.default_sector == Sector.POLICE
    assert "Dangerous dogs" in client.get("/admin/categories").text
    edit = client.post(f"/admin/categories/{new.id}/edit", data={**form, "name": "Dangerous dogs"})
    assert edit.status_code == 302 and not new.active  # "active" unticked: retired
    assert "Retired" in client.get("/admin/categories").text
