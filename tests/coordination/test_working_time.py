"""Working hours as text, bank holidays, and working-time arithmetic for response targets.

Times are written as UK local wall-clock times (``local(...)``) and turned into UTC, as the
functions expect. 2026: the clocks go forward on Sunday 29 March and back on Sunday 25 October;
Good Friday is 3 April and Easter Monday 6 April; the August bank holiday is Monday 31 August;
Christmas Day is a Friday, so Boxing Day (a Saturday) is made up on Monday 28 December.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.coordination.working_hours import ALL_DAY, MIDNIGHT, Opening, WorkingHours, parse_working_hours
from app.coordination.working_time import (
    LONDON,
    Priority,
    Target,
    Targets,
    add_working_days,
    add_working_time,
    bank_holidays,
    is_bank_holiday,
    is_working_time,
    targets_for,
    working_time_between,
)

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
OFFICE = WorkingHours.on(range(5), dt.time(9), dt.time(17))  # Monday to Friday, 9am to 5pm
ALWAYS = WorkingHours.always()
PROPERTY = settings(max_examples=300, deadline=None, database=None)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> dt.datetime:
    """A UK wall-clock time, as the UTC instant the functions take and return."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON, fold=fold).astimezone(UTC)


def t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour, minute)


# --- Reading and writing working hours -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Monday to Friday, 9am to 5pm", OFFICE),
        ("Mon-Fri 09:00-17:00", OFFICE),
        ("Mon–Fri 9.00am – 5.00pm", OFFICE),
        ("monday TO friday 9 a.m. to 5 p.m.", OFFICE),
        ("Weekdays, 9am until 5pm", OFFICE),
        ("9am to 5pm, Monday to Friday", OFFICE),
        ("Open Monday to Friday from 9am to 5pm", OFFICE),
        ("Mon, Tue, Wed, Thu and Fri: 9am-5pm", OFFICE),
        ("Mon-Fri 08:00-18:00", WorkingHours.on(range(5), t(8), t(18))),
        ("Monday to Friday, 7:30am to 6pm; emergencies at any time", WorkingHours.on(range(5), t(7, 30), t(18))),
        ("Monday to Friday, 9am to 5pm; out of hours homelessness line", OFFICE),
        ("Prevention team: Monday to Friday, 9am to 5pm. In an emergency call 999", OFFICE),
        (
            "Neighbourhood team: every day, 8am to midnight. In an emergency call 999",
            WorkingHours.on(range(7), t(8), MIDNIGHT),
        ),
        ("Volunteers: Monday, Wednesday and Friday, 10am to 2pm", WorkingHours.on([0, 2, 4], t(10), t(14))),
        ("Monday to Friday, 8am to 6pm; repairs line every day", WorkingHours.on(range(5), t(8), t(18))),
        ("Daily 12 noon to 17:30", WorkingHours.on(range(7), t(12), t(17, 30))),
        ("Weekends 10am-4pm", WorkingHours.on([5, 6], t(10), t(16))),
        ("Friday to Monday, 10am to 4pm", WorkingHours.on([4, 5, 6, 0], t(10), t(16))),
        ("Sat 00:00-24:00", WorkingHours.on([5], MIDNIGHT, MIDNIGHT)),
        ("Thurs 12am to 6am", WorkingHours.on([3], MIDNIGHT, t(6))),
        ("Mon-Fri 9am-5pm, Sat 10am-1pm", WorkingHours((*OFFICE.days[:5], Opening(t(10), t(13)), None))),
        ("Mon-Fri 9am-5pm and Saturday 10am-1pm", WorkingHours((*OFFICE.days[:5], Opening(t(10), t(13)), None))),
        ("Mon-Fri 9am-5pm; Sat 10am to 1pm", WorkingHours((*OFFICE.days[:5], Opening(t(10), t(13)), None))),
        ("Monday to Friday, 9am to 5pm, including bank holidays", WorkingHours(OFFICE.days, True)),
        ("24 hours, 7 days a week", ALWAYS),
        ("24/7", ALWAYS),
        ("Open 24 hours a day, seven days a week", ALWAYS),
        ("Every day, 24 hours", ALWAYS),
        ("24 hours, 7 days a week, except bank holidays", WorkingHours((ALL_DAY,) * 7, False)),
        ("Monday to Friday, 24 hours", WorkingHours.on(range(5), MIDNIGHT, MIDNIGHT)),
    ],
)
def test_parse_accepted_forms(text: str, expected: WorkingHours) -> None:
    """Are the everyday ways of writing working hours read as the hours they mean?"""
    assert parse_working_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the working hours"),
        ("   ", "Enter the working hours"),
        ("School days, 8am to 4:30pm", "Could not find working days and times"),
        ("Volunteer work days on Saturdays", "Could not find working days and times"),
        ("By appointment", "Could not find working days and times"),
        ("Monday to Friday", "Say what times Monday to Friday are worked"),
        ("Mon-Fri 9am-5pm, Saturday", "Say what times Saturday is worked"),
        ("9am to 5pm", "Say which days 9am to 5pm applies to"),
        ("Mon-Fri 9-5", "Write “9” as a time with am or pm"),
        ("Mon-Fri 9am", "Give an opening and a closing time"),
        ("Mon-Fri 9am-5pm, emergencies at any time", "Could not understand “emergencies at any time”"),
        ("Every day, 10pm to 6am", "hours that run past midnight are not supported"),
        ("Mon-Fri 5pm to 9am", "The closing time 9am is not after the opening time 5pm"),
        ("Mon 9am-9am", "not after the opening time"),
        ("Mon-Fri 13pm-5pm", "“13pm” is not a time of day"),
        ("Mon-Fri 9:00-25:00", "“25:00” is not a time of day"),
        ("Mon-Fri 9:75am-5pm", "is not a time of day"),
        ("Mon-Fri 24:00-17:00", "The day cannot open at 24:00"),
        ("Mon 9am-5pm, Monday 10am-2pm", "Monday is given more than once"),
        ("Mon-Fri 9am-5pm; Fri 10am-2pm", "Friday is given more than once"),
        ("Mon, Mon 9am-5pm", "Monday is given more than once"),
        ("Mon-Fri 9am-5pm including bank holidays; closed on bank holidays", "both including and excluding"),
    ],
)
def test_parse_refuses_with_a_clear_message(text: str, message: str) -> None:
    """Is text that cannot be read refused with a message that says what to change?"""
    with pytest.raises(ValueError, match=message):
        parse_working_hours(text)


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (OFFICE, "Monday to Friday, 9am to 5pm"),
        (WorkingHours.on(range(5), t(7, 30), t(18)), "Monday to Friday, 7:30am to 6pm"),
        (WorkingHours.on(range(7), t(8), MIDNIGHT), "Every day, 8am to midnight"),
        (WorkingHours.on([0, 2, 4], t(10), t(14)), "Monday, Wednesday and Friday, 10am to 2pm"),
        (WorkingHours.on([0, 1, 2, 5], t(12), t(12, 30)), "Monday to Wednesday and Saturday, midday to 12:30pm"),
        (WorkingHours.on([5, 6], MIDNIGHT, MIDNIGHT), "Saturday and Sunday, 24 hours"),
        (
            WorkingHours((*OFFICE.days[:5], Opening(t(10), t(13)), None)),
            "Monday to Friday, 9am to 5pm; Saturday, 10am to 1pm",
        ),
        (WorkingHours(OFFICE.days, True), "Monday to Friday, 9am to 5pm; including bank holidays"),
        (ALWAYS, "24 hours, 7 days a week"),
        (WorkingHours((ALL_DAY,) * 7, False), "24 hours, 7 days a week, except bank holidays"),
    ],
)
def test_to_text(hours: WorkingHours, text: str) -> None:
    """Are working hours written back in plain English, in the same style people type?"""
    assert hours.to_text() == text
    assert str(hours) == text
    assert parse_working_hours(text) == hours


