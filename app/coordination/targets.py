"""Editing an organisation's response targets, per category it covers.

A coordinator (for their own organisation) or an administrator sets, for each category, how
soon reports must be acknowledged and resolved: a number of working hours, of working days, or
both (whichever deadline comes first), in the organisation's own working time. A category
left blank uses ``deadlines.DEFAULT``. Saving recomputes the deadlines of the organisation's
open cases in the categories that changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import deadlines
from app.coordination.errors import CoordinationError
from app.coordination.models import ResponseTarget
from app.coordination.working_hours import WorkingHours, parse_working_hours
from app.coordination.working_time import LONDON, Target, Targets
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports.categories import all_categories
from app.reports.models import Category

# Sensible limits: a target longer than these is a typing slip, not a target.
HOURS_MAX = 1000  # about six months of office hours
DAYS_MAX = 365
# (field suffix, which target, unit) for the four boxes each category has.
FIELDS = (
    ("acknowledge-hours", "acknowledge", "hours"),
    ("acknowledge-days", "acknowledge", "days"),
    ("resolve-hours", "resolve", "hours"),
    ("resolve-days", "resolve", "days"),
)
_VERB = {"acknowledge": "acknowledged", "resolve": "resolved"}


def field_name(category_id: int, suffix: str) -> str:
    """The form field (and element id) of one box: ``target-12-acknowledge-hours``."""
    return f"target-{category_id}-{suffix}"


@dataclass(frozen=True)
class TargetLine:
    """One category the organisation covers: its own targets (None: the default applies)."""

    category: Category
    own: Targets | None

    @property
    def targets(self) -> Targets:
        return self.own or deadlines.DEFAULT

    def values(self) -> dict[str, str]:
        """The four boxes as the form shows them (blank when the default applies)."""
        if self.own is None:
            return {field_name(self.category.id, suffix): "" for suffix, _, _ in FIELDS}
        shown: dict[str, str] = {}
        for suffix, which, unit in FIELDS:
            target: Target = getattr(self.own, which)
            value: int | None
            if unit == "days":
                value = target.working_days
            else:
                value = None if target.working_time is None else int(target.working_time // dt.timedelta(hours=1))
            shown[field_name(self.category.id, suffix)] = "" if value is None else str(value)
        return shown


def covered_categories(session: Session, organisation: Organisation) -> list[Category]:
    """The categories ``organisation`` covers, in the usual order."""
    return [c for c in all_categories(session) if c.id in organisation.category_ids]


def target_lines(session: Session, organisation: Organisation) -> list[TargetLine]:
    """Each category the organisation covers, with its own targets if it has set any."""
    rows = {
        row.category_id: row
        for row in session.scalars(sa.select(ResponseTarget).where(ResponseTarget.organisation_id == organisation.id))
    }
    return [
        TargetLine(c, deadlines.targets_of(rows[c.id]) if c.id in rows else None)
        for c in covered_categories(session, organisation)
    ]


def readable_hours(organisation: Organisation) -> WorkingHours | None:
    """The organisation's working hours, or None if its text cannot be read (office hours
    then apply: ``deadlines.OFFICE_HOURS``)."""
    try:
        return parse_working_hours(organisation.working_hours or "")
    except ValueError:
        return None


def example_start(now: dt.datetime) -> dt.datetime:
    """4pm UK time on the next Friday after ``now`` (today if it is a Friday before 4pm): the
    moment the targets page's worked example starts from."""
    local = now.astimezone(LONDON)
    day = local.date() + dt.timedelta(days=(4 - local.weekday()) % 7)
    start = dt.datetime.combine(day, dt.time(16), tzinfo=LONDON)
    if start <= local:
        start = dt.datetime.combine(day + dt.timedelta(days=7), dt.time(16), tzinfo=LONDON)
    return start.astimezone(dt.UTC)


def _whole(raw: str, label: str, maximum: int, unit: str) -> tuple[int | None, str | None]:
    text = (raw or "").strip()
    if not text:
        return None, None
    if not text.isdigit():
        return None, f"{label} must be a whole number of working {unit}, like 8"
    value = int(text)
    if value < 1:
        return None, f"{label} must be at least 1 working {unit[:-1]}"
    if value > maximum:
        return None, f"{label} must be {maximum:,} working {unit} or fewer"
    return value, None


