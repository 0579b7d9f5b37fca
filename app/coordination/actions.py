"""Actions on a case: a piece of work owned by an organisation on the case, assigned to one of
its members, due on a day.

An organisation that has claimed the case (lead or supporting) adds actions; the members of
the organisation that owns an action change it. Days are days in Europe/London: an action is
overdue while it is open (planned or in progress) and its due date is before today there.
Every change is a ``CaseEvent`` (one "action added", or one "action changed" per field, with
the old and new values) and an audit event; the assignee is emailed when someone else assigns
them. Every function flushes but never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, raiseload

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination.errors import CoordinationError
from app.coordination.history import log
from app.coordination.models import BODY_MAX, TITLE_MAX, ActionStatus, Case, CaseAction, EventKind
from app.coordination.queries import load_case
from app.db import utcnow
from app.mail.services import queue_email
from app.partners.models import Membership, Organisation
from app.partners.services import NotAllowed
from app.reports.models import Report
from app.reports.queries import FilterError

LONDON = ZoneInfo("Europe/London")
OPEN = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
# "My actions" filter: which statuses each choice shows.
SHOW = {"open": "Open", "done": "Done or cancelled", "all": "All"}

# Absolute link to an action's page, for the email to its assignee (the view knows the URL).
ActionLink = Callable[[CaseAction], str]


def today(now: dt.datetime | None = None) -> dt.date:
    """The date in Europe/London at ``now`` (default: this instant). Raises ValueError if
    ``now`` is naive."""
    moment = now or utcnow()
    if moment.tzinfo is None:
        raise ValueError("today() needs a timezone-aware datetime")
    return moment.astimezone(LONDON).date()


def is_overdue(action: CaseAction, on: dt.date) -> bool:
    """Still open and due before ``on`` (today in Europe/London): due today is not overdue."""
    return action.status.is_open and action.due_on < on


def date_text(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class ActionInput:
    """An action as typed into its form: every value a string, not yet checked."""

    title: str = ""
    details: str = ""
    assignee: str = ""
    due_day: str = ""
    due_month: str = ""
    due_year: str = ""
    status: str = ""
    note: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> ActionInput:
        """From the form's fields: title, details, assignee, due-day, due-month, due-year,
        status and note."""
        return cls(
            title=form.get("title", ""),
            details=form.get("details", ""),
            assignee=form.get("assignee", ""),
            due_day=form.get("due-day", ""),
            due_month=form.get("due-month", ""),
            due_year=form.get("due-year", ""),
            status=form.get("status", ""),
            note=form.get("note", ""),
        )

    @classmethod
    def of(cls, action: CaseAction) -> ActionInput:
        """An existing action's values, to fill its edit form."""
        return cls(
            title=action.title,
            details=action.details,
            assignee=str(action.assignee_id or ""),
            due_day=str(action.due_on.day),
            due_month=str(action.due_on.month),
            due_year=str(action.due_on.year),
            status=action.status.value,
            note=action.completion_note,
        )


# --- Checking what was typed -----------------------------------------------------------------


def parse_due(day: str, month: str, year: str) -> dt.date:
    """The date from a GOV.UK date input. Raises CoordinationError keyed by the first part to
    fix (``due-day``, ``due-month`` or ``due-year``): a part missing, a year without 4 digits,
    or not a real date."""
    parts = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    missing = [name for name, value in parts.items() if not value]
    if len(missing) == len(parts):
        raise CoordinationError({"due-day": "Enter the date the action is due"})
    if missing:
        raise CoordinationError({f"due-{missing[0]}": f"The due date must include a {' and '.join(missing)}"})
    if not all(value.isdigit() for value in parts.values()):
        raise CoordinationError({"due-day": "The due date must be a real date"})
    if len(parts["year"]) != 4:
        raise CoordinationError({"due-year": "The year must include 4 numbers"})
    try:
        return dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        raise CoordinationError({"due-day": "The due date must be a real date"}) from None