@st.composite
def openings(draw: st.DrawFn) -> Opening:
    opens = draw(st.integers(0, 24 * 60 - 1))
    closes = draw(st.integers(opens + 1, 24 * 60))
    return Opening(
        dt.time(opens // 60, opens % 60), MIDNIGHT if closes == 24 * 60 else dt.time(closes // 60, closes % 60)
    )


working_hours = st.builds(
    WorkingHours,
    st.lists(st.none() | openings(), min_size=7, max_size=7).filter(lambda days: any(days)).map(tuple),
    st.booleans(),
)


@PROPERTY
@given(working_hours)
def test_to_text_round_trips(hours: WorkingHours) -> None:
    """Does any WorkingHours, written as text and read back, come back the same?"""
    assert parse_working_hours(hours.to_text()) == hours


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [
        (t(9), t(9), "not after the opening time"),
        (t(17), t(9), "not after the opening time"),
        (dt.time(9, 0, 30), t(17), "whole minutes"),
        (t(9), dt.time(17, tzinfo=UTC), "without a time zone"),
    ],
)
def test_opening_refuses_impossible_hours(opens: dt.time, closes: dt.time, message: str) -> None:
    """Is a day whose hours end before they start, or are not whole local minutes, refused?"""
    with pytest.raises(ValueError, match=message):
        Opening(opens, closes)


