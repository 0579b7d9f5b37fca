"""An organisation's working hours: a value for each weekday, read from and written as text.

``Organisation.working_hours`` is text typed by a coordinator, such as "Monday to Friday, 9am
to 5pm". ``parse_working_hours`` turns it into a ``WorkingHours`` that ``working_time`` can count
with, and ``WorkingHours.to_text`` writes one back in a form that parses to the same value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

MIDNIGHT = dt.time(0)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EXAMPLES = "“Monday to Friday, 9am to 5pm” or “24 hours, 7 days a week”"


@dataclass(frozen=True)
class Opening:
    """One day's working hours in local (UK) wall-clock time, from ``opens`` until ``closes``.

    A ``closes`` of midnight (``time(0)``) means the end of the day, so ``Opening(time(0),
    time(0))`` is the whole day. Times are whole minutes; hours that run past midnight into the
    next day are not supported. Raises ValueError otherwise.
    """

    opens: dt.time
    closes: dt.time

    def __post_init__(self) -> None:
        for moment in (self.opens, self.closes):
            if moment.tzinfo is not None:
                raise ValueError("Working hours are local wall-clock times, without a time zone")
            if moment.second or moment.microsecond:
                raise ValueError(f"Working hours are whole minutes, not {moment.isoformat()}")
        if self.closes != MIDNIGHT and self.closes <= self.opens:
            raise ValueError(
                f"The closing time {time_text(self.closes)} is not after the opening time "
                f"{time_text(self.opens)}; hours that run past midnight are not supported"
            )

    @property
    def all_day(self) -> bool:
        return self.opens == MIDNIGHT and self.closes == MIDNIGHT

    def to_text(self) -> str:
        return "24 hours" if self.all_day else f"{time_text(self.opens)} to {time_text(self.closes)}"


ALL_DAY = Opening(MIDNIGHT, MIDNIGHT)


@dataclass(frozen=True)
class WorkingHours:
    """When an organisation works: an ``Opening`` or None (closed) for each weekday, Monday
    first, and whether it also works on bank holidays in England and Wales.

    Raises ValueError unless there are exactly seven days and at least one is worked.
    """

    days: tuple[Opening | None, ...]
    open_on_bank_holidays: bool = False

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"Working hours need seven days, Monday to Sunday, not {len(self.days)}")
        if all(day is None for day in self.days):
            raise ValueError("Working hours need at least one working day")

    @classmethod
    def on(
        cls, weekdays: Iterable[int], opens: dt.time, closes: dt.time, *, open_on_bank_holidays: bool = False
    ) -> WorkingHours:
        """The same hours on each of ``weekdays`` (0 is Monday), closed on the others."""
        chosen = set(weekdays)
        opening = Opening(opens, closes)
        return cls(tuple(opening if day in chosen else None for day in range(7)), open_on_bank_holidays)

    @classmethod
    def always(cls) -> WorkingHours:
        """24 hours a day, 7 days a week, bank holidays included."""
        return cls((ALL_DAY,) * 7, open_on_bank_holidays=True)

    @property
    def round_the_clock(self) -> bool:
        """Every hour of every day of the week (bank holidays aside)."""
        return all(day == ALL_DAY for day in self.days)

    def to_text(self) -> str:
        """Plain English that ``parse_working_hours`` reads back as this same value, such as
        "Monday to Friday, 9am to 5pm; Saturday, 10am to 1pm"."""
        if self.round_the_clock:
            return "24 hours, 7 days a week" + ("" if self.open_on_bank_holidays else ", except bank holidays")
        groups: dict[Opening, list[int]] = {}
        for day, opening in enumerate(self.days):
            if opening is not None:
                groups.setdefault(opening, []).append(day)
        text = "; ".join(f"{days_text(days)}, {opening.to_text()}" for opening, days in groups.items())
        return text + ("; including bank holidays" if self.open_on_bank_holidays else "")

    def __str__(self) -> str:
        return self.to_text()


def time_text(moment: dt.time) -> str:
    """9am, 5:30pm, midday, midnight."""
    if moment == MIDNIGHT:
        return "midnight"
    if moment == dt.time(12):
        return "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def days_text(days: Iterable[int]) -> str:
    """ "Every day", "Monday to Friday", "Monday, Wednesday and Friday", "Monday to Wednesday and Saturday"."""
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return "Every day"
    runs: list[list[int]] = []
    for day in chosen:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    items: list[str] = []
    for run in runs:
        if len(run) >= 3:
            items.append(f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}")
        else:
            items.extend(DAY_NAMES[day] for day in run)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- Reading the text ----------------------------------------------------------------------

_DAY = (
    r"\b(?:mon(?:days?)?|tue(?:sdays?|s)?|wed(?:nesdays?)?|thu(?:rsdays?|rs?)?"
    r"|fri(?:days?)?|sat(?:urdays?)?|sun(?:days?)?)\b"
)
_TO = r"\s*(?:-|\bto\b|\bthrough\b|\bthru\b|\buntil\b|\btill\b)\s*"
_TIME = r"(?:\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)\b|\d{1,2}[:.]\d{2}\b|(?:12\s*)?(?:noon|midday)\b|midnight\b)"
_BANK = r"\s+bank\s+holidays?\b"

# Tried in this order at each position; the first that matches wins.
_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("bank_in", rf"(?:including|open\s+on|and\s+on|and|plus){_BANK}"),
        ("bank_out", rf"(?:excluding|except(?:\s+on)?|not\s+on|closed\s+on|closed|apart\s+from|but\s+not){_BANK}"),
        ("always", r"24\s*/\s*7\b"),
        ("times", r"(?:24\s*(?:hours|hrs)(?:\s+a\s+day)?|all\s+day|(?:a)?round\s+the\s+clock)\b"),
        ("times", rf"(?P<opens>{_TIME}){_TO}(?P<closes>{_TIME})"),
        ("days", rf"(?P<first>{_DAY}){_TO}(?P<last>{_DAY})"),
        ("days", r"\b(?:every\s+)?weekdays?\b"),
        ("days", r"\b(?:every\s+)?weekends?\b"),
        ("days", r"\b(?:every\s*day|daily|(?:7|seven)\s+days(?:\s+a\s+week)?|all\s+week)\b"),
        ("days", _DAY),
        ("filler", r"[,:&+]|\b(?:and|from|open|on|every)\b"),
        ("one_time", _TIME),
        ("bare_number", r"\d+\b"),
    )
)
_LABEL = re.compile(r"[a-z][a-z '&/-]*:\s*")
_SEGMENTS = re.compile(r";|\n|\.(?=\s|$)")


def parse_working_hours(text: str) -> WorkingHours:
    """Read working hours written in plain English. Raises ValueError, with a message to show
    the person who typed it, when the text cannot be read.

    Accepted, in any mix of upper and lower case:

    - days then times: "Monday to Friday, 9am to 5pm", "Mon-Fri 08:00-18:00",
      "Monday, Wednesday and Friday 10am to 2pm", "Weekdays 7:30am to 6pm", "Every day, 8am
      to midnight", "Saturday 10am to 1pm", or times then days: "9am to 5pm, Monday to Friday";
    - days: names or three-letter abbreviations, ranges ("Mon to Fri", "Mon-Fri", "Friday to
      Monday" wraps round the weekend), "weekdays", "weekends", "every day", "daily",
      "7 days a week";
    - times: 9am, 9.30am, 9:30 am, 12 noon, midday, midnight, or the 24-hour clock (08:00,
      17.30, 24:00); a bare "9" is refused as ambiguous. "24 hours" means the whole day;
    - round the clock: "24 hours, 7 days a week" or "24/7";
    - several rules, separated by ",", "and" or ";": "Mon-Fri 9am-5pm, Sat 10am-1pm";
    - bank holidays: closed on them unless the text says "including bank holidays" or the
      organisation works 24 hours every day; "except bank holidays" closes a 24/7 one on them;
    - notes: a leading label ("Prevention team: Monday to Friday, 9am to 5pm") is skipped, and
      so is any part after ";" or "." that does not start with days or times ("Monday to
      Friday, 7:30am to 6pm; emergencies at any time" is Monday to Friday, 7:30am to 6pm).

    Hours past midnight (10pm to 6am), closing times before opening times, a day given twice,
    and text with no days and times in it (such as "School days") are refused.
    """
    normalised = _normalise(text)
    if not normalised:
        raise ValueError(f"Enter the working hours, like {EXAMPLES}")
    days: dict[int, Opening] = {}
    bank: bool | None = None
    for segment in _SEGMENTS.split(normalised):
        parsed = _parse_segment(segment.strip())
        if parsed is None:
            continue
        rules, segment_bank = parsed
        for rule_days, opening in rules:
            for day in rule_days:
                if day in days:
                    raise ValueError(f"{DAY_NAMES[day]} is given more than once in “{text.strip()}”")
                days[day] = opening
        if segment_bank is not None:
            if bank is not None and bank != segment_bank:
                raise ValueError(f"“{text.strip()}” says both including and excluding bank holidays")
            bank = segment_bank
    if not days:
        raise ValueError(f"Could not find working days and times in “{text.strip()}”. Write them like {EXAMPLES}")
    week = tuple(days.get(day) for day in range(7))
    round_the_clock = all(opening == ALL_DAY for opening in week)
    return WorkingHours(week, open_on_bank_holidays=round_the_clock if bank is None else bank)


def _normalise(text: str) -> str:
    text = text.lower()
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text)
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)  # hyphens, en and em dashes, minus
    return " ".join(text.split())


Rule = tuple[list[int], Opening]


def _parse_segment(segment: str) -> tuple[list[Rule], bool | None] | None:
    """The rules and bank holiday choice in one segment, or None if it is a note."""
    tokens = _tokens(segment)
    if tokens is None:
        return None
    rules: list[Rule] = []
    bank: bool | None = None
    pending_days: list[int] = []
    leading: Opening | None = None  # "9am to 5pm, Monday to Friday": the times came first
    times_first = next((kind for kind, _ in tokens if kind in {"days", "times"}), None) == "times"
    for kind, match in tokens:
        if kind in {"bank_in", "bank_out"}:
            if bank is not None and bank != (kind == "bank_in"):
                raise ValueError(f"“{segment}” says both including and excluding bank holidays")
            bank = kind == "bank_in"
        elif kind == "always":
            rules.append((list(range(7)), ALL_DAY))
        elif kind == "days":
            pending_days.extend(_days(match))
        elif kind == "times":
            opening = _opening(match)
            if times_first:
                if leading is not None:
                    rules.append((_need_days(pending_days, leading), leading))
                leading, pending_days = opening, []
            elif not pending_days:
                raise ValueError(f"Say which days {opening.to_text()} applies to, like “Monday to Friday, 9am to 5pm”")
            else:
                rules.append((pending_days, opening))
                pending_days = []
    if leading is not None:
        rules.append((_need_days(pending_days, leading), leading))
    elif pending_days:
        raise ValueError(
            f"Say what times {days_text(pending_days)} {'is' if len(set(pending_days)) == 1 else 'are'} worked, "
            "like “9am to 5pm”"
        )
    for rule_days, _ in rules:
        repeated = sorted({day for day in rule_days if rule_days.count(day) > 1})
        if repeated:
            raise ValueError(f"{DAY_NAMES[repeated[0]]} is given more than once in “{segment}”")
    return rules, bank


def _need_days(days: list[int], opening: Opening) -> list[int]:
    if not days:
        raise ValueError(f"Say which days {opening.to_text()} applies to, like “9am to 5pm, Monday to Friday”")
    return days


def _tokens(segment: str) -> list[tuple[str, re.Match[str]]] | None:
    """The segment's tokens (fillers dropped), or None if it does not start with days or times."""
    tokens: list[tuple[str, re.Match[str]]] = []
    position = 0
    label = _LABEL.match(segment)
    if label and _token_at(segment, 0) is None:
        position = label.end()
    while position < len(segment):
        if segment[position].isspace():
            position += 1
            continue
        found = _token_at(segment, position)
        if found is None or found[0] in {"one_time", "bare_number"}:
            if not tokens:
                return None  # a note, such as "emergencies at any time"
            raise ValueError(_not_understood(segment, position, found))
        kind, match = found
        if kind != "filler":
            tokens.append((kind, match))
        position = match.end()
    return tokens or None


def _token_at(segment: str, position: int) -> tuple[str, re.Match[str]] | None:
    for kind, pattern in _TOKENS:
        match = pattern.match(segment, position)
        if match:
            return kind, match
    return None


def _not_understood(segment: str, position: int, found: tuple[str, re.Match[str]] | None) -> str:
    if found is not None and found[0] == "one_time":
        return f"Give an opening and a closing time, like “9am to 5pm”, not just “{found[1].group(0)}”"
    if found is not None:
        return (
            f"Write “{found[1].group(0)}” as a time with am or pm, like 9am or 5:30pm, "
            "or on the 24-hour clock, like 17:30"
        )
    fragment = re.split(r"[,;]", segment[position:], maxsplit=1)[0].strip()
    return (
        f"Could not understand “{fragment}” in “{segment}”. Write working hours like {EXAMPLES}, "
        "and put any notes after a semicolon"
    )


def _day(word: str) -> int:
    return ("mo", "tu", "we", "th", "fr", "sa", "su").index(word[:2])


def _days(match: re.Match[str]) -> list[int]:
    text = match.group(0)
    if match.re.groupindex.get("first"):
        first, last = _day(match.group("first")), _day(match.group("last"))
        return [(first + step) % 7 for step in range((last - first) % 7 + 1)]
    if "weekday" in text:
        return list(range(5))
    if "weekend" in text:
        return [5, 6]
    if re.fullmatch(_DAY, text):
        return [_day(text)]
    return list(range(7))


def _opening(match: re.Match[str]) -> Opening:
    if not match.re.groupindex.get("opens"):
        return ALL_DAY
    opens, closes = _clock(match.group("opens")), _clock(match.group("closes"))
    if opens is None:
        raise ValueError(f"The day cannot open at {match.group('opens')}; write midnight as 00:00 or 12am")
    return Opening(opens, closes or MIDNIGHT)


def _clock(text: str) -> dt.time | None:
    """The time of day ``text`` names; None for 24:00 (the end of the day). Raises ValueError."""
    compact = text.replace(" ", "")
    if compact.removeprefix("12") in {"noon", "midday"}:
        return dt.time(12)
    if compact == "midnight":
        return MIDNIGHT
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?(am|pm)?", compact)
    assert match is not None, text  # the token pattern only lets times through
    hour, minute, suffix = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if suffix:
        if not 1 <= hour <= 12 or minute > 59:
            raise ValueError(f"“{text}” is not a time of day")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif hour == 24 and minute == 0:
        return None
    elif hour > 23 or minute > 59:
        raise ValueError(f"“{text}” is not a time of day")
    return dt.time(hour, minute)
