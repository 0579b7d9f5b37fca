"""``flask hotspots rebuild / verify / load-populations`` and the demo loader's hex counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.geography.models import Ward
from app.hotspots import counts
from app.hotspots.models import HexCount, WardPopulation
from app.reports.models import Report

FOLESHILL, LONGFORD, HENLEY = "E05001222", "E05001225", "E05001223"
HEADER = "ward_code,population,year,source\n"


def invoke(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["hotspots", *args])


def populations(session: Session) -> dict[str, tuple[int, int, str]]:
    rows = session.scalars(sa.select(WardPopulation))
    return {r.ward_code: (r.population, r.year, r.source) for r in rows}


def write(tmp_path: Path, text: str, name: str = "populations.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_rebuild_prints_the_counts_and_verify_finds_and_rebuild_repairs_damage(
    app: Flask, db_session: Session, make_report: Callable[..., Report]
) -> None:
    """Does rebuild say how many rows and reports it counted and that they agree, does verify
    exit non-zero listing each difference after the table is damaged, and does rebuild repair it?"""
    make_report()
    make_report(created_at=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    make_report(publish=False)
    db_session.commit()
    result = invoke(app, "rebuild")
    assert result.exit_code == 0, result.output
    assert "Rebuilt 2 hex count rows from 2 published reports" in result.output
    assert "The hex counts agree with the reports" in result.output

    db_session.execute(sa.update(HexCount).values(n=HexCount.n + 4))
    db_session.commit()
    broken = invoke(app, "verify")
    assert broken.exit_code == 1
    assert broken.output.count("table has 5, reports give 1") == 2
    assert "2 differences between the hex counts and the reports" in broken.stderr

    assert invoke(app, "rebuild").exit_code == 0
    fixed = invoke(app, "verify")
    assert fixed.exit_code == 0 and "agree" in fixed.output
    assert counts.verify(db_session) == []


def test_rebuild_if_empty_fills_only_an_empty_table(
    app: Flask, db_session: Session, make_report: Callable[..., Report]
) -> None:
    """Does `rebuild --if-empty` fill the table (and the reports' cells) after the migration
    left it empty, and leave a table that already has rows alone?"""
    report = make_report()
    db_session.execute(sa.delete(HexCount))
    db_session.execute(sa.update(Report).values(h3_r9=None, h3_r8=None))
    db_session.commit()
    filled = invoke(app, "rebuild", "--if-empty")
    assert filled.exit_code == 0, filled.output
    assert "Rebuilt 1 hex count rows from 1 published reports (1 reports' H3 cells set)" in filled.output
    db_session.refresh(report)
    assert report.h3_r9 is not None
    db_session.execute(sa.update(HexCount).values(n=7))  # damage that only a full rebuild repairs
    db_session.commit()
    again = invoke(app, "rebuild", "--if-empty")
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert db_session.scalar(sa.select(HexCount.n)) == 7


def test_load_populations_replaces_the_figures_and_names_wards_left_without(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    """Does a good file (BOM, thousands separators, blank lines and extra columns allowed)
    replace every figure loaded before, and does the command name the wards with no figure?"""
    db_session.add(WardPopulation(ward_code=HENLEY, population=1, year=2011, source="Old figure"))
    db_session.commit()
    text = (
        "\ufeffWard_Code,ward_name,population,year,source\n"
        f'{FOLESHILL},Foleshill,"21,410",2022,ONS mid-2022 ward population estimates\n'
        "\n"
        f"{LONGFORD.lower()},Longford,18 902,2022,  ONS mid-2022   ward population estimates \n"
        ",,,,\n"
    )
    result = invoke(app, "load-populations", write(tmp_path, text))
    assert result.exit_code == 0, result.output + result.stderr
    assert "Loaded the populations of 2 wards, 40,312 residents (2022)" in result.output
    assert "No figure for 16 wards: " in result.output and "Henley" in result.output
    assert populations(db_session) == {
        FOLESHILL: (21410, 2022, "ONS mid-2022 ward population estimates"),
        LONGFORD: (18902, 2022, "ONS mid-2022 ward population estimates"),
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("E05009999,100,2022,ONS\n", 'line 2: "E05009999" is not the code of a Coventry ward'),
        (
            f"{FOLESHILL},100,2022,ONS\n{LONGFORD},100,2022,ONS\n{FOLESHILL},200,2022,ONS\n",
            f"line 4: {FOLESHILL} (Foleshill) is already on line 2; give each ward once.",
        ),
        (f"{FOLESHILL},12.5,2022,ONS\n", 'line 2: the population "12.5" is not a positive whole number'),
        (f"{FOLESHILL},0,2022,ONS\n", 'line 2: the population "0" is not a positive whole number'),
        (f"{FOLESHILL},-3,2022,ONS\n", 'line 2: the population "-3" is not a positive whole number'),
        (f"{FOLESHILL},,2022,ONS\n", 'line 2: the population "" is not a positive whole number'),
        (f"{FOLESHILL},100,22,ONS\n", 'line 2: the year "22" is not a year from 1991 to'),
        (f"{FOLESHILL},100,2022,\n", "line 2: the source is empty"),
        (f"{FOLESHILL},100,2022,{'x' * 301}\n", "line 2: the source is 301 characters long; shorten it to 300."),
        (",100,2022,ONS\n", "line 2: the ward_code is empty"),
        ("", "The file has a header but no wards"),
    ],
)
def test_load_populations_refuses_a_bad_line_and_writes_nothing(
    app: Flask, db_session: Session, tmp_path: Path, body: str, message: str
) -> None:
    """Does one bad line stop the whole load, leaving the figures loaded before untouched, with
    a message that names the line and what to fix?"""
    db_session.add(WardPopulation(ward_code=HENLEY, population=27000, year=2021, source="Census 2021"))
    db_session.commit()
    # A good line after the bad ones: it is not loaded either. (None for the header-only file.)
    good = f"{HENLEY},27500,2022,ONS\n" if body else ""
    result = invoke(app, "load-populations", write(tmp_path, HEADER + body + good))
    assert result.exit_code == 1
    assert message in result.stderr, result.stderr
    assert "nothing was loaded" in result.stderr
    assert populations(db_session) == {HENLEY: (27000, 2021, "Census 2021")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ward,population,year,source\nE05001222,1,2022,ONS\n", "line 1: the header has no ward_code column"),
        ("ward_code,pop,year\nE05001222,1,2022\n", "line 1: the header has no population, source columns"),
        ("", "The file is empty"),
    ],
)
def test_load_populations_refuses_a_file_without_the_columns(
    app: Flask, db_session: Session, tmp_path: Path, text: str, message: str
) -> None:
    """Is a file missing a required column (or empty) refused with a message naming the columns it needs?"""
    result = invoke(app, "load-populations", write(tmp_path, text))
    assert result.exit_code == 1
    assert message in result.stderr
    assert "ward_code, population, year, source" in result.stderr or "header ward_code" in result.stderr
    assert populations(db_session) == {}


def test_load_populations_reports_every_problem_at_once(app: Flask, db_session: Session, tmp_path: Path) -> None:
    """Are all the problems of a file listed in one go (so they can be fixed in one pass)?"""
    text = HEADER + f"E05000000,lots,1800,ONS\n{FOLESHILL},100,2022,\n"
    result = invoke(app, "load-populations", write(tmp_path, text))
    assert result.exit_code == 1
    for expected in ('line 2: "E05000000"', 'line 2: the population "lots"', 'line 2: the year "1800"', "line 3:"):
        assert expected in result.stderr
    assert "4 problems in " in result.stderr


def test_load_populations_explains_a_missing_or_unreadable_file(
    app: Flask, tmp_path: Path, db_session: Session
) -> None:
    """Are a path that does not exist and a file that is not UTF-8 refused with a plain message?"""
    missing = invoke(app, "load-populations", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + f"{FOLESHILL},100,2022,Ond\xe9\n").encode("latin-1"))
    unreadable = invoke(app, "load-populations", str(latin))
    assert unreadable.exit_code == 1 and "is not UTF-8 text" in unreadable.stderr


def test_every_ward_can_be_loaded(app: Flask, db_session: Session, tmp_path: Path) -> None:
    """With a line for each of the 18 wards, are all loaded and no ward reported missing?"""
    codes = db_session.scalars(sa.select(Ward.code).order_by(Ward.code)).all()
    text = HEADER + "".join(f"{code},{15000 + i},2022,ONS\n" for i, code in enumerate(codes))
    result = invoke(app, "load-populations", write(tmp_path, text))
    assert result.exit_code == 0, result.stderr
    assert "No figure" not in result.output and len(populations(db_session)) == 18


def test_demo_load_rebuilds_the_hex_counts(app: Flask, db_session: Session) -> None:
    """Does `flask demo load` leave hex counts that agree with the demo reports, every one with its cells?"""
    result = app.test_cli_runner().invoke(args=["demo", "load", "--reports", "400"])
    assert result.exit_code == 0, result.output
    assert "hex count rows rebuilt" in result.output
    assert (db_session.scalar(sa.select(sa.func.sum(HexCount.n))) or 0) == 400
    assert db_session.scalar(sa.select(sa.func.count()).where(Report.h3_r9.is_(None))) == 0
    assert counts.verify(db_session) == []
