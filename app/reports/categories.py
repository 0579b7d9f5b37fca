"""Category administration: create, edit, retire. Administrators only; every change is audited.

Categories are never deleted (reports keep pointing at them); a retired category
(``active=False``) is no longer offered on the report form. Turning the sensitive flag on
or off moves the public location of the category's reports (and the map's cell counts) at
once, so no exact point stays public after a category becomes sensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination.jobs import request_run
from app.reports import aggregates
from app.reports.models import Category, Report, Sector
from app.reports.services import point_geometry, public_point
from geo.coords import Point

# Must match the column lengths on Category.
NAME_MAX = 80
GROUP_MAX = 80
HINT_MAX = 200
SLUG_MAX = 50


class CategoryError(ValueError):
    """Input that cannot be used; ``errors`` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NotAllowed(PermissionError):
    """``by`` is not allowed to manage categories."""


@dataclass(frozen=True)
class CategoryDetails:
    name: str
    group: str
    hint: str
    sensitive: bool
    default_sector: str
    active: bool = True


def _checked(session: Session, details: CategoryDetails, existing: Category | None) -> tuple[str, str, str, Sector]:
    errors: dict[str, str] = {}
    name = " ".join(details.name.split())
    group = " ".join(details.group.split())
    hint = " ".join(details.hint.split())
    if not name:
        errors["name"] = "Enter the category's name"
    elif len(name) > NAME_MAX:
        errors["name"] = f"Name must be {NAME_MAX} characters or fewer"
    else:
        clash = session.scalar(
            sa.select(Category.id).where(
                sa.func.lower(Category.name) == name.lower(), Category.id != (existing.id if existing else -1)
            )
        )
        if clash is not None:
            errors["name"] = "There is already a category with that name"
    if not group:
        errors["group"] = "Enter the group the category is listed under, like Streets and cleanliness"
    elif len(group) > GROUP_MAX:
        errors["group"] = f"Group must be {GROUP_MAX} characters or fewer"
    if len(hint) > HINT_MAX:
        errors["hint"] = f"Hint must be {HINT_MAX} characters or fewer"
    try:
        sector = Sector(details.default_sector)
    except ValueError:
        errors["default_sector"] = "Select the sector that usually deals with it"
        sector = Sector.COUNCIL
    if errors:
        raise CategoryError(errors)
    return name, group, hint, sector


def _slug(session: Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[: SLUG_MAX - 4] or "category"
    taken = set(session.scalars(sa.select(Category.slug).where(Category.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_category(session: Session, details: CategoryDetails, *, by: User, ip: str = "") -> Category:
    """Add a category at the end of the list; its slug (used in URLs) is made from the name.

    Raises CategoryError naming each field to fix, NotAllowed unless ``by`` is an administrator.
    """
    if not permissions.can_manage_categories(by):
        raise NotAllowed("Only administrators manage categories")
    name, group, hint, sector = _checked(session, details, None)
    position = (session.scalar(sa.select(sa.func.max(Category.position))) or 0) + 1
    category = Category(
        slug=_slug(session, name),
        name=name,
        group=group,
        hint=hint,
        sensitive=details.sensitive,
        default_sector=sector,
        active=details.active,
        position=position,
    )
    session.add(category)
    session.flush()
    record(
        session,
        "category_created",
        actor=by,
        target=f"category:{category.id}",
        ip=ip,
        detail=f"{name} in {group}{' (sensitive)' if details.sensitive else ''}",
    )
    return category


def update_category(session: Session, category: Category, details: CategoryDetails, *, by: User, ip: str = "") -> None:
    """Change a category; the slug stays, so links keep working.

    Changing the sensitive flag also moves the public location of the category's existing
    reports (see ``move_public_points``). Raises CategoryError or NotAllowed.
    """
    if not permissions.can_manage_categories(by):
        raise NotAllowed("Only administrators manage categories")
    name, group, hint, sector = _checked(session, details, category)
    said = []
    for key, value in {
        "name": name,
        "group": group,
        "hint": hint,
        "sensitive": details.sensitive,
        "default_sector": sector,
        "active": details.active,
    }.items():
        before = getattr(category, key)
        if before != value:
            setattr(category, key, value)
            said.append(f"{key}: {_show(before)} → {_show(value)}")
    session.flush()
    if any(change.startswith("sensitive:") for change in said):
        moved = move_public_points(session, category)
        said.append(f"{moved} reports' public locations recomputed")
        # Every report in the category moved cells: look for findings again at the next pass.
        request_run(session, "hotspot_alerts")
    if said:
        record(session, "category_updated", actor=by, target=f"category:{category.id}", ip=ip, detail="; ".join(said))


def move_public_points(session: Session, category: Category, *, batch: int = 1000) -> int:
    """Recompute where the public sees each report in ``category`` (exact, or coarsened to
    ~500 m if it is sensitive) and move them in the map's cell counts; returns how many."""
    moved, last_id = 0, 0
    while True:
        reports = list(
            session.scalars(
                sa.select(Report)
                .where(Report.category_id == category.id, Report.id > last_id)
                .order_by(Report.id)
                .limit(batch)
            )
        )
        if not reports:
            return moved
        published = [r for r in reports if r.published_at is not None]
        aggregates.remove(session, published)
        for report in reports:
            shown = public_point(Point(lon=report.lon, lat=report.lat), category)
            report.public_lon, report.public_lat = shown.lon, shown.lat
            report.public_geom = point_geometry(shown)
        session.flush()
        aggregates.add(session, published)
        moved += len(reports)
        last_id = reports[-1].id


def _show(value: object) -> str:
    return repr(value.value) if isinstance(value, Sector) else repr(value)


def all_categories(session: Session) -> list[Category]:
    """Every category, active or retired, in the order the report form lists them."""
    return list(session.scalars(sa.select(Category).order_by(Category.position, Category.id)))
