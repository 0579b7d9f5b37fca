"""Working-time arithmetic for response targets.

An organisation's targets ("acknowledge within 4 working hours", "resolve within 10 working
days") count only its working time: its hours in UK local time (Europe/London: GMT in winter,
BST in summer), less bank holidays in England and Wales unless it works on them. Bank holidays
come from the maintained ``holidays`` package, substitute days included.

Every function takes timezone-aware datetimes (in any zone; UTC by convention) and returns
them in UTC. A naive datetime raises ValueError: it could be local or UTC, and guessing would
move deadlines by an hour for half the year.

Each day's working window is worked out in local time and then turned into UTC, so the
spring change (a 23-hour day) and the autumn change (a 25-hour day) count exactly the hours
that really pass. A local time that the spring change skips stands for the instant the clocks
jump; one that the autumn change repeats means its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from app.coordination.working_hours import MIDNIGHT, Opening, WorkingHours, parse_working_hours
from app.reports.models import Priority

__all__ = [
    "LONDON",
    "Opening",
    "Priority",
    "Target",
    "Targets",
    "WorkingHours",
    "add_working_days",
    "add_working_time",
    "bank_holidays",
    "is_bank_holiday",
    "is_working_time",
    "parse_working_hours",
    "targets_for",
    "working_time_between",
]

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)
# Every week has a working day and bank holidays never fill one, so a search that finds no
# working time in this many days has a bug in it rather than a long holiday.
_SEARCH_LIMIT_DAYS = 366


# --- Bank holidays -----------------------------------------------------------------------------


@functools.cache
def bank_holidays(year: int) -> Mapping[dt.date, str]:
    """Bank holidays in England and Wales in ``year``, with their names, substitute days
    (such as "Boxing Day (observed)") and one-off ones (such as a coronation) included."""
    found = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return MappingProxyType(dict(sorted(found.items())))


def is_bank_holiday(day: dt.date) -> bool:
    return day in bank_holidays(day.year)


# --- Working windows -------------------------------------------------------------------------


def _utc(moment: dt.datetime, name: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (UTC), not naive: {moment.isoformat()}")
    return moment.astimezone(UTC)


def _local_to_utc(day: dt.date, clock: dt.time) -> dt.datetime:
    """The first instant at which the local clock on ``day`` reads ``clock`` or later."""
    wall = dt.datetime.combine(day, clock)
    first = wall.replace(tzinfo=LONDON).astimezone(UTC)  # fold=0: the first of a repeated time
    if first.astimezone(LONDON).replace(tzinfo=None) == wall:
        return first
    # Skipped by the spring change. fold=1 reads it with the later offset: an instant before
    # the jump; fold=0 reads it with the earlier one: an instant after. Find the jump itself.
    before, after = wall.replace(tzinfo=LONDON, fold=1).astimezone(UTC), first
    while after - before > dt.timedelta(seconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(LONDON).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0)


def _window(day: dt.date, hours: WorkingHours) -> tuple[dt.datetime, dt.datetime] | None:
    """The working window on local date ``day`` in UTC, or None if it is not a working day."""
    opening: Opening | None = hours.days[day.weekday()]
    if opening is None or (not hours.open_on_bank_holidays and is_bank_holiday(day)):
        return None
    start = _local_to_utc(day, opening.opens)
    end = _local_to_utc(day + ONE_DAY, MIDNIGHT) if opening.closes == MIDNIGHT else _local_to_utc(day, opening.closes)
    return (start, end) if end > start else None


def _windows(start: dt.datetime, hours: WorkingHours) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working windows that end after ``start``, in order, the first one clipped to begin at
    ``start``. Endless: callers stop when they have what they need."""
    day = start.astimezone(LONDON).date()
    idle = 0
    while True:
        window = _window(day, hours)
        if window is not None and window[1] > start:
            idle = 0
            yield max(window[0], start), window[1]
        else:
            idle += 1
            if idle > _SEARCH_LIMIT_DAYS:
                raise RuntimeError(f"No working time within {_SEARCH_LIMIT_DAYS} days of {start.isoformat()}")
        day += ONE_DAY


# --- Counting ----------------------------------------------------------------------------------


def add_working_time(start: dt.datetime, duration: dt.timedelta, hours: WorkingHours) -> dt.datetime:
    """The deadline ``duration`` of working time after ``start``, in UTC.

    A deadline that falls at the end of a working window is that closing time, not the next
    opening: 1 working hour from 4pm on a 9am-to-5pm Friday is 5pm that Friday. A zero
    duration gives ``start`` itself.

    Raises ValueError if ``start`` is naive or ``duration`` is negative.
    """
    start = _utc(start, "start")
    if duration < dt.timedelta(0):
        raise ValueError(f"Working time to add cannot be negative: {duration}")
    if not duration:
        return start
    remaining = duration
    for opens, closes in _windows(start, hours):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: _windows never ends")