def parse_targets(
    categories: list[Category], form: Mapping[str, str]
) -> tuple[dict[int, Targets | None], dict[str, str]]:
    """Read the four boxes of each category in ``categories`` from ``form``: {category id:
    its targets, or None for all four blank (the default)} and {field: what to fix}. Fields
    for other categories are ignored: only the organisation's own categories are read."""
    chosen: dict[int, Targets | None] = {}
    errors: dict[str, str] = {}
    for category in categories:
        numbers: dict[str, int | None] = {}
        for suffix, which, unit in FIELDS:
            name = field_name(category.id, suffix)
            label = f"{category.name}: {which} within working {unit}"
            value, problem = _whole(form.get(name, ""), label, HOURS_MAX if unit == "hours" else DAYS_MAX, unit)
            numbers[suffix] = value
            if problem:
                errors[name] = problem
        if any(field_name(category.id, suffix) in errors for suffix, _, _ in FIELDS):
            continue
        if all(v is None for v in numbers.values()):
            chosen[category.id] = None
            continue
        pair: dict[str, Target] = {}
        for which in ("acknowledge", "resolve"):
            hours, days = numbers[f"{which}-hours"], numbers[f"{which}-days"]
            if hours is None and days is None:
                errors[field_name(category.id, f"{which}-hours")] = (
                    f"{category.name}: enter how many working hours or working days reports must be "
                    f"{_VERB[which]} in, or leave all four boxes blank to use the standard targets"
                )
                continue
            pair[which] = Target(None if hours is None else dt.timedelta(hours=hours), days)
        if len(pair) == 2:
            chosen[category.id] = Targets(pair["acknowledge"], pair["resolve"])
    return chosen, errors


def _minutes(target: Target) -> int | None:
    return None if target.working_time is None else int(target.working_time // dt.timedelta(minutes=1))


def save_targets(
    session: Session, organisation: Organisation, form: Mapping[str, str], *, by: User, ip: str = ""
) -> list[Category]:
    """Set ``organisation``'s targets for each category it covers from the form's boxes, and
    recompute the deadlines of its open cases in the categories that changed (batched).
    Returns the categories that changed.

    Raises NotAllowed unless ``by`` may manage the organisation's targets (its coordinators,
    administrators); CoordinationError, naming each box to fix, for anything that is not a
    whole number in range or a target with neither hours nor days.
    """
    if not permissions.can_manage_targets(by, organisation):
        raise NotAllowed("You cannot do that")
    lines = {line.category.id: line for line in target_lines(session, organisation)}
    chosen, errors = parse_targets([line.category for line in lines.values()], form)
    if errors:
        raise CoordinationError(errors)
    rows = {
        row.category_id: row
        for row in session.scalars(sa.select(ResponseTarget).where(ResponseTarget.organisation_id == organisation.id))
    }
    changed: list[Category] = []
    said: list[str] = []
    for category_id, targets in chosen.items():
        line = lines[category_id]
        if targets == line.own:
            continue
        row = rows.get(category_id)
        if targets is None:
            if row is not None:
                session.delete(row)
        else:
            if row is None:
                row = ResponseTarget(organisation_id=organisation.id, category_id=category_id)
                session.add(row)
            row.acknowledge_minutes, row.acknowledge_days = (
                _minutes(targets.acknowledge),
                targets.acknowledge.working_days,
            )
            row.resolve_minutes, row.resolve_days = _minutes(targets.resolve), targets.resolve.working_days
        changed.append(line.category)
        said.append(f"{line.category.name}: {describe(line.own)} → {describe(targets)}")
    session.flush()
    if changed:
        deadlines.refresh_organisation(session, organisation, [c.id for c in changed])
        record(
            session,
            "response_targets_updated",
            actor=by,
            target=f"organisation:{organisation.id}",
            ip=ip,
            detail="; ".join(said),
        )
    return changed


def describe(targets: Targets | None) -> str:
    """ "acknowledge within 4 working hours, resolve within 10 working days", or "the standard targets"."""
    if targets is None:
        return "the standard targets"
    return f"acknowledge within {targets.acknowledge.to_text()}, resolve within {targets.resolve.to_text()}"
