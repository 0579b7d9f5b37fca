"""The report lifecycle: which status changes are allowed, who may make each, and what each needs.

``TRANSITIONS`` is the one definition. Services call ``check_transition`` before changing a
report's status, and pages call ``allowed_targets`` to offer only the changes a person may make.
docs/coordination.md shows the same table (``markdown_table``; a test checks they agree).

This module decides only the rules. Who counts as which ``Actor`` on a report (the lead
partner's members, say) is for the caller to work out from the case.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.reports.models import CloseReason, ReportStatus

LONDON = ZoneInfo("Europe/London")
REOPEN_WINDOW = dt.timedelta(days=28)


class Actor(enum.StrEnum):
    """Someone's relation to one report."""

    REPORTER = "reporter"  # the resident who made the report
    LEAD_PARTNER = "lead_partner"  # a member of the organisation leading the case
    SUPPORTING_PARTNER = "supporting_partner"  # a member of an organisation supporting it
    OTHER_PARTNER = "other_partner"  # a member of any other organisation, routed to it or not
    WARD_OFFICER = "ward_officer"  # a ward officer for the report's ward
    ADMIN = "admin"  # a council administrator (triage)
    ANYONE_ELSE = "anyone_else"  # the public, signed in or not

    @property
    def label(self) -> str:
        return {
            "reporter": "the person who made the report",
            "lead_partner": "the lead partner",
            "supporting_partner": "a supporting partner",
            "other_partner": "another partner organisation",
            "ward_officer": "a ward officer",
            "admin": "a council administrator",
            "anyone_else": "anyone else",
        }[self.value]


class Requirement(enum.StrEnum):
    PUBLIC_NOTE = "public_note"
    CLOSE_REASON = "close_reason"
    REOPEN_WINDOW = "reopen_window"

    @property
    def label(self) -> str:
        return {
            "public_note": "a public update saying why",
            "close_reason": "a reason for closing",
            "reopen_window": "within 28 days of being resolved",
        }[self.value]


@dataclass(frozen=True)
class Closure:
    """Why a report is closed: for a duplicate, which report it duplicates (``duplicate_of``,
    a report id); when referred elsewhere, to whom (``referred_to``).

    A missing detail is reported by ``check_transition``. A detail given with the wrong reason
    (a ``referred_to`` on a duplicate, say) is a programming error: ValueError.
    """

    reason: CloseReason
    duplicate_of: int | None = None
    referred_to: str | None = None

    def __post_init__(self) -> None:
        if self.duplicate_of is not None and self.reason != CloseReason.DUPLICATE:
            raise ValueError(f"Only a duplicate names the report it duplicates, not {self.reason.value}")
        if self.referred_to is not None and self.reason != CloseReason.REFERRED:
            raise ValueError(f"Only a referral names who it was referred to, not {self.reason.value}")


@dataclass(frozen=True)
class Transition:
    """One row of the table: ``actors`` may move a report from ``source`` to ``target``,
    given everything in ``requires``."""

    source: ReportStatus
    target: ReportStatus
    actors: frozenset[Actor]
    requires: frozenset[Requirement]
    meaning: str


def _row(
    source: ReportStatus, target: ReportStatus, actors: Iterable[Actor], requires: Iterable[Requirement], meaning: str
) -> Transition:
    return Transition(source, target, frozenset(actors), frozenset(requires), meaning)


_S, _A, _R = ReportStatus, Actor, Requirement
_LEAD_OR_ADMIN = (_A.LEAD_PARTNER, _A.ADMIN)