def test_working_hours_needs_seven_days_and_one_working_day() -> None:
    """Are working hours with the wrong number of days, or no working day at all, refused?"""
    with pytest.raises(ValueError, match="seven days"):
        WorkingHours(OFFICE.days[:5])
    with pytest.raises(ValueError, match="at least one working day"):
        WorkingHours((None,) * 7)


# --- Bank holidays ---------------------------------------------------------------------------


def test_bank_holidays_2026_come_from_the_holidays_package() -> None:
    """Are 2026's bank holidays in England and Wales all there, the Boxing Day substitute included?"""
    assert set(bank_holidays(2026)) == {
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 3),
        dt.date(2026, 4, 6),
        dt.date(2026, 5, 4),
        dt.date(2026, 5, 25),
        dt.date(2026, 8, 31),
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 26),
        dt.date(2026, 12, 28),
    }
    assert "Boxing Day" in bank_holidays(2026)[dt.date(2026, 12, 28)]


def test_weekend_christmas_has_two_substitute_days() -> None:
    """When Christmas and Boxing Day fall at a weekend (2027), are the next Monday and Tuesday bank holidays?"""
    assert is_bank_holiday(dt.date(2027, 12, 27))
    assert is_bank_holiday(dt.date(2027, 12, 28))
    assert not is_bank_holiday(dt.date(2027, 12, 29))


def test_one_off_bank_holidays_are_included() -> None:
    """Are one-off bank holidays, such as the 2023 coronation, counted too?"""
    assert is_bank_holiday(dt.date(2023, 5, 8))


# --- Is it working time? ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 1, 13, 9), True),  # a Tuesday, exactly at opening
        (local(2026, 1, 13, 8, 59), False),
        (local(2026, 1, 13, 16, 59), True),  # a minute before closing
        (local(2026, 1, 13, 17), False),  # exactly at closing
        (local(2026, 1, 13, 3), False),  # overnight
        (local(2026, 6, 13, 12), False),  # a Saturday
        (local(2026, 7, 14, 9), True),  # BST: 9am local is 8am UTC
        (dt.datetime(2026, 7, 14, 8, 59, tzinfo=UTC), True),
        (dt.datetime(2026, 7, 14, 7, 59, tzinfo=UTC), False),
        (local(2026, 12, 28, 12), False),  # the Boxing Day substitute
        (local(2026, 8, 31, 12), False),  # the August bank holiday
        (local(2026, 4, 3, 12), False),  # Good Friday
    ],
)
def test_is_working_time(moment: dt.datetime, expected: bool) -> None:
    """Is working time from opening up to, but not including, closing, on working days only?"""
    assert is_working_time(moment, OFFICE) is expected


def test_round_the_clock_works_bank_holidays_unless_told_not_to() -> None:
    """Does a 24/7 organisation work on Christmas Day, unless its hours say except bank holidays?"""
    christmas = local(2026, 12, 25, 12)
    assert is_working_time(christmas, ALWAYS)
    assert not is_working_time(christmas, parse_working_hours("24 hours, 7 days a week, except bank holidays"))


