"""The report lifecycle table: who may change a report's status, when, and with what.

``EXPECTED`` below restates the table from issue 5 independently of the code, so that a change
to ``TRANSITIONS`` has to be made twice, on purpose, and the docs table follows it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import pytest

from app.coordination.lifecycle import (
    REOPEN_WINDOW,
    TRANSITIONS,
    Actor,
    CloseReason,
    Closure,
    Requirement,
    TransitionError,
    allowed_targets,
    check_transition,
    find_transition,
    markdown_table,
)
from app.reports.models import ReportStatus

S, A = ReportStatus, Actor
UTC = dt.UTC
NOW = dt.datetime(2026, 6, 15, 12, tzinfo=UTC)
NOTE = "We have cleared the fly-tipping and will keep an eye on the lane."
DOCS = Path(__file__).resolve().parents[2] / "docs" / "coordination.md"

# (from, to) -> who may make the change. Anything not listed is refused for everyone.
EXPECTED: dict[tuple[ReportStatus, ReportStatus], set[Actor]] = {
    (S.NEW, S.ACKNOWLEDGED): {A.LEAD_PARTNER},
    (S.NEW, S.CLOSED): {A.ADMIN},
    (S.ACKNOWLEDGED, S.IN_PROGRESS): {A.LEAD_PARTNER, A.ADMIN},
    (S.ACKNOWLEDGED, S.RESOLVED): {A.LEAD_PARTNER, A.ADMIN},
    (S.ACKNOWLEDGED, S.CLOSED): {A.LEAD_PARTNER, A.ADMIN},
    (S.IN_PROGRESS, S.RESOLVED): {A.LEAD_PARTNER, A.ADMIN},
    (S.IN_PROGRESS, S.CLOSED): {A.LEAD_PARTNER, A.ADMIN},
    (S.RESOLVED, S.IN_PROGRESS): {A.REPORTER, A.LEAD_PARTNER, A.ADMIN},
    (S.RESOLVED, S.CLOSED): {A.LEAD_PARTNER, A.ADMIN},
    (S.CLOSED, S.NEW): {A.ADMIN},
}


def complete(current: ReportStatus, target: ReportStatus, actor: Actor) -> dict[str, object]:
    """Everything the change could need: a note, a reason when closing, a recent resolution."""
    return {
        "now": NOW,
        "resolved_at": NOW - dt.timedelta(days=1) if current == S.RESOLVED else None,
        "reason": Closure(CloseReason.NO_FURTHER_ACTION) if target == S.CLOSED else None,
        "note": NOTE,
    }


def test_the_table_is_the_one_in_the_issue() -> None:
    """Does the code's table give exactly the changes and people listed in the issue, and no more?"""
    found: dict[tuple[ReportStatus, ReportStatus], set[Actor]] = {}
    for row in TRANSITIONS:
        found.setdefault((row.source, row.target), set()).update(row.actors)
    assert found == EXPECTED


def test_no_one_is_in_two_rows_for_the_same_change() -> None:
    """Is each person's terms for a change given once, so there is no doubt which row applies?"""
    for (source, target), rows in itertools.groupby(
        sorted(TRANSITIONS, key=lambda t: (t.source, t.target)), key=lambda t: (t.source, t.target)
    ):
        actors = [actor for row in rows for actor in row.actors]
        assert len(actors) == len(set(actors)), (source, target)


def test_every_change_needs_a_public_update() -> None:
    """Does every status change need a public update that says why (SeeClickFix practice)?"""
    assert all(Requirement.PUBLIC_NOTE in row.requires for row in TRANSITIONS)


def test_closing_and_only_closing_needs_a_reason() -> None:
    """Does every change to closed, and no other, need a reason for closing?"""
    for row in TRANSITIONS:
        assert (Requirement.CLOSE_REASON in row.requires) == (row.target == S.CLOSED), row


def test_only_the_reporter_is_held_to_the_reopen_window() -> None:
    """Is the 28-day window the reporter's limit alone, on reopening a resolved report?"""
    windowed = [row for row in TRANSITIONS if Requirement.REOPEN_WINDOW in row.requires]
    assert [(row.source, row.target, row.actors) for row in windowed] == [
        (S.RESOLVED, S.IN_PROGRESS, frozenset({A.REPORTER}))
    ]