def add_working_days(start: dt.datetime, days: int, hours: WorkingHours) -> dt.datetime:
    """The end of the ``days``-th working day after ``start`` (its closing time), in UTC.

    Working days are the days the organisation works, less bank holidays unless it works them.
    The first one counted is the first whose working hours have not begun by ``start``: a report
    at 8am or at 9am on a 9am-to-5pm Tuesday has 1 working day until 5pm that Tuesday, one at
    10am until 5pm on Wednesday, and one on Saturday until 5pm on Monday.

    Raises ValueError if ``start`` is naive or ``days`` is less than 1.
    """
    start = _utc(start, "start")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"A number of working days must be a whole number of at least 1, not {days!r}")
    day = start.astimezone(LONDON).date()
    counted = 0
    for _ in range(days * 7 + _SEARCH_LIMIT_DAYS):
        window = _window(day, hours)
        if window is not None and window[0] >= start:
            counted += 1
            if counted == days:
                return window[1]
        day += ONE_DAY
    raise RuntimeError(f"Could not count {days} working days from {start.isoformat()}")


def working_time_between(a: dt.datetime, b: dt.datetime, hours: WorkingHours) -> dt.timedelta:
    """The working time from ``a`` to ``b``; negative if ``b`` is before ``a``.

    ``working_time_between(now, deadline, hours)`` is the working time remaining, and is
    negative by the working time overdue once the deadline has passed.

    Raises ValueError if either is naive.
    """
    a, b = _utc(a, "a"), _utc(b, "b")
    if b < a:
        return -working_time_between(b, a, hours)
    total = dt.timedelta(0)
    for opens, closes in _windows(a, hours):
        if opens >= b:
            break
        total += min(closes, b) - opens
    return total


def is_working_time(moment: dt.datetime, hours: WorkingHours) -> bool:
    """Is the organisation working at ``moment``? True from the opening time up to, but not
    at, the closing time. Raises ValueError if ``moment`` is naive."""
    moment = _utc(moment, "moment")
    window = _window(moment.astimezone(LONDON).date(), hours)
    return window is not None and window[0] <= moment < window[1]


# --- Targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A response target: ``working_time`` (such as 4 working hours), ``working_days``, or
    both, in which case whichever deadline comes first.

    Raises ValueError unless at least one is given, ``working_time`` is a positive whole number
    of minutes and ``working_days`` is at least 1.
    """

    working_time: dt.timedelta | None = None
    working_days: int | None = None

    def __post_init__(self) -> None:
        if self.working_time is None and self.working_days is None:
            raise ValueError("A target needs working time, working days, or both")
        if self.working_time is not None and (
            self.working_time <= dt.timedelta(0) or self.working_time % dt.timedelta(minutes=1)
        ):
            raise ValueError(f"A target's working time must be a positive whole number of minutes: {self.working_time}")
        if self.working_days is not None and self.working_days < 1:
            raise ValueError(f"A target's working days must be at least 1: {self.working_days}")

    def deadline(self, start: dt.datetime, hours: WorkingHours) -> dt.datetime:
        """When a case that started at ``start`` is due, in UTC. Raises ValueError if ``start`` is naive."""
        deadlines = []
        if self.working_time is not None:
            deadlines.append(add_working_time(start, self.working_time, hours))
        if self.working_days is not None:
            deadlines.append(add_working_days(start, self.working_days, hours))
        return min(deadlines)

    def to_text(self) -> str:
        """ "4 working hours", "1 working day", "90 working minutes or 1 working day, whichever is sooner"."""
        parts = []
        if self.working_time is not None:
            minutes = self.working_time // dt.timedelta(minutes=1)
            if minutes % 60:
                parts.append(f"{minutes} working minute{'s' * (minutes != 1)}")
            else:
                parts.append(f"{minutes // 60} working hour{'s' * (minutes != 60)}")
        if self.working_days is not None:
            parts.append(f"{self.working_days} working day{'s' * (self.working_days != 1)}")
        return " or ".join(parts) + (", whichever is sooner" if len(parts) > 1 else "")

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True)
class Targets:
    acknowledge: Target
    resolve: Target


# High risk: "acknowledged within 1 working day" (issue 5), and resolved in half the time.
HIGH_RISK_ACKNOWLEDGE_DAYS = 1


def targets_for(priority: Priority, acknowledge: Target, resolve: Target) -> Targets:
    """The targets for a case of ``priority``, given the organisation's standard targets for
    its category.

    Standard: the standard targets. High risk: acknowledged by the end of 1 working day at
    most (or sooner, if the standard target is in working hours and falls first), and resolved
    in half the standard working time and working days, rounded up to whole minutes and days.
    """
    if priority == Priority.STANDARD:
        return Targets(acknowledge, resolve)
    half_time = None
    if resolve.working_time is not None:
        half_time = dt.timedelta(minutes=math.ceil(resolve.working_time / dt.timedelta(minutes=1) / 2))
    half_days = None if resolve.working_days is None else math.ceil(resolve.working_days / 2)
    return Targets(
        Target(
            acknowledge.working_time,
            min(acknowledge.working_days or HIGH_RISK_ACKNOWLEDGE_DAYS, HIGH_RISK_ACKNOWLEDGE_DAYS),
        ),
        Target(half_time, half_days),
    )