# --- Adding working time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "deadline"),
    [
        (local(2026, 1, 13, 10), 2 * HOUR, local(2026, 1, 13, 12)),  # within one day
        (local(2026, 1, 13, 9), 8 * HOUR, local(2026, 1, 13, 17)),  # exactly at opening: a whole day
        (local(2026, 1, 13, 16, 59), MINUTE, local(2026, 1, 13, 17)),  # ends at closing, not next morning
        (local(2026, 1, 13, 16, 59), 2 * MINUTE, local(2026, 1, 14, 9, 1)),
        (local(2026, 1, 13, 17), MINUTE, local(2026, 1, 14, 9, 1)),  # exactly at closing
        (local(2026, 1, 13, 20), HOUR, local(2026, 1, 14, 10)),  # evening
        (local(2026, 1, 14, 3), 30 * MINUTE, local(2026, 1, 14, 9, 30)),  # overnight
        (local(2026, 1, 13, 10), 16 * HOUR, local(2026, 1, 15, 10)),  # two days later
        (local(2026, 6, 12, 16), 2 * HOUR, local(2026, 6, 15, 10)),  # Friday, across the weekend
        (local(2026, 6, 13, 11), HOUR, local(2026, 6, 15, 10)),  # reported on a Saturday
        (local(2026, 12, 24, 16), 2 * HOUR, local(2026, 12, 29, 10)),  # Christmas, Boxing Day substitute
        (local(2026, 12, 31, 16), 2 * HOUR, local(2027, 1, 4, 10)),  # New Year's Day
        (local(2026, 4, 2, 16), 2 * HOUR, local(2026, 4, 7, 10)),  # Easter: Good Friday to Easter Monday
        (local(2026, 8, 28, 16), 2 * HOUR, local(2026, 9, 1, 10)),  # the August bank holiday weekend
        (local(2026, 3, 27, 16), 2 * HOUR, local(2026, 3, 30, 10)),  # GMT Friday to BST Monday
        (local(2026, 10, 23, 16), 2 * HOUR, local(2026, 10, 26, 10)),  # BST Friday to GMT Monday
        (local(2026, 1, 13, 10), dt.timedelta(0), local(2026, 1, 13, 10)),
        (local(2026, 6, 13, 11), dt.timedelta(0), local(2026, 6, 13, 11)),  # nothing to add: no waiting either
    ],
)
def test_add_working_time_office_hours(start: dt.datetime, duration: dt.timedelta, deadline: dt.datetime) -> None:
    """Does a deadline count only Monday-to-Friday 9-to-5 time, skipping nights, weekends and bank holidays?"""
    assert add_working_time(start, duration, OFFICE) == deadline


def test_across_the_clock_changes_office_hours_keep_local_time() -> None:
    """Across the clock changes, does 9am stay 9am local (8am UTC in summer, 9am UTC in winter)?"""
    spring = add_working_time(local(2026, 3, 27, 16), 2 * HOUR, OFFICE)
    assert spring == dt.datetime(2026, 3, 30, 9, tzinfo=UTC)
    autumn = add_working_time(local(2026, 10, 23, 16), 2 * HOUR, OFFICE)
    assert autumn == dt.datetime(2026, 10, 26, 10, tzinfo=UTC)
    assert working_time_between(local(2026, 3, 27, 17), local(2026, 3, 30, 9), OFFICE) == dt.timedelta(0)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (dt.date(2026, 3, 29), 23),  # the clocks go forward: a 23-hour day
        (dt.date(2026, 10, 25), 25),  # the clocks go back: a 25-hour day
        (dt.date(2026, 3, 28), 24),
        (dt.date(2026, 10, 26), 24),
    ],
)
def test_round_the_clock_counts_the_hours_that_really_pass(day: dt.date, hours: int) -> None:
    """Does a 24/7 organisation's day on the clock-change Sundays hold 23 and 25 hours of working time?"""
    midnight = local(day.year, day.month, day.day)
    next_day = day + dt.timedelta(days=1)
    next_midnight = local(next_day.year, next_day.month, next_day.day)
    assert working_time_between(midnight, next_midnight, ALWAYS) == hours * HOUR
    assert add_working_time(midnight, hours * HOUR, ALWAYS) == next_midnight
    assert add_working_days(midnight, 1, ALWAYS) == next_midnight