@pytest.mark.parametrize("actor", list(Actor))
@pytest.mark.parametrize("target", list(ReportStatus))
@pytest.mark.parametrize("current", list(ReportStatus))
def test_every_state_state_actor(current: ReportStatus, target: ReportStatus, actor: Actor) -> None:
    """May this person make this change exactly where the table says, and is everyone else told why not?"""
    allowed = actor in EXPECTED.get((current, target), set())
    assert (find_transition(current, target, actor) is not None) is allowed
    assert (target in allowed_targets(current, actor, now=NOW, resolved_at=NOW - dt.timedelta(days=1))) is allowed
    if allowed:
        check_transition(current, target, actor, **complete(current, target, actor))  # type: ignore[arg-type]
    else:
        with pytest.raises(TransitionError) as caught:
            check_transition(current, target, actor, **complete(current, target, actor))  # type: ignore[arg-type]
        assert set(caught.value.errors) == {"status"}
        assert str(caught.value).endswith(".")


def test_allowed_targets_in_lifecycle_order() -> None:
    """Are the changes offered to a lead partner listed in lifecycle order?"""
    assert allowed_targets(S.ACKNOWLEDGED, A.LEAD_PARTNER) == [S.IN_PROGRESS, S.RESOLVED, S.CLOSED]
    assert allowed_targets(S.NEW, A.SUPPORTING_PARTNER) == []
    assert allowed_targets(S.CLOSED, A.ADMIN) == [S.NEW]


# --- Messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "actor", "message"),
    [
        (S.NEW, S.NEW, A.ADMIN, "This report is already new."),
        (S.IN_PROGRESS, S.IN_PROGRESS, A.LEAD_PARTNER, "This report is already in progress."),
        (S.NEW, S.RESOLVED, A.LEAD_PARTNER, "A report cannot go from new to resolved."),
        (S.CLOSED, S.IN_PROGRESS, A.ADMIN, "A report cannot go from closed to in progress."),
        (
            S.IN_PROGRESS,
            S.RESOLVED,
            A.SUPPORTING_PARTNER,
            "Only the lead partner or a council administrator can mark a report in progress as resolved.",
        ),
        (S.NEW, S.ACKNOWLEDGED, A.ADMIN, "Only the lead partner can acknowledge a new report, by claiming the lead."),
        (S.NEW, S.CLOSED, A.LEAD_PARTNER, "Only a council administrator can close a new report."),
        (
            S.RESOLVED,
            S.IN_PROGRESS,
            A.ANYONE_ELSE,
            "Only the person who made the report, the lead partner or a council administrator can reopen a resolved"
            " report.",
        ),
        (S.CLOSED, S.NEW, A.REPORTER, "Only a council administrator can reopen a closed report."),
        (
            S.ACKNOWLEDGED,
            S.CLOSED,
            A.WARD_OFFICER,
            "Only the lead partner or a council administrator can close an acknowledged report.",
        ),
    ],
)
def test_refusals_say_why_in_plain_english(
    current: ReportStatus, target: ReportStatus, actor: Actor, message: str
) -> None:
    """Does a refused change say, in plain English, who could make it or why no one can?"""
    with pytest.raises(TransitionError) as caught:
        check_transition(current, target, actor, **complete(current, target, actor))  # type: ignore[arg-type]
    assert caught.value.errors == {"status": message}
    assert str(caught.value) == message


# --- The 28-day reopening window -----------------------------------------------------------------

RESOLVED_AT = dt.datetime(2026, 5, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "allowed"),
    [
        (dt.timedelta(0), True),
        (dt.timedelta(days=1), True),
        (REOPEN_WINDOW - dt.timedelta(seconds=1), True),
        (REOPEN_WINDOW, True),  # within 28 days includes the last instant
        (REOPEN_WINDOW + dt.timedelta(microseconds=1), False),
        (REOPEN_WINDOW + dt.timedelta(days=1), False),
    ],
)
def test_reporter_can_reopen_within_28_days(after: dt.timedelta, allowed: bool) -> None:
    """Can the reporter reopen a resolved report up to exactly 28 days after it was resolved, and not after?"""
    now = RESOLVED_AT + after
    assert (S.IN_PROGRESS in allowed_targets(S.RESOLVED, A.REPORTER, now=now, resolved_at=RESOLVED_AT)) is allowed
    if allowed:
        check_transition(S.RESOLVED, S.IN_PROGRESS, A.REPORTER, now=now, resolved_at=RESOLVED_AT, note="Still there.")
    else:
        with pytest.raises(TransitionError) as caught:
            check_transition(
                S.RESOLVED, S.IN_PROGRESS, A.REPORTER, now=now, resolved_at=RESOLVED_AT, note="Still there."
            )
        assert caught.value.errors == {
            "status": "This report was resolved more than 28 days ago, on 1 May 2026, so it can no longer be "
            "reopened. Make a new report instead."
        }