# Every status change needs a public update saying why (issue 5). Supporting partners, other
# partners, ward officers and the public change no status: they add actions, notes and replies.
TRANSITIONS: tuple[Transition, ...] = (
    _row(
        _S.NEW,
        _S.ACKNOWLEDGED,
        [_A.LEAD_PARTNER],
        [_R.PUBLIC_NOTE],
        "An organisation has claimed the lead and tells the resident",
    ),
    _row(
        _S.NEW,
        _S.CLOSED,
        [_A.ADMIN],
        [_R.PUBLIC_NOTE, _R.CLOSE_REASON],
        "Council triage closes it before anyone leads it",
    ),
    _row(_S.ACKNOWLEDGED, _S.IN_PROGRESS, _LEAD_OR_ADMIN, [_R.PUBLIC_NOTE], "Work has started"),
    _row(_S.ACKNOWLEDGED, _S.RESOLVED, _LEAD_OR_ADMIN, [_R.PUBLIC_NOTE], "Put right without further work"),
    _row(_S.ACKNOWLEDGED, _S.CLOSED, _LEAD_OR_ADMIN, [_R.PUBLIC_NOTE, _R.CLOSE_REASON], "Closed without a fix"),
    _row(_S.IN_PROGRESS, _S.RESOLVED, _LEAD_OR_ADMIN, [_R.PUBLIC_NOTE], "The work is done"),
    _row(_S.IN_PROGRESS, _S.CLOSED, _LEAD_OR_ADMIN, [_R.PUBLIC_NOTE, _R.CLOSE_REASON], "Closed without a fix"),
    _row(
        _S.RESOLVED,
        _S.IN_PROGRESS,
        [_A.REPORTER],
        [_R.PUBLIC_NOTE, _R.REOPEN_WINDOW],
        "The resident says it is not put right and reopens it",
    ),
    _row(
        _S.RESOLVED,
        _S.IN_PROGRESS,
        _LEAD_OR_ADMIN,
        [_R.PUBLIC_NOTE],
        "Reopened by the lead, or by the council (for a resident who asks later)",
    ),
    _row(
        _S.RESOLVED,
        _S.CLOSED,
        _LEAD_OR_ADMIN,
        [_R.PUBLIC_NOTE, _R.CLOSE_REASON],
        "Closed for good, for instance with no further action",
    ),
    _row(_S.CLOSED, _S.NEW, [_A.ADMIN], [_R.PUBLIC_NOTE], "A closure is undone: back to triage to be routed again"),
)