def _text(value: str, limit: int, too_long: str, errors: dict[str, str], field: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        errors[field] = too_long
    return text


def members(organisation: Organisation) -> list[User]:
    """The people an action of ``organisation`` can be assigned to: its members and
    coordinators with an account, by name."""
    people = [m.user for m in organisation.memberships if m.user.deleted_at is None]
    return sorted(people, key=lambda u: (u.display_name.casefold(), u.id))


def _assignee(
    session: Session, organisation: Organisation, value: str, errors: dict[str, str], *, current: int | None
) -> User | None:
    """The member the form names. Anyone who is not a member of ``organisation`` is refused,
    whatever id the form carries (keeping an assignee who has since left is allowed)."""
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        errors["assignee"] = "Choose who the action is assigned to"
        return None
    if current is not None and user_id == current:
        return session.get(User, user_id)
    member = session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, User.deleted_at.is_(None), Membership.organisation_id == organisation.id)
    )
    if member is None:
        errors["assignee"] = f"Choose someone in {organisation.label}"
    return member


def _status(value: str, errors: dict[str, str]) -> ActionStatus | None:
    try:
        return ActionStatus(value)
    except ValueError:
        errors["status"] = "Choose the status of the action"
        return None


def _due(data: ActionInput, errors: dict[str, str], *, not_before: dt.date | None) -> dt.date | None:
    try:
        due = parse_due(data.due_day, data.due_month, data.due_year)
    except CoordinationError as exc:
        errors.update(exc.errors)
        return None
    if not_before is not None and due < not_before:
        errors["due-day"] = "The due date must be today or in the future"
    return due


def _note(status: ActionStatus | None, value: str, errors: dict[str, str]) -> str:
    """The completion note: needed to mark an action done ("say what was done") or cancelled
    ("say why")."""
    note = _text(value, BODY_MAX, f"The completion note must be {BODY_MAX:,} characters or fewer", errors, "note")
    if not note and status == ActionStatus.DONE:
        errors["note"] = "Say what was done"
    elif not note and status == ActionStatus.CANCELLED:
        errors["note"] = "Say why it was cancelled"
    return note


def _checked_case(session: Session, report_id: int) -> Case:
    case = load_case(session, report_id)
    if case is None:
        raise NotAllowed("You cannot do that")
    return case


# --- Adding and changing ---------------------------------------------------------------------


def add_action(
    session: Session,
    report: Report,
    organisation: Organisation,
    data: ActionInput,
    *,
    by: User,
    action_link: ActionLink,
    ip: str = "",
    now: dt.datetime | None = None,
) -> CaseAction:
    """Add an action owned by ``organisation`` to ``report``'s case, for ``by``.

    Emails the assignee unless they added it themselves. Raises NotAllowed unless ``by`` is a
    member of ``organisation`` and it has claimed the case (lead or supporting);
    CoordinationError with every problem in ``data`` at once (field → message): no title or
    one over ``TITLE_MAX``, details over ``BODY_MAX``, an assignee who is not a member of
    ``organisation``, a missing, unreal or past due date (today in Europe/London is allowed),
    an unknown status, or no completion note for a done or cancelled action.
    """
    case = _checked_case(session, report.id)
    if not permissions.can_add_action(by, case, organisation):
        raise NotAllowed("You cannot do that")
    moment = now or utcnow()
    errors: dict[str, str] = {}
    title = _text(data.title, TITLE_MAX, f"The title must be {TITLE_MAX} characters or fewer", errors, "title")
    if not title:
        errors["title"] = "Enter a title for the action"
    details = _text(data.details, BODY_MAX, f"The details must be {BODY_MAX:,} characters or fewer", errors, "details")
    assignee = _assignee(session, organisation, data.assignee, errors, current=None)
    due = _due(data, errors, not_before=today(moment))
    status = _status(data.status, errors)
    note = _note(status, data.note, errors)
    if errors:
        raise CoordinationError(errors)
    assert assignee is not None and due is not None and status is not None
    action = CaseAction(
        report_id=report.id,
        organisation=organisation,
        title=title,
        details=details,
        assignee=assignee,
        due_on=due,
        status=status,
        completion_note=note,
        created_by_id=by.id,
        created_at=moment,
        updated_at=moment,
        completed_at=None if status.is_open else moment,
    )
    session.add(action)
    session.flush()
    log(
        session,
        report,
        EventKind.ACTION_ADDED,
        by=by,
        organisation=organisation,
        new=title,
        detail=f"Assigned to {assignee.display_name}, due {date_text(due)}, {status.label.lower()}"
        + (f": {note}" if note else ""),
        at=moment,
    )
    record(
        session,
        "action_added",
        actor=by,
        target=f"action:{action.id}",
        ip=ip,
        detail=f"{report.reference} for {organisation.name}: {title}",
    )
    if assignee.id != by.id:
        _tell_assignee(session, action, report, assignee, by=by, action_link=action_link)
    return action


