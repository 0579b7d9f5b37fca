"""Actions on a case: adding and changing them through the service and the pages, every
validation error, who may add and change them, the overdue rule on the day in Europe/London,
the history, the audit log and the assignee's email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import actions
from app.coordination.actions import ActionInput, add_action, change_action, is_overdue, parse_due, today
from app.coordination.errors import CoordinationError
from app.coordination.models import TITLE_MAX, ActionStatus, CaseAction, EventKind
from app.db import utcnow
from app.partners.services import NotAllowed
from app.reports.models import Report
from tests.coordination.casework import (
    action_input,
    audit_actions,
    due_parts,
    emails,
    events,
    form_of,
    join,
    led_case,
    link,
    new_action,
)
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]
UTC = dt.UTC

# 10:30pm UTC on 30 June 2026 is 11:30pm in London (BST): still 30 June there.
SUMMER_EVENING = dt.datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
# 1 July 2026, 12:30am in London (BST), while it is still 30 June in UTC.
AFTER_MIDNIGHT_BST = dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


@pytest.fixture
def colleague(db_session: Session, partners: Partners, make_user: Callable[..., User]) -> User:
    """A second member of the council, to assign actions to."""
    return join(db_session, make_user(name="Casey Colleague"), partners.council)


# --- Today and overdue in Europe/London --------------------------------------------------------


def test_today_is_the_date_in_london() -> None:
    """Is "today" the date on the clock in London, in summer time and in winter?"""
    assert today(SUMMER_EVENING) == dt.date(2026, 6, 30)
    assert today(AFTER_MIDNIGHT_BST) == dt.date(2026, 7, 1)
    assert today(dt.datetime(2026, 1, 15, 23, 30, tzinfo=UTC)) == dt.date(2026, 1, 15)
    assert today(dt.datetime(2026, 1, 16, 0, 0, tzinfo=UTC)) == dt.date(2026, 1, 16)
    with pytest.raises(ValueError, match="timezone-aware"):
        today(dt.datetime(2026, 1, 16))


@pytest.mark.parametrize(
    ("status", "due", "overdue"),
    [
        (ActionStatus.PLANNED, dt.date(2026, 6, 30), True),  # yesterday in London after midnight BST
        (ActionStatus.IN_PROGRESS, dt.date(2026, 6, 30), True),
        (ActionStatus.PLANNED, dt.date(2026, 7, 1), False),  # due today is not overdue
        (ActionStatus.DONE, dt.date(2026, 6, 1), False),
        (ActionStatus.CANCELLED, dt.date(2026, 6, 1), False),
    ],
)
def test_an_action_is_overdue_only_while_open_and_due_before_today_in_london(
    status: ActionStatus, due: dt.date, overdue: bool
) -> None:
    """At 12:30am BST on 1 July (still 30 June in UTC), is an open action due 30 June overdue,
    one due 1 July not, and a done or cancelled one never?"""
    action = CaseAction(status=status, due_on=due)
    assert is_overdue(action, today(AFTER_MIDNIGHT_BST)) is overdue


# --- The due date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "month", "year", "field", "message"),
    [
        ("", "", "", "due-day", "Enter the date the action is due"),
        ("3", "", "2026", "due-month", "The due date must include a month"),
        ("", "7", "", "due-day", "The due date must include a day and year"),
        ("3", "7", "", "due-year", "The due date must include a year"),
        ("31", "2", "2026", "due-day", "The due date must be a real date"),
        ("3", "13", "2026", "due-day", "The due date must be a real date"),
        ("three", "7", "2026", "due-day", "The due date must be a real date"),
        ("-1", "7", "2026", "due-day", "The due date must be a real date"),
        ("3", "7", "26", "due-year", "The year must include 4 numbers"),
    ],
)
def test_a_due_date_that_cannot_be_read_says_what_to_fix(
    day: str, month: str, year: str, field: str, message: str
) -> None:
    """Does each unreadable due date name the first part to fix and say what is wrong?"""
    with pytest.raises(CoordinationError) as refused:
        parse_due(day, month, year)
    assert refused.value.errors == {field: message}


def test_a_due_date_is_read_from_its_three_parts() -> None:
    """Are day, month and year read with spaces and leading zeros, and 29 February in a leap year?"""
    assert parse_due(" 03 ", "07", "2026") == dt.date(2026, 7, 3)
    assert parse_due("29", "2", "2028") == dt.date(2028, 2, 29)


# --- Adding ------------------------------------------------------------------------------------


def test_the_lead_adds_an_action_and_the_history_audit_and_assignee_hear_of_it(
    db_session: Session, partners: Partners, make_report: MakeReport, colleague: User
) -> None:
    """Does adding an action store it, log "action added" with its details, audit it, and email
    the colleague it is assigned to, with a link to it?"""
    report = led_case(db_session, partners, make_report)
    due = today() + dt.timedelta(days=3)
    action = new_action(db_session, report, partners.council, partners.council_member, assignee=colleague, due=due)
    assert (action.organisation, action.assignee, action.due_on) == (partners.council, colleague, due)
    assert action.status == ActionStatus.PLANNED and action.completed_at is None
    assert action.created_by_id == partners.council_member.id
    added = events(db_session, report)[-1]
    assert added.kind == EventKind.ACTION_ADDED and added.new_value == "Remove the sofa"
    assert added.organisation_id == partners.council.id and added.actor_id == partners.council_member.id
    assert f"Assigned to Casey Colleague, due {due.day} {due:%B %Y}, planned" in added.detail
    assert audit_actions(db_session)[-1] == "action_added"
    [email] = emails(db_session, "action_assigned")
    assert email.to_address == colleague.email
    assert "Remove the sofa" in email.text_body and link(action) in email.text_body
    assert partners.council_member.display_name in email.subject and report.reference in email.subject


def test_no_email_when_you_assign_yourself(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Is nobody emailed when a member adds an action assigned to themselves?"""
    report = led_case(db_session, partners, make_report)
    new_action(db_session, report, partners.council, partners.council_member, due=today())
    assert emails(db_session, "action_assigned") == []