class TransitionError(ValueError):
    """A status change that is not allowed or lacks something. ``errors`` maps each form field
    ("status", "note", "reason", "duplicate_of", "referred_to") to a message in plain English."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def find_transition(current: ReportStatus, target: ReportStatus, actor: Actor) -> Transition | None:
    """The row that lets ``actor`` move a report from ``current`` to ``target``, if any."""
    return next((t for t in TRANSITIONS if (t.source, t.target) == (current, target) and actor in t.actors), None)


def check_transition(
    current: ReportStatus,
    target: ReportStatus,
    actor: Actor,
    *,
    now: dt.datetime,
    resolved_at: dt.datetime | None = None,
    reason: Closure | None = None,
    note: str | None = None,
    report_id: int | None = None,
) -> None:
    """Check that ``actor`` may move a report from ``current`` to ``target`` now, with this
    closing ``reason`` and public update ``note``: return None if so, or raise TransitionError
    saying why not.

    ``resolved_at`` (when the report was last resolved) is needed when the reporter reopens
    it; ``report_id`` lets a report be refused as a duplicate of itself.

    Raises TransitionError if the change is not in the table, not open to ``actor``, outside
    the reopen window, or lacks a note, a reason or a reason's detail (all the missing inputs
    at once); ValueError if ``now`` or ``resolved_at`` is naive, if ``resolved_at`` is after
    ``now``, or if the reporter reopens a report without ``resolved_at``.
    """
    _aware(now, "now")
    if resolved_at is not None:
        _aware(resolved_at, "resolved_at")
        if resolved_at > now:
            raise ValueError(f"resolved_at ({resolved_at.isoformat()}) is after now ({now.isoformat()})")
    row = _row_for(current, target, actor)
    errors: dict[str, str] = {}
    if Requirement.REOPEN_WINDOW in row.requires:
        if resolved_at is None:
            raise ValueError("resolved_at is needed to check the 28-day reopening window")
        if now - resolved_at > REOPEN_WINDOW:
            raise TransitionError(
                {
                    "status": "This report was resolved more than 28 days ago, on "
                    f"{_date_text(resolved_at)}, so it can no longer be reopened. Make a new report instead."
                }
            )
    if Requirement.CLOSE_REASON in row.requires:
        _check_closure(reason, report_id, errors)
    elif reason is not None:
        errors["reason"] = "A reason is only given when closing a report."
    if Requirement.PUBLIC_NOTE in row.requires and not (note and note.strip()):
        errors["note"] = f"Write a public update saying why {_why(target)}."
    if errors:
        raise TransitionError(errors)


def allowed_targets(
    current: ReportStatus, actor: Actor, *, now: dt.datetime | None = None, resolved_at: dt.datetime | None = None
) -> list[ReportStatus]:
    """The statuses ``actor`` may move a report from ``current`` to, in lifecycle order, for
    offering on a page (the note and reason are asked for there). A change that depends on the
    reopen window is included only if ``now`` and ``resolved_at`` show it is still open.

    Raises ValueError if ``now`` or ``resolved_at`` is naive.
    """
    if now is not None:
        _aware(now, "now")
    if resolved_at is not None:
        _aware(resolved_at, "resolved_at")
    allowed = []
    for status in ReportStatus:
        row = find_transition(current, status, actor)
        if row is None:
            continue
        if Requirement.REOPEN_WINDOW in row.requires and (
            now is None or resolved_at is None or not resolved_at <= now <= resolved_at + REOPEN_WINDOW
        ):
            continue
        allowed.append(status)
    return allowed


def markdown_table() -> str:
    """The table as Markdown, for docs/coordination.md."""
    lines = ["| From | To | Who | Needs | What it means |", "| --- | --- | --- | --- | --- |"]
    for t in TRANSITIONS:
        who = ", ".join(a.value for a in Actor if a in t.actors)
        needs = ", ".join(r.label for r in Requirement if r in t.requires)
        lines.append(f"| {t.source.label} | {t.target.label} | {who} | {needs} | {t.meaning} |")
    return "\n".join(lines) + "\n"


# --- Messages ------------------------------------------------------------------------------------


def _aware(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (UTC), not naive: {moment.isoformat()}")


def _row_for(current: ReportStatus, target: ReportStatus, actor: Actor) -> Transition:
    if current == target:
        raise TransitionError({"status": f"This report is already {current.label.lower()}."})
    rows = [t for t in TRANSITIONS if (t.source, t.target) == (current, target)]
    if not rows:
        raise TransitionError({"status": f"A report cannot go from {current.label.lower()} to {target.label.lower()}."})
    row = next((t for t in rows if actor in t.actors), None)
    if row is None:
        who = [a.label for a in Actor if any(a in t.actors for t in rows)]
        names = who[0] if len(who) == 1 else ", ".join(who[:-1]) + " or " + who[-1]
        raise TransitionError({"status": f"Only {names} can {_change(current, target)}."})
    return row


def _change(current: ReportStatus, target: ReportStatus) -> str:
    report = {
        ReportStatus.NEW: "a new report",
        ReportStatus.ACKNOWLEDGED: "an acknowledged report",
        ReportStatus.IN_PROGRESS: "a report in progress",
        ReportStatus.RESOLVED: "a resolved report",
        ReportStatus.CLOSED: "a closed report",
    }[current]
    if target == ReportStatus.CLOSED:
        return f"close {report}"
    if not current.is_open:
        return f"reopen {report}"
    if target == ReportStatus.ACKNOWLEDGED:
        return f"acknowledge {report}, by claiming the lead"
    return f"mark {report} as {target.label.lower()}"


def _why(target: ReportStatus) -> str:
    return {
        ReportStatus.NEW: "the report is going back to triage",
        ReportStatus.ACKNOWLEDGED: "your organisation is taking the lead",
        ReportStatus.IN_PROGRESS: "the report is now in progress",
        ReportStatus.RESOLVED: "the report is resolved",
        ReportStatus.CLOSED: "the report is being closed",
    }[target]


def _check_closure(reason: Closure | None, report_id: int | None, errors: dict[str, str]) -> None:
    if reason is None:
        choices = ", ".join(r.label.lower() for r in CloseReason)
        errors["reason"] = f"Choose why the report is being closed: {choices}."
    elif reason.reason == CloseReason.DUPLICATE:
        if reason.duplicate_of is None:
            errors["duplicate_of"] = "Say which report this one duplicates."
        elif reason.duplicate_of == report_id:
            errors["duplicate_of"] = "A report cannot be a duplicate of itself."
    elif reason.reason == CloseReason.REFERRED and not (reason.referred_to and reason.referred_to.strip()):
        errors["referred_to"] = "Say who the report has been referred to."


def _date_text(moment: dt.datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%B %Y}"