def test_hours_inside_the_skipped_spring_hour_start_when_the_clocks_jump() -> None:
    """On 29 March, when 1am to 2am never happens, does a 1:30am opening start at the jump (1am UTC)?"""
    nights = WorkingHours.on(range(7), t(1, 30), t(5))
    assert not is_working_time(dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), nights)
    assert is_working_time(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), nights)
    # 1am UTC (the jump, 2am BST) to 5am BST (4am UTC): three hours, not three and a half.
    assert working_time_between(local(2026, 3, 29), local(2026, 3, 30), nights) == 3 * HOUR


def test_hours_across_the_repeated_autumn_hour_use_its_first_time() -> None:
    """On 25 October, when 1am to 2am happens twice, does a 1:30am opening mean the first 1:30am?"""
    nights = WorkingHours.on(range(7), t(1, 30), t(5))
    assert is_working_time(dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), nights)  # 1:30am BST
    assert not is_working_time(dt.datetime(2026, 10, 25, 0, 29, tzinfo=UTC), nights)
    # 1:30am BST (00:30 UTC) to 5am GMT (5am UTC): four and a half hours.
    assert working_time_between(local(2026, 10, 25), local(2026, 10, 26), nights) == 4 * HOUR + 30 * MINUTE


def test_24_7_with_bank_holidays_off_skips_christmas() -> None:
    """Does an organisation working round the clock except bank holidays skip Christmas and Boxing Day?"""
    hours = WorkingHours((ALL_DAY,) * 7, open_on_bank_holidays=False)
    assert add_working_time(local(2026, 12, 24, 23), 2 * HOUR, hours) == local(2026, 12, 27, 1)
    assert add_working_time(local(2026, 12, 24, 23), 2 * HOUR, ALWAYS) == local(2026, 12, 25, 1)


def test_inputs_in_another_zone_give_utc() -> None:
    """Is an aware datetime in another zone accepted, and the answer given in UTC?"""
    start = dt.datetime(2026, 7, 14, 10, tzinfo=LONDON)
    deadline = add_working_time(start, HOUR, OFFICE)
    assert deadline == dt.datetime(2026, 7, 14, 10, tzinfo=UTC)
    assert deadline.tzinfo is UTC


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: add_working_time(naive, HOUR, OFFICE),
        lambda naive: add_working_days(naive, 1, OFFICE),
        lambda naive: working_time_between(naive, local(2026, 1, 13), OFFICE),
        lambda naive: working_time_between(local(2026, 1, 13), naive, OFFICE),
        lambda naive: is_working_time(naive, OFFICE),
        lambda naive: Target(working_days=1).deadline(naive, OFFICE),
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[dt.datetime], object]) -> None:
    """Is a datetime without a time zone refused, rather than guessed to be local or UTC?"""
    with pytest.raises(ValueError, match="timezone-aware"):
        call(dt.datetime(2026, 1, 13, 10))


def test_negative_working_time_is_refused() -> None:
    """Is adding a negative amount of working time refused?"""
    with pytest.raises(ValueError, match="cannot be negative"):
        add_working_time(local(2026, 1, 13, 10), -HOUR, OFFICE)