@pytest.mark.parametrize("actor", [A.LEAD_PARTNER, A.ADMIN])
def test_lead_and_council_can_reopen_after_the_window(actor: Actor) -> None:
    """Can the lead partner or the council reopen a report long after it was resolved?"""
    now = RESOLVED_AT + dt.timedelta(days=200)
    check_transition(S.RESOLVED, S.IN_PROGRESS, actor, now=now, resolved_at=RESOLVED_AT, note="Reopened at request.")
    assert S.IN_PROGRESS in allowed_targets(S.RESOLVED, actor, now=now, resolved_at=RESOLVED_AT)


def test_reporter_reopening_without_the_dates_is_not_offered() -> None:
    """Is reopening offered to the reporter only when the resolution date shows the window is open?"""
    assert allowed_targets(S.RESOLVED, A.REPORTER) == []
    assert allowed_targets(S.RESOLVED, A.REPORTER, now=NOW) == []
    assert allowed_targets(S.RESOLVED, A.REPORTER, now=RESOLVED_AT, resolved_at=RESOLVED_AT) == [S.IN_PROGRESS]


def test_reopen_window_needs_the_resolution_time() -> None:
    """Is checking a reporter's reopening without knowing when it was resolved a programming error?"""
    with pytest.raises(ValueError, match="resolved_at is needed"):
        check_transition(S.RESOLVED, S.IN_PROGRESS, A.REPORTER, now=NOW, note="Still there.")