def test_a_supporting_partner_adds_its_own_actions(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can a supporting partner add an action owned by its own organisation?"""
    report = led_case(db_session, partners, make_report)
    action = new_action(db_session, report, partners.police, partners.police_member, due=today())
    assert action.organisation == partners.police


def test_an_action_can_be_added_done_with_a_note(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can work already done be recorded as a done action, with its note and completion time?"""
    report = led_case(db_session, partners, make_report)
    moment = utcnow()
    action = new_action(
        db_session, report, partners.council, partners.council_member, due=today(), status="done",
        note="Sofa collected", now=moment,
    )  # fmt: skip
    assert action.status == ActionStatus.DONE and action.completion_note == "Sofa collected"
    assert action.completed_at == moment


def test_every_problem_with_a_new_action_is_reported_at_once(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does an empty form name every missing field at once (and add nothing)?"""
    report = led_case(db_session, partners, make_report)
    with pytest.raises(CoordinationError) as refused:
        add_action(db_session, report, partners.council, ActionInput(), by=partners.council_member, action_link=link)
    assert refused.value.errors == {
        "title": "Enter a title for the action",
        "assignee": "Choose who the action is assigned to",
        "due-day": "Enter the date the action is due",
        "status": "Choose the status of the action",
    }
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseAction)) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "   "}, "title", "Enter a title for the action"),
        ({"title": "x" * (TITLE_MAX + 1)}, "title", f"The title must be {TITLE_MAX} characters or fewer"),
        ({"details": "x" * 5001}, "details", "The details must be 5,000 characters or fewer"),
        ({"status": "finished"}, "status", "Choose the status of the action"),
        ({"status": "done"}, "note", "Say what was done"),
        ({"status": "cancelled", "note": "  "}, "note", "Say why it was cancelled"),
        ({"status": "done", "note": "x" * 5001}, "note", "The completion note must be 5,000 characters or fewer"),
        ({"assignee": "not a number"}, "assignee", "Choose who the action is assigned to"),
        ({"assignee": "999999999"}, "assignee", "Choose someone in Council"),
        ({"due_month": ""}, "due-month", "The due date must include a month"),
        ({"due_day": "32"}, "due-day", "The due date must be a real date"),
    ],
)
def test_each_problem_with_a_new_action_is_refused(
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    """Is each invalid value refused with a message saying what to fix?"""
    report = led_case(db_session, partners, make_report)
    data = action_input(partners.council_member, today() + dt.timedelta(days=1), **overrides)
    with pytest.raises(CoordinationError) as refused:
        add_action(db_session, report, partners.council, data, by=partners.council_member, action_link=link)
    assert refused.value.errors == {field: message}


def test_a_new_action_may_be_due_today_in_london_but_not_yesterday(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """At 12:30am BST on 1 July (30 June in UTC), is a due date of 30 June refused and 1 July accepted?"""
    report = led_case(db_session, partners, make_report)
    member = partners.council_member
    with pytest.raises(CoordinationError) as refused:
        new_action(db_session, report, partners.council, member, due=dt.date(2026, 6, 30), now=AFTER_MIDNIGHT_BST)
    assert refused.value.errors == {"due-day": "The due date must be today or in the future"}
    made = new_action(db_session, report, partners.council, member, due=dt.date(2026, 7, 1), now=AFTER_MIDNIGHT_BST)
    assert made.due_on == dt.date(2026, 7, 1)


@pytest.mark.parametrize("who", ["police member", "housing member", "deleted colleague", "administrator"])
def test_an_assignee_outside_the_owning_organisation_is_refused(
    db_session: Session, partners: Partners, make_report: MakeReport, colleague: User, who: str
) -> None:
    """Is an action refused when assigned to anyone who is not a current member of the owning
    organisation, whatever id the form carries?"""
    report = led_case(db_session, partners, make_report)
    if who == "deleted colleague":
        colleague.deleted_at = utcnow()
        db_session.flush()
    person = {
        "police member": partners.police_member,
        "housing member": partners.housing_member,
        "deleted colleague": colleague,
        "administrator": partners.admin,
    }[who]
    data = action_input(person, today())
    with pytest.raises(CoordinationError) as refused:
        add_action(db_session, report, partners.council, data, by=partners.council_member, action_link=link)
    assert refused.value.errors == {"assignee": "Choose someone in Council"}


@pytest.mark.parametrize("who", ["routed, not claimed", "not on the case", "administrator", "another organisation"])
def test_only_an_organisation_that_has_claimed_the_case_adds_actions(
    db_session: Session, partners: Partners, make_report: MakeReport, who: str
) -> None:
    """Is adding refused for an organisation that is only routed the case, one not on it, an
    administrator, and a member acting for an organisation that is not theirs?"""
    report = make_report(slug="fly-tipping")  # routed to the council and the police
    from app.coordination.claims import claim_case

    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    organisation, by = {
        "routed, not claimed": (partners.police, partners.police_member),
        "not on the case": (partners.housing, partners.housing_member),
        "administrator": (partners.council, partners.admin),
        "another organisation": (partners.council, partners.police_member),
    }[who]
    with pytest.raises(NotAllowed):
        add_action(db_session, report, organisation, action_input(by, today()), by=by, action_link=link)


# --- Changing ----------------------------------------------------------------------------------


def change(action: CaseAction, **overrides: str) -> ActionInput:
    """The action's current values, with ``overrides``."""
    values = ActionInput.of(action)
    return ActionInput(**{**values.__dict__, **overrides})


def test_each_change_is_logged_with_its_old_and_new_value(
    db_session: Session, partners: Partners, make_report: MakeReport, colleague: User
) -> None:
    """Does changing the status, assignee, due date and details log one "action changed" event
    per field with the old and new values, audit it, and email the new assignee?"""
    report = led_case(db_session, partners, make_report)
    first = today() + dt.timedelta(days=2)
    action = new_action(db_session, report, partners.council, partners.council_member, due=first)
    later = first + dt.timedelta(days=5)
    changed = change_action(
        db_session,
        action,
        change(action, status="in_progress", assignee=str(colleague.id), details="Bring gloves", **due_parts(later)),
        by=partners.council_member,
        action_link=link,
    )
    assert changed == ["Status", "Assignee", "Due date", "Details"]
    logged = [(e.kind, e.old_value, e.new_value) for e in events(db_session, report)[-4:]]
    assert logged == [
        (EventKind.ACTION_CHANGED, "Planned", "In progress"),
        (EventKind.ACTION_CHANGED, partners.council_member.display_name, "Casey Colleague"),
        (EventKind.ACTION_CHANGED, f"{first.day} {first:%B %Y}", f"{later.day} {later:%B %Y}"),
        (EventKind.ACTION_CHANGED, "From the verge by the bins", "Bring gloves"),
    ]
    assert events(db_session, report)[-1].detail == "Details of “Remove the sofa”: Bring gloves"
    assert audit_actions(db_session)[-1] == "action_changed"
    assert (action.status, action.assignee, action.due_on) == (ActionStatus.IN_PROGRESS, colleague, later)
    [email] = emails(db_session, "action_assigned")
    assert email.to_address == colleague.email


def test_nothing_changed_writes_nothing(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Does saving an action unchanged write no event and no audit entry?"""
    report = led_case(db_session, partners, make_report)
    action = new_action(db_session, report, partners.council, partners.council_member, due=today())
    before = (len(events(db_session, report)), len(audit_actions(db_session)))
    assert change_action(db_session, action, change(action), by=partners.council_member, action_link=link) == []
    assert (len(events(db_session, report)), len(audit_actions(db_session))) == before


@pytest.mark.parametrize(
    ("status", "message"), [("done", "Say what was done"), ("cancelled", "Say why it was cancelled")]
)
def test_closing_an_action_needs_a_note_and_reopening_clears_its_completion_time(
    db_session: Session, partners: Partners, make_report: MakeReport, status: str, message: str
) -> None:
    """Is marking an action done or cancelled refused without a note, and does it set the
    completion time, which opening it again clears?"""
    report = led_case(db_session, partners, make_report)
    action = new_action(db_session, report, partners.council, partners.council_member, due=today())
    member = partners.council_member
    with pytest.raises(CoordinationError) as refused:
        change_action(db_session, action, change(action, status=status), by=member, action_link=link)
    assert refused.value.errors == {"note": message}
    assert action.status == ActionStatus.PLANNED
    change_action(
        db_session, action, change(action, status=status, note="Collected on Monday"), by=member, action_link=link
    )
    assert action.status == ActionStatus(status) and action.completed_at is not None
    assert events(db_session, report)[-1].detail == "Completion note of “Remove the sofa”: Collected on Monday"
    change_action(db_session, action, change(action, status="in_progress"), by=member, action_link=link)
    assert action.completed_at is None


def test_an_overdue_action_keeps_its_past_due_date_but_cannot_be_moved_into_the_past(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can an overdue action be changed while keeping its past due date, and is a new due date
    in the past refused?"""
    report = led_case(db_session, partners, make_report)
    long_ago = utcnow() - dt.timedelta(days=10)
    action = new_action(
        db_session, report, partners.council, partners.council_member, due=today(long_ago), now=long_ago
    )
    assert is_overdue(action, today())
    member = partners.council_member
    change_action(db_session, action, change(action, status="in_progress"), by=member, action_link=link)
    assert action.status == ActionStatus.IN_PROGRESS
    earlier = today() - dt.timedelta(days=1)
    with pytest.raises(CoordinationError) as refused:
        change_action(db_session, action, change(action, **due_parts(earlier)), by=member, action_link=link)
    assert refused.value.errors == {"due-day": "The due date must be today or in the future"}


def test_an_assignee_who_left_may_keep_the_action_but_nobody_outside_can_be_given_it(
    db_session: Session, partners: Partners, make_report: MakeReport, colleague: User
) -> None:
    """When the assignee has left the organisation, can the action still be changed with them
    on it, while assigning it to someone outside the organisation is refused?"""
    report = led_case(db_session, partners, make_report)
    action = new_action(db_session, report, partners.council, partners.council_member, assignee=colleague, due=today())
    from app.partners.models import Membership

    db_session.execute(sa.delete(Membership).where(Membership.user_id == colleague.id))
    db_session.expire_all()
    member = partners.council_member
    change_action(db_session, action, change(action, status="in_progress"), by=member, action_link=link)
    with pytest.raises(CoordinationError) as refused:
        change_action(
            db_session, action, change(action, assignee=str(partners.police_member.id)), by=member, action_link=link
        )
    assert refused.value.errors == {"assignee": "Choose someone in Council"}


@pytest.mark.parametrize("who", ["supporting partner", "administrator", "housing"])
def test_only_the_owning_organisation_changes_an_action(
    db_session: Session, partners: Partners, make_report: MakeReport, who: str
) -> None:
    """Are the supporting partner's members, an administrator and a partner not on the case
    refused when they change the council's action?"""
    report = led_case(db_session, partners, make_report)
    action = new_action(db_session, report, partners.council, partners.council_member, due=today())
    by = {
        "supporting partner": partners.police_member,
        "administrator": partners.admin,
        "housing": partners.housing_member,
    }[who]
    with pytest.raises(NotAllowed):
        change_action(db_session, action, change(action, status="in_progress"), by=by, action_link=link)
    assert action.status == ActionStatus.PLANNED


# --- The pages ---------------------------------------------------------------------------------


def test_an_action_is_added_on_the_case_page_and_listed_for_everyone_on_the_case(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login, colleague: User
) -> None:
    """Can a lead member add an action from the case page, and do the supporting partner and an
    administrator see it listed with owner, assignee, due date and status?"""
    report = led_case(db_session, partners, make_report)
    due = today() + dt.timedelta(days=4)
    login(partners.council_member)
    page = client.get(f"/cases/{report.id}")
    assert "Add an action" in page.text and 'id="action-due-day"' in page.text
    data = form_of(action_input(colleague, due, title="Check the CCTV"), partners.council)
    done = client.post(f"/cases/{report.id}/actions", data=data)
    assert done.status_code == 302 and done.location.endswith(f"/cases/{report.id}#actions")
    assert "Action added: Check the CCTV." in client.get(done.location).text
    client.post("/sign-out")
    for person in (partners.police_member, partners.admin):
        login(person)
        seen = client.get(f"/cases/{report.id}").text
        assert "Check the CCTV" in seen and "Casey Colleague" in seen and f"{due.day} {due:%B %Y}" in seen
        assert "Planned" in seen
        client.post("/sign-out")


def test_the_add_form_answers_400_with_every_error_and_keeps_what_was_typed(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does a bad add form get 400, an error summary linking to each field, and keep every value typed?"""
    report = led_case(db_session, partners, make_report)
    login(partners.council_member)
    data = form_of(action_input(partners.council_member, today(), title="x" * (TITLE_MAX + 1), status="done"))
    data.update({"organisation": str(partners.council.id), "due-month": "", "details": "Typed details"})
    page = client.post(f"/cases/{report.id}/actions", data=data)
    assert page.status_code == 400 and "There is a problem" in page.text
    for href in ("#action-title", "#action-due-month", "#action-note"):
        assert f'href="{href}"' in page.text
    assert "The due date must include a month" in page.text and "Say what was done" in page.text
    assert f'value="{"x" * (TITLE_MAX + 1)}"' in page.text and "Typed details</textarea>" in page.text
    assert f'value="{today().day}"' in page.text and f'value="{today().year}"' in page.text
    assert 'value="done" checked' in page.text
    assert f'<option value="{partners.council_member.id}" selected>' in page.text


def test_a_crafted_assignee_or_organisation_is_refused_on_the_case_page(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is an assignee from another organisation refused (400), and acting for the police, or
    for an organisation not on the case, forbidden (403)?"""
    report = led_case(db_session, partners, make_report)
    login(partners.council_member)
    crafted = form_of(action_input(partners.police_member, today()), partners.council)
    refused = client.post(f"/cases/{report.id}/actions", data=crafted)
    assert refused.status_code == 400 and "Choose someone in Council" in refused.text
    as_police = form_of(action_input(partners.council_member, today()), partners.police)
    assert client.post(f"/cases/{report.id}/actions", data=as_police).status_code == 403
    as_housing = form_of(action_input(partners.council_member, today()), partners.housing)
    assert client.post(f"/cases/{report.id}/actions", data=as_housing).status_code == 403
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseAction)) == 0


def test_a_partner_not_on_the_case_cannot_see_or_touch_its_actions(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is housing (not on the case) refused the action's page, changes and adding, whatever
    the form says, and is an action asked for through another case not found?"""
    report = led_case(db_session, partners, make_report)
    action = new_action(db_session, report, partners.council, partners.council_member, due=today())
    other = led_case(db_session, partners, make_report)
    login(partners.housing_member)
    path = f"/cases/{report.id}/actions/{action.id}"
    assert client.get(path).status_code == 403
    assert client.post(path, data=form_of(ActionInput.of(action))).status_code == 403
    data = form_of(action_input(partners.housing_member, today()), partners.housing)
    assert client.post(f"/cases/{report.id}/actions", data=data).status_code == 403
    client.post("/sign-out")
    login(partners.council_member)
    assert client.get(f"/cases/{other.id}/actions/{action.id}").status_code == 404


def test_the_owning_organisation_changes_an_action_on_its_page_and_others_only_read_it(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the supporting partner see the council's action without a form and get 403 posting
    a change, while a council member changes it (and gets 400, values kept, without a note)?"""
    report = led_case(db_session, partners, make_report)
    action = new_action(db_session, report, partners.council, partners.council_member, due=today())
    path = f"/cases/{report.id}/actions/{action.id}"
    login(partners.police_member)
    read = client.get(path)
    assert read.status_code == 200 and "Remove the sofa" in read.text and "Save changes" not in read.text
    assert client.post(path, data=form_of(change(action, status="cancelled", note="No"))).status_code == 403
    client.post("/sign-out")
    login(partners.council_member)
    assert "Save changes" in client.get(path).text
    missing = client.post(path, data=form_of(change(action, status="cancelled", details="Typed here")))
    assert (
        missing.status_code == 400
        and "Say why it was cancelled" in missing.text
        and 'href="#action-note"' in missing.text
    )
    assert "Typed here</textarea>" in missing.text and 'value="cancelled" checked' in missing.text
    done = client.post(path, data=form_of(change(action, status="cancelled", note="Owner moved it")))
    assert done.status_code == 302
    assert "Action updated: status, completion note changed." in client.get(done.location).text
    assert action.status == ActionStatus.CANCELLED


def test_overdue_actions_are_marked_in_words_on_the_case_page(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is an open action due yesterday tagged "Overdue", and one due today or done not?"""
    report = led_case(db_session, partners, make_report)
    long_ago = utcnow() - dt.timedelta(days=3)
    member = partners.council_member
    late = new_action(db_session, report, partners.council, member, due=today(long_ago), now=long_ago, title="Late")
    late.due_on = today() - dt.timedelta(days=1)
    new_action(db_session, report, partners.council, member, due=today(), title="On time")
    db_session.flush()
    login(member)
    page = client.get(f"/cases/{report.id}").text
    assert page.count(">Overdue</strong>") == 1
    assert page.index("Late") < page.index("Overdue") < page.index("On time")


def test_actions_never_reach_the_public_report_page(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is an action's title absent from the public page of its report?"""
    report = led_case(db_session, partners, make_report)
    new_action(db_session, report, partners.council, partners.council_member, due=today(), title="Secret stake-out")
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200 and "Secret stake-out" not in page.text


def test_the_action_page_email_link_points_at_the_action(
    app: object,
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    colleague: User,
) -> None:
    """Does the email sent when an action is added on the page link to that action's page?"""
    report = led_case(db_session, partners, make_report)
    login(partners.council_member)
    client.post(f"/cases/{report.id}/actions", data=form_of(action_input(colleague, today()), partners.council))
    action = db_session.scalars(sa.select(CaseAction)).one()
    [email] = emails(db_session, "action_assigned")
    assert f"/cases/{report.id}/actions/{action.id}" in email.text_body
    assert actions.date_text(action.due_on) in email.text_body