# --- Working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        (local(2026, 1, 13, 8), 1, local(2026, 1, 13, 17)),  # before opening: today counts
        (local(2026, 1, 13, 9), 1, local(2026, 1, 13, 17)),  # exactly at opening: today counts
        (local(2026, 1, 13, 9, 1), 1, local(2026, 1, 14, 17)),  # once begun, today does not
        (local(2026, 1, 13, 16, 59), 1, local(2026, 1, 14, 17)),
        (local(2026, 1, 13, 17), 1, local(2026, 1, 14, 17)),
        (local(2026, 1, 13, 23), 1, local(2026, 1, 14, 17)),
        (local(2026, 1, 13, 10), 2, local(2026, 1, 15, 17)),
        (local(2026, 1, 12, 10), 5, local(2026, 1, 19, 17)),  # Monday + 5: the next Monday
        (local(2026, 6, 12, 10), 1, local(2026, 6, 15, 17)),  # Friday: Monday
        (local(2026, 6, 13, 10), 1, local(2026, 6, 15, 17)),  # Saturday: Monday
        (local(2026, 12, 24, 10), 1, local(2026, 12, 29, 17)),  # Christmas and the Boxing Day substitute
        (local(2026, 12, 24, 10), 2, local(2026, 12, 30, 17)),
        (local(2026, 4, 2, 10), 1, local(2026, 4, 7, 17)),  # Easter
        (local(2026, 8, 28, 10), 1, local(2026, 9, 1, 17)),  # August bank holiday
        (local(2026, 3, 27, 10), 1, local(2026, 3, 30, 17)),  # into BST: 4pm UTC
        (local(2026, 10, 23, 10), 1, local(2026, 10, 26, 17)),  # into GMT: 5pm UTC
    ],
)
def test_add_working_days(start: dt.datetime, days: int, deadline: dt.datetime) -> None:
    """Is the Nth working day's closing time the deadline, with day one the first not yet begun?"""
    assert add_working_days(start, days, OFFICE) == deadline


@pytest.mark.parametrize("days", [0, -1, True, 1.5])
def test_add_working_days_needs_a_whole_number_of_at_least_one(days: object) -> None:
    """Are zero, negative, fractional and true/false numbers of working days refused?"""
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(local(2026, 1, 13), days, OFFICE)  # type: ignore[arg-type]


# --- Working time between two moments --------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (local(2026, 1, 12, 9), local(2026, 1, 16, 17), 40 * HOUR),  # a whole working week
        (local(2026, 1, 12, 0), local(2026, 1, 19, 0), 40 * HOUR),
        (local(2026, 6, 12, 16), local(2026, 6, 15, 10), 2 * HOUR),  # over a weekend
        (local(2026, 1, 13, 17), local(2026, 1, 14, 9), dt.timedelta(0)),  # overnight
        (local(2026, 12, 21, 0), local(2027, 1, 4, 0), 56 * HOUR),  # Christmas fortnight: 7 working days
        (local(2026, 1, 13, 10), local(2026, 1, 13, 10), dt.timedelta(0)),
        (local(2026, 1, 14, 10), local(2026, 1, 13, 10), -8 * HOUR),  # overdue by a working day
    ],
)
def test_working_time_between(a: dt.datetime, b: dt.datetime, expected: dt.timedelta) -> None:
    """Is only working time counted between two moments, negative when the second is earlier?"""
    assert working_time_between(a, b, OFFICE) == expected


def test_time_remaining_and_overdue() -> None:
    """Can a page say how much working time is left before a deadline, and how much it is overdue?"""
    deadline = add_working_days(local(2026, 6, 12, 10), 1, OFFICE)  # Monday 5pm
    assert working_time_between(local(2026, 6, 13, 12), deadline, OFFICE) == 8 * HOUR  # Saturday: all of Monday
    assert working_time_between(local(2026, 6, 16, 10), deadline, OFFICE) == -HOUR  # Tuesday 10am


# --- Properties --------------------------------------------------------------------------------

instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(UTC))
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=300))


@PROPERTY
@given(instants, durations, working_hours)
def test_add_then_measure_round_trips(start: dt.datetime, duration: dt.timedelta, hours: WorkingHours) -> None:
    """Is the working time from a start to its deadline exactly the working time that was added?"""
    deadline = add_working_time(start, duration, hours)
    assert deadline >= start
    assert working_time_between(start, deadline, hours) == duration
    if duration:
        assert is_working_time(deadline - dt.timedelta(microseconds=1), hours)


@PROPERTY
@given(instants, instants, instants, working_hours)
def test_working_time_adds_up(a: dt.datetime, b: dt.datetime, c: dt.datetime, hours: WorkingHours) -> None:
    """Is working time from a to c the sum of a to b and b to c, and never more than the time that passes?"""
    assert working_time_between(a, c, hours) == working_time_between(a, b, hours) + working_time_between(b, c, hours)
    assert abs(working_time_between(a, c, hours)) <= abs(c - a)