def test_resolution_in_the_future_is_refused() -> None:
    """Is a resolution time after now refused as a programming error?"""
    with pytest.raises(ValueError, match="is after now"):
        check_transition(
            S.RESOLVED, S.IN_PROGRESS, A.REPORTER, now=NOW, resolved_at=NOW + dt.timedelta(seconds=1), note="x"
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"now": dt.datetime(2026, 6, 15, 12)},
        {"now": NOW, "resolved_at": dt.datetime(2026, 6, 1)},
    ],
)
def test_naive_datetimes_are_refused(kwargs: dict[str, dt.datetime]) -> None:
    """Are datetimes without a time zone refused by the checks and by the list of choices?"""
    with pytest.raises(ValueError, match="timezone-aware"):
        check_transition(S.RESOLVED, S.IN_PROGRESS, A.REPORTER, note="x", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        allowed_targets(S.RESOLVED, A.REPORTER, **kwargs)


# --- The public update and the reason for closing ------------------------------------------------


@pytest.mark.parametrize("note", [None, "", "   \n "])
@pytest.mark.parametrize(
    ("current", "target", "actor"), [(row.source, row.target, min(row.actors)) for row in TRANSITIONS]
)
def test_every_change_refuses_a_missing_note(
    current: ReportStatus, target: ReportStatus, actor: Actor, note: str | None
) -> None:
    """Is every change refused without a public update, with a message asking why?"""
    kwargs = complete(current, target, actor) | {"note": note}
    with pytest.raises(TransitionError) as caught:
        check_transition(current, target, actor, **kwargs)  # type: ignore[arg-type]
    assert set(caught.value.errors) == {"note"}
    assert caught.value.errors["note"].startswith("Write a public update saying why")


def test_note_message_fits_the_change() -> None:
    """Does the message asking for a public update name the change being made?"""
    with pytest.raises(TransitionError) as caught:
        check_transition(S.NEW, S.ACKNOWLEDGED, A.LEAD_PARTNER, now=NOW)
    assert caught.value.errors == {"note": "Write a public update saying why your organisation is taking the lead."}


@pytest.mark.parametrize(
    ("reason", "errors"),
    [
        (
            None,
            {
                "reason": "Choose why the report is being closed: duplicate of another report, not something we can "
                "act on, referred elsewhere, no further action."
            },
        ),
        (Closure(CloseReason.DUPLICATE), {"duplicate_of": "Say which report this one duplicates."}),
        (
            Closure(CloseReason.DUPLICATE, duplicate_of=41),
            {"duplicate_of": "A report cannot be a duplicate of itself."},
        ),
        (Closure(CloseReason.REFERRED), {"referred_to": "Say who the report has been referred to."}),
        (Closure(CloseReason.REFERRED, referred_to="  "), {"referred_to": "Say who the report has been referred to."}),
    ],
)
def test_closing_needs_a_reason_and_its_detail(reason: Closure | None, errors: dict[str, str]) -> None:
    """Is closing refused without a reason, a duplicate without the original, and a referral without to whom?"""
    with pytest.raises(TransitionError) as caught:
        check_transition(S.IN_PROGRESS, S.CLOSED, A.LEAD_PARTNER, now=NOW, reason=reason, note=NOTE, report_id=41)
    assert caught.value.errors == errors


@pytest.mark.parametrize(
    "reason",
    [
        Closure(CloseReason.DUPLICATE, duplicate_of=7),
        Closure(CloseReason.NOT_ACTIONABLE),
        Closure(CloseReason.REFERRED, referred_to="National Highways"),
        Closure(CloseReason.NO_FURTHER_ACTION),
    ],
)
def test_each_closing_reason_with_its_detail_is_accepted(reason: Closure) -> None:
    """Is each of the four reasons for closing accepted once its detail is given?"""
    check_transition(S.IN_PROGRESS, S.CLOSED, A.LEAD_PARTNER, now=NOW, reason=reason, note=NOTE, report_id=41)


def test_missing_note_and_reason_are_reported_together() -> None:
    """Are a missing public update and a missing reason both reported at once, for the form to show?"""
    with pytest.raises(TransitionError) as caught:
        check_transition(S.NEW, S.CLOSED, A.ADMIN, now=NOW)
    assert set(caught.value.errors) == {"note", "reason"}


def test_a_reason_is_only_for_closing() -> None:
    """Is a closing reason given with any other change refused?"""
    with pytest.raises(TransitionError) as caught:
        check_transition(
            S.IN_PROGRESS, S.RESOLVED, A.LEAD_PARTNER, now=NOW, reason=Closure(CloseReason.NOT_ACTIONABLE), note=NOTE
        )
    assert caught.value.errors == {"reason": "A reason is only given when closing a report."}


@pytest.mark.parametrize(
    ("reason", "detail"),
    [
        (CloseReason.NOT_ACTIONABLE, {"duplicate_of": 3}),
        (CloseReason.REFERRED, {"duplicate_of": 3}),
        (CloseReason.DUPLICATE, {"referred_to": "the police"}),
        (CloseReason.NO_FURTHER_ACTION, {"referred_to": "the police"}),
    ],
)
def test_a_detail_with_the_wrong_reason_is_a_programming_error(reason: CloseReason, detail: dict[str, object]) -> None:
    """Is a duplicate's original or a referral's recipient given with another reason refused?"""
    with pytest.raises(ValueError, match="Only a"):
        Closure(reason, **detail)  # type: ignore[arg-type]


def test_labels() -> None:
    """Do actors, requirements and reasons have labels for pages and docs?"""
    assert all(actor.label for actor in Actor)
    assert [r.label for r in CloseReason] == [
        "Duplicate of another report",
        "Not something we can act on",
        "Referred elsewhere",
        "No further action",
    ]
    assert Requirement.REOPEN_WINDOW.label == "within 28 days of being resolved"


# --- The docs --------------------------------------------------------------------------------------


def test_docs_table_matches_the_code() -> None:
    """Does docs/coordination.md show the same lifecycle table as the code?"""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"<!-- lifecycle-table:start -->\n(.*?)<!-- lifecycle-table:end -->", text, re.DOTALL)
    assert found, "docs/coordination.md should have the lifecycle table between its markers"
    assert found.group(1).strip() == markdown_table().strip(), (
        "docs/coordination.md's lifecycle table differs from app/coordination/lifecycle.py; "
        "paste in the output of: python -c 'from app.coordination.lifecycle import markdown_table; "
        "print(markdown_table())'"
    )


def test_markdown_table_has_a_row_per_transition() -> None:
    """Does the Markdown table have a header and one row for each row of the table?"""
    lines = markdown_table().strip().splitlines()
    assert len(lines) == 2 + len(TRANSITIONS)
    assert lines[2].startswith("| New | Acknowledged | lead_partner | a public update saying why |")