# Fields a member of the owning organisation may change, in the order they are logged.
FIELDS = {
    "status": "Status",
    "assignee": "Assignee",
    "due": "Due date",
    "details": "Details",
    "note": "Completion note",
}


def _short(text: str) -> str:
    """Text for an event's old or new value (100 characters at most)."""
    return text if len(text) <= 100 else text[:99] + "…"


def change_action(
    session: Session,
    action: CaseAction,
    data: ActionInput,
    *,
    by: User,
    action_link: ActionLink,
    ip: str = "",
    now: dt.datetime | None = None,
) -> list[str]:
    """Change ``action``'s status, assignee, due date, details and completion note to what
    ``data`` says (its title stays). Returns the labels of the fields that changed, in
    ``FIELDS`` order (none: nothing is written).

    Each changed field is one "action changed" event with its old and new value. Marking an
    action done or cancelled sets ``completed_at``; opening it again clears it. A new assignee
    is emailed unless they made the change. Raises NotAllowed unless ``by`` is a member of the
    organisation that owns the action and it is on the case; CoordinationError with every
    problem at once: an unknown status, an assignee who is not a member (the current one may
    stay), a missing or unreal due date or a changed one in the past, details over
    ``BODY_MAX``, or no completion note for a done or cancelled action.
    """
    case = _checked_case(session, action.report_id)
    if not permissions.can_edit_action(by, case, action):
        raise NotAllowed("You cannot do that")
    moment = now or utcnow()
    organisation = action.organisation
    errors: dict[str, str] = {}
    status = _status(data.status, errors)
    assignee = _assignee(session, organisation, data.assignee, errors, current=action.assignee_id)
    due = _due(data, errors, not_before=None)
    if due is not None and due != action.due_on and due < today(moment) and not errors.get("due-day"):
        errors["due-day"] = "The due date must be today or in the future"
    details = _text(data.details, BODY_MAX, f"The details must be {BODY_MAX:,} characters or fewer", errors, "details")
    note = _note(status, data.note, errors)
    if errors:
        raise CoordinationError(errors)
    assert status is not None and assignee is not None and due is not None
    before = {
        "status": action.status.label,
        "assignee": action.assignee.display_name if action.assignee else "",
        "due": date_text(action.due_on),
        "details": action.details,
        "note": action.completion_note,
    }
    after = {
        "status": status.label,
        "assignee": assignee.display_name,
        "due": date_text(due),
        "details": details,
        "note": note,
    }
    reassigned = assignee.id != action.assignee_id
    changed = [key for key in FIELDS if before[key] != after[key] or (key == "assignee" and reassigned)]
    if not changed:
        return []
    if status != action.status:
        action.completed_at = None if status.is_open else moment
    action.status, action.assignee, action.due_on = status, assignee, due
    action.details, action.completion_note, action.updated_at = details, note, moment
    session.flush()
    report = case.report
    for key in changed:
        long_text = key in {"details", "note"}
        log(
            session,
            report,
            EventKind.ACTION_CHANGED,
            by=by,
            organisation=organisation,
            old=_short(before[key]),
            new=_short(after[key]),
            detail=f"{FIELDS[key]} of “{action.title}”" + (f": {after[key]}" if long_text and after[key] else ""),
            at=moment,
        )
    record(
        session,
        "action_changed",
        actor=by,
        target=f"action:{action.id}",
        ip=ip,
        detail=f"{report.reference}: "
        + "; ".join(f"{FIELDS[k]}: {_short(before[k])} → {_short(after[k])}" for k in changed),
    )
    if reassigned and assignee.id != by.id:
        _tell_assignee(session, action, report, assignee, by=by, action_link=action_link)
    return [FIELDS[key] for key in changed]