@PROPERTY
@given(instants, st.integers(1, 15), working_hours)
def test_working_days_end_at_a_closing_time(start: dt.datetime, days: int, hours: WorkingHours) -> None:
    """Does each working-day deadline fall at a closing time, later for each extra day?"""
    deadline = add_working_days(start, days, hours)
    assert deadline > start
    assert is_working_time(deadline - dt.timedelta(microseconds=1), hours)
    assert add_working_days(start, days + 1, hours) > deadline


@PROPERTY
@given(instants, durations)
def test_round_the_clock_is_plain_time(start: dt.datetime, duration: dt.timedelta) -> None:
    """For an organisation that works 24/7 including bank holidays, is working time just time?"""
    assert add_working_time(start, duration, ALWAYS) == start + duration
    assert working_time_between(start, start + duration, ALWAYS) == duration


# --- Targets and priority ----------------------------------------------------------------------


def test_target_text() -> None:
    """Are targets described in plain English?"""
    assert Target(working_time=4 * HOUR).to_text() == "4 working hours"
    assert Target(working_time=HOUR).to_text() == "1 working hour"
    assert Target(working_time=90 * MINUTE).to_text() == "90 working minutes"
    assert Target(working_days=1).to_text() == "1 working day"
    assert str(Target(working_days=10)) == "10 working days"
    assert Target(4 * HOUR, 1).to_text() == "4 working hours or 1 working day, whichever is sooner"


@pytest.mark.parametrize(
    ("working_time", "working_days", "message"),
    [
        (None, None, "needs working time, working days, or both"),
        (dt.timedelta(0), None, "positive whole number of minutes"),
        (-HOUR, None, "positive whole number of minutes"),
        (dt.timedelta(seconds=90), None, "positive whole number of minutes"),
        (None, 0, "at least 1"),
    ],
)
def test_target_refuses_impossible_values(
    working_time: dt.timedelta | None, working_days: int | None, message: str
) -> None:
    """Is a target with no time, no time at all, or part-minutes refused?"""
    with pytest.raises(ValueError, match=message):
        Target(working_time, working_days)


def test_target_deadline_is_the_sooner_of_its_parts() -> None:
    """With both working hours and working days, is the deadline whichever comes first?"""
    start = local(2026, 1, 13, 10)  # a Tuesday
    assert Target(working_time=4 * HOUR).deadline(start, OFFICE) == local(2026, 1, 13, 14)
    assert Target(working_days=1).deadline(start, OFFICE) == local(2026, 1, 14, 17)
    assert Target(4 * HOUR, 1).deadline(start, OFFICE) == local(2026, 1, 13, 14)
    assert Target(40 * HOUR, 1).deadline(start, OFFICE) == local(2026, 1, 14, 17)


def test_standard_priority_keeps_the_targets() -> None:
    """Does a standard case keep the organisation's targets as they are?"""
    acknowledge, resolve = Target(working_days=3), Target(working_days=20)
    assert targets_for(Priority.STANDARD, acknowledge, resolve) == Targets(acknowledge, resolve)


def test_high_risk_is_acknowledged_within_one_working_day() -> None:
    """Is a high-risk case due to be acknowledged by the end of one working day, and resolved in half the time?"""
    targets = targets_for(Priority.HIGH, Target(working_days=3), Target(working_days=20))
    assert targets == Targets(Target(working_days=1), Target(working_days=10))
    start = local(2026, 1, 13, 10)
    assert targets.acknowledge.deadline(start, OFFICE) == local(2026, 1, 14, 17)


def test_high_risk_never_lengthens_a_target() -> None:
    """Does high risk keep a target that was already sooner than a working day, and round halves up?"""
    targets = targets_for(
        Priority.HIGH, Target(working_time=4 * HOUR), Target(working_time=75 * MINUTE, working_days=5)
    )
    assert targets.acknowledge == Target(4 * HOUR, 1)
    assert targets.resolve == Target(38 * MINUTE, 3)
    assert targets.acknowledge.deadline(local(2026, 1, 13, 10), OFFICE) == local(2026, 1, 13, 14)


def test_priority_labels() -> None:
    """Do priorities have labels for pages?"""
    assert [p.label for p in Priority] == ["Standard", "High risk"]
