"""Ward populations from a CSV (``flask hotspots load-populations FILE``), for the dashboard's
rates per 1,000 residents. docs/hotspots-data.md says where to get the official figures.

The file has a header line and one line per ward::

    ward_code,population,year,source
    E05001218,19864,2022,ONS mid-2022 ward population estimates

Everything is checked before anything is written: one bad line and nothing changes. A good
file replaces every figure loaded before.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.geography.models import Ward
from app.hotspots.models import WardPopulation

COLUMNS = ("ward_code", "population", "year", "source")
SOURCE_MAX = 300  # must match WardPopulation.source (String(300))
FIRST_YEAR = 1991  # the first census with ward counts anyone would still use
# "12345", or with thousands separators as spreadsheets write them: "12,345" or "12 345".
_WHOLE = re.compile(r"\d{1,3}(?:[, ]\d{3})+|\d+")


class PopulationFileError(ValueError):
    """The file cannot be loaded; ``problems`` lists what to fix, each naming its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PopulationRow:
    ward_code: str
    population: int
    year: int
    source: str


@dataclass(frozen=True)
class Loaded:
    rows: list[PopulationRow]
    missing: list[str]  # names of the wards the file has no figure for (their rates stay hidden)


def parse(text: str, wards: dict[str, str], *, this_year: int) -> list[PopulationRow]:
    """Read and check a population CSV (``wards``: code → name of every ward).

    Raises PopulationFileError listing every problem found, each with its line number and what
    to do: a missing column, an unknown or repeated ward, a population that is not a positive
    whole number, a year that is not a year, a missing or too long source, or no data lines.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if not header:
        raise PopulationFileError([f"The file is empty: its first line must be the header {','.join(COLUMNS)}."])
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        raise PopulationFileError(
            [
                f"line 1: the header has no {', '.join(absent)} column{'s' if len(absent) > 1 else ''}; it must name "
                f"{', '.join(COLUMNS)} (it has {', '.join(header)})."
            ]
        )
    reader.fieldnames = header
    problems: list[str] = []
    rows: list[PopulationRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        values = {c: (record.get(c) or "").strip() for c in COLUMNS}
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # a blank line, or only commas (spreadsheets add them)
        errors_before = len(problems)
        code = values["ward_code"].upper()
        if not code:
            problems.append(f"line {line}: the ward_code is empty; give the ward's ONS code, like E05001218.")
        elif code not in wards:
            problems.append(
                f'line {line}: "{values["ward_code"]}" is not the code of a Coventry ward; use one of the '
                f"{len(wards)} codes in the ward boundaries (for example {_example(wards)})."
            )
        elif code in seen:
            problems.append(
                f"line {line}: {code} ({wards[code]}) is already on line {seen[code]}; give each ward once."
            )
        else:
            seen[code] = line
        population = _whole(values["population"])
        if population is None or population <= 0:
            problems.append(
                f'line {line}: the population "{values["population"]}" is not a positive whole number; write the '
                "number of residents, like 19864."
            )
        year = _whole(values["year"])
        if year is None or not FIRST_YEAR <= year <= this_year:
            problems.append(
                f'line {line}: the year "{values["year"]}" is not a year from {FIRST_YEAR} to {this_year}; write the '
                "year the figure is for, like 2022."
            )
        source = " ".join(values["source"].split())
        if not source:
            problems.append(
                f"line {line}: the source is empty; say where the figure comes from, like "
                '"ONS mid-2022 ward population estimates".'
            )
        elif len(source) > SOURCE_MAX:
            problems.append(f"line {line}: the source is {len(source)} characters long; shorten it to {SOURCE_MAX}.")
        if len(problems) == errors_before:
            assert population is not None and year is not None
            rows.append(PopulationRow(code, population, year, source))
    if not problems and not rows:
        problems.append("The file has a header but no wards: add a line for each ward below the header.")
    if problems:
        raise PopulationFileError(problems)
    return rows


def _whole(text: str) -> int | None:
    return int(re.sub(r"[, ]", "", text)) if _WHOLE.fullmatch(text) else None


def _example(wards: dict[str, str]) -> str:
    code = min(wards)
    return f"{code} for {wards[code]}"


def load_populations(session: Session, text: str, *, today: dt.date | None = None) -> Loaded:
    """Replace every ward population with those in the CSV ``text`` (only flushed: the caller
    commits). Returns the rows loaded and the wards left without a figure.

    Raises PopulationFileError (and writes nothing) if anything in the file is wrong.
    """
    wards = dict(session.execute(sa.select(Ward.code, Ward.name)).tuples().all())
    if not wards:
        raise PopulationFileError(["No wards are loaded: run `flask geo load` first."])
    rows = parse(text, wards, this_year=(today or utcnow().date()).year)
    session.execute(sa.delete(WardPopulation))
    moment = utcnow()
    session.add_all(
        WardPopulation(ward_code=r.ward_code, population=r.population, year=r.year, source=r.source, loaded_at=moment)
        for r in rows
    )
    session.flush()
    given = {r.ward_code for r in rows}
    return Loaded(rows, sorted(name for code, name in wards.items() if code not in given))


def describe(rows: Iterable[PopulationRow]) -> str:
    """A one-line summary of loaded figures: how many wards, residents and which years."""
    rows = list(rows)
    years = sorted({r.year for r in rows})
    span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
    return f"{len(rows)} wards, {sum(r.population for r in rows):,} residents ({span})"