def _tell_assignee(
    session: Session, action: CaseAction, report: Report, assignee: User, *, by: User, action_link: ActionLink
) -> None:
    queue_email(
        session,
        to=assignee.email,
        template="action_assigned",
        context={
            "assignee_name": assignee.display_name,
            "assigned_by": by.display_name,
            "organisation_name": action.organisation.label,
            "title": action.title,
            "details": action.details,
            "due": date_text(action.due_on),
            "report_reference": report.reference,
            "report_title": report.title,
            "action_url": action_link(action),
        },
        kind="action_assigned",
    )


# --- Reading ---------------------------------------------------------------------------------

# Open actions first, then by due date (soonest first).
_OPEN_FIRST = sa.case((CaseAction.status.in_(OPEN), 0), else_=1)


def case_actions(session: Session, report_id: int) -> list[CaseAction]:
    """Every action on the case, open ones first, then by due date: one query (owner and
    assignee are loaded with it)."""
    return list(
        session.scalars(
            sa.select(CaseAction)
            .where(CaseAction.report_id == report_id)
            .order_by(_OPEN_FIRST, CaseAction.due_on, CaseAction.id)
        )
    )


def load_action(session: Session, report_id: int, action_id: int) -> CaseAction | None:
    """The action with this id on this case, or None (also when it belongs to another case)."""
    action = session.get(CaseAction, action_id)
    return action if action is not None and action.report_id == report_id else None


def parse_show(value: str | None) -> str:
    """The "My actions" filter from the query string (default "open"). Raises FilterError."""
    show = (value or "").strip() or "open"
    if show not in SHOW:
        raise FilterError("show", "Choose open, done or cancelled, or all actions")
    return show


@dataclass
class MyAction:
    """One of a person's actions, with the case it belongs to."""

    action: CaseAction
    report: Report


def my_actions(session: Session, user: User, *, show: str, page: int, per_page: int) -> tuple[list[MyAction], int]:
    """One page of the actions assigned to ``user`` in the active organisations they belong to
    now, open ones first and then by due date, with the total: two queries whatever the page
    size. ``show`` is a key of ``SHOW``."""
    organisation_ids = [m.organisation_id for m in user.memberships if m.organisation.active]
    clauses: list[sa.ColumnElement[bool]] = [
        CaseAction.assignee_id == user.id,
        CaseAction.organisation_id.in_(organisation_ids),
    ]
    if show == "open":
        clauses.append(CaseAction.status.in_(OPEN))
    elif show == "done":
        clauses.append(CaseAction.status.not_in(OPEN))
    total = session.scalar(sa.select(sa.func.count()).select_from(CaseAction).where(*clauses)) or 0
    rows = session.execute(
        sa.select(CaseAction, Report)
        .join(Report, Report.id == CaseAction.report_id)
        .options(raiseload(Report.photos))
        .where(*clauses)
        .order_by(_OPEN_FIRST, CaseAction.due_on, CaseAction.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).tuples()
    return [MyAction(action, report) for action, report in rows], total
