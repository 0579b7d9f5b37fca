"""Time remaining and time overdue, in words, for the case page, the inbox and the digest.

Deadlines are instants (``Report.acknowledge_due_at``, ``resolve_due_at``, a route's
``acknowledge_due_at``) worked out in the organisation's working time by
``app.coordination.deadlines``. Here they are only described: how long until (or since) the
deadline in real elapsed time, and the deadline itself in UK local time, so "Due in 3 hours,
by 4:30pm on Thursday 26 November" is right across a clock change. A deadline is overdue
only once it has passed: at the very instant it is due, it is "Due now".
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from app.coordination.working_hours import time_text
from app.coordination.working_time import LONDON
from app.reports.models import Report, ReportStatus

# Within this long of its deadline, open work is "Due soon".
SOON = dt.timedelta(hours=24)


class TimingState(enum.StrEnum):
    NONE = "none"  # no deadline (nobody has it, or nobody leads it yet)
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MISSED = "missed"

    @property
    def label(self) -> str:
        """The text of the tag: it says the state in words, never by colour alone."""
        return {
            "none": "No target yet",
            "on_track": "On track",
            "due_soon": "Due soon",
            "overdue": "Overdue",
            "met": "Met",
            "missed": "Missed",
        }[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "none": "govuk-tag--grey",
            "on_track": "govuk-tag--blue",
            "due_soon": "govuk-tag--yellow",
            "overdue": "govuk-tag--red",
            "met": "govuk-tag--green",
            "missed": "govuk-tag--orange",
        }[self.value]


@dataclass(frozen=True)
class Timing:
    """Where one piece of work stands against its deadline: ``state`` for the tag, ``text``
    for the sentence beside it."""

    state: TimingState
    text: str
    due_at: dt.datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.state == TimingState.OVERDUE

    @property
    def detail(self) -> str:
        """The sentence for beside a tag that already says "Met" or "Missed"."""
        for prefix in ("Met: ", "Missed: "):
            if self.text.startswith(prefix):
                rest = self.text.removeprefix(prefix)
                return rest[:1].upper() + rest[1:]
        return self.text


def when(moment: dt.datetime, *, now: dt.datetime | None = None) -> str:
    """ "4:30pm on Thursday 26 November" (or "the end of Friday 27 November" for midnight) in
    UK local time, with the year when it is not the year of ``now``. Raises ValueError for a naive datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"A deadline must be timezone-aware: {moment.isoformat()}")
    local = moment.astimezone(LONDON)
    clock = local.time().replace(second=0, microsecond=0)
    if clock == dt.time(0):
        # "midnight on Saturday" is read both ways: name the day that is ending instead.
        local -= dt.timedelta(minutes=1)
        text = f"the end of {local:%A} {local.day} {local:%B}"
    else:
        text = f"{time_text(clock)} on {local:%A} {local.day} {local:%B}"
    if now is not None and now.astimezone(LONDON).year != local.year:
        text += f" {local.year}"
    return text


def duration_text(span: dt.timedelta) -> str:
    """A length of time in whole units, rounded down: "1 minute", "3 hours", "2 days".
    Minutes under an hour, hours under two days, days after that; "less than a minute"."""
    minutes = int(abs(span) // dt.timedelta(minutes=1))
    if minutes == 0:
        return "less than a minute"
    if minutes < 60:
        return _plural(minutes, "minute")
    hours = minutes // 60
    if hours < 48:
        return _plural(hours, "hour")
    return _plural(hours // 24, "day")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def against(due_at: dt.datetime | None, *, now: dt.datetime, done_at: dt.datetime | None = None, done: str) -> Timing:
    """Where work with deadline ``due_at`` stands at ``now``; ``done_at`` is when it was done
    (None while it is still to do), ``done`` the verb for it ("acknowledged", "resolved").

    Raises ValueError for naive datetimes.
    """
    if due_at is None:
        return Timing(TimingState.NONE, "No target yet")
    by = when(due_at, now=now)
    if done_at is not None:
        gap = due_at - done_at
        if gap >= dt.timedelta(0):
            early = (
                "exactly on the target" if gap < dt.timedelta(minutes=1) else f"{duration_text(gap)} before the target"
            )
            return Timing(TimingState.MET, f"Met: {done} {early}", due_at)
        return Timing(TimingState.MISSED, f"Missed: {done} {duration_text(gap)} after the target ({by})", due_at)
    left = due_at - now
    if left < dt.timedelta(0):
        return Timing(TimingState.OVERDUE, f"Overdue by {duration_text(left)} (due by {by})", due_at)
    if left < dt.timedelta(minutes=1):
        return Timing(TimingState.DUE_SOON, f"Due now, by {by}", due_at)
    state = TimingState.DUE_SOON if left <= SOON else TimingState.ON_TRACK
    return Timing(state, f"Due in {duration_text(left)}, by {by}", due_at)


def acknowledgement(report: Report, *, now: dt.datetime) -> Timing:
    """The report's acknowledgement against its earliest acknowledgement target."""
    if report.acknowledged_at is None and not report.status.is_open:
        return Timing(TimingState.NONE, f"Not acknowledged: {report.status.label.lower()} first")
    return against(report.acknowledge_due_at, now=now, done_at=report.acknowledged_at, done="acknowledged")


def resolution(report: Report, *, now: dt.datetime) -> Timing:
    """The report's resolution against the lead's resolve target. A closed report counts as
    done when it was closed; a reopened one is open again."""
    if report.resolve_due_at is None and not report.status.is_open:
        return Timing(TimingState.NONE, f"No resolution target: {report.status.label.lower()} before anyone led it")
    if report.status == ReportStatus.RESOLVED:
        return against(report.resolve_due_at, now=now, done_at=report.resolved_at or now, done="resolved")
    if report.status == ReportStatus.CLOSED:
        return against(report.resolve_due_at, now=now, done_at=report.closed_at or now, done="closed")
    if report.resolve_due_at is None:
        return Timing(TimingState.NONE, "No target until an organisation leads it")
    return against(report.resolve_due_at, now=now, done="resolved")
