""" "My actions": a person's assigned actions, open ones first by due date, filtered, paged,
overdue ones marked, each linking to its case, for a constant number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.actions import ActionInput, change_action, my_actions, today
from app.coordination.models import CaseAction
from app.db import utcnow
from app.partners.models import Membership
from app.reports.models import Report
from tests.coordination.casework import join, led_case, link, new_action
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]


def close(session: Session, action: CaseAction, by: User, status: str = "done") -> None:
    values = ActionInput.of(action).__dict__
    change_action(
        session, action, ActionInput(**{**values, "status": status, "note": "Finished"}), by=by, action_link=link
    )


def order_in(text: str, *titles: str) -> list[str]:
    """``titles`` in the order they appear in ``text`` (those absent left out)."""
    return sorted((t for t in titles if f">{t}</a>" in text), key=lambda t: text.index(f">{t}</a>"))


def test_my_actions_lists_open_ones_first_by_due_date_with_overdue_marked(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Are the person's open actions listed first, soonest due first, then the closed ones; is
    an overdue one tagged "Overdue"; does each link to its case; and are others' actions left out?"""
    member = partners.council_member
    report = led_case(db_session, partners, make_report)
    other_case = led_case(db_session, partners, make_report)
    long_ago = utcnow() - dt.timedelta(days=5)
    new_action(db_session, report, partners.council, member, due=today() + dt.timedelta(days=9), title="Later")
    new_action(db_session, other_case, partners.council, member, due=today(), title="Today")
    new_action(db_session, report, partners.council, member, due=today(long_ago), now=long_ago, title="Late")
    done = new_action(db_session, report, partners.council, member, due=today(), title="Finished one")
    close(db_session, done, member)
    new_action(db_session, report, partners.police, partners.police_member, due=today(), title="Not mine")
    login(member)
    everything = client.get("/my-actions?show=all")
    assert everything.status_code == 200
    titles = ("Late", "Today", "Later", "Finished one", "Not mine")
    assert order_in(everything.text, *titles) == ["Late", "Today", "Later", "Finished one"]
    assert everything.text.count(">Overdue</strong>") == 1
    assert f'href="/cases/{other_case.id}"' in everything.text and other_case.reference in everything.text
    assert order_in(client.get("/my-actions").text, *titles) == ["Late", "Today", "Later"]
    assert order_in(client.get("/my-actions?show=done").text, *titles) == ["Finished one"]


def test_cancelled_actions_count_as_done_and_a_bad_filter_is_refused(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is a cancelled action under "Done or cancelled", and is an unknown filter a 400 with an
    error summary (and the open actions shown)?"""
    member = partners.council_member
    report = led_case(db_session, partners, make_report)
    close(
        db_session,
        new_action(db_session, report, partners.council, member, due=today(), title="Dropped"),
        member,
        "cancelled",
    )
    new_action(db_session, report, partners.council, member, due=today(), title="Still open")
    login(member)
    assert order_in(client.get("/my-actions?show=done").text, "Dropped", "Still open") == ["Dropped"]
    bad = client.get("/my-actions?show=everything")
    assert bad.status_code == 400 and "There is a problem" in bad.text and 'href="#show"' in bad.text
    assert order_in(bad.text, "Dropped", "Still open") == ["Still open"]


def test_actions_of_an_organisation_the_person_left_are_not_listed(
    db_session: Session, partners: Partners, make_report: MakeReport, make_user: Callable[..., User]
) -> None:
    """Once someone leaves an organisation, do its actions assigned to them drop off their list?"""
    person = join(db_session, make_user(), partners.council)
    report = led_case(db_session, partners, make_report)
    new_action(db_session, report, partners.council, partners.council_member, assignee=person, due=today())
    assert my_actions(db_session, person, show="open", page=1, per_page=10)[1] == 1
    for membership in list(person.memberships):
        db_session.delete(membership)
    db_session.flush()
    db_session.refresh(person)
    assert my_actions(db_session, person, show="open", page=1, per_page=10) == ([], 0)


def test_my_actions_pages(
    app: Flask, client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """With more actions than a page holds, does the first page hold a page's worth, soonest
    due first, and link to the second, which holds the rest?"""
    per_page = app.config["PAGE_SIZE"]
    member = partners.council_member
    report = led_case(db_session, partners, make_report)
    for n in range(per_page + 2):
        new_action(
            db_session, report, partners.council, member, due=today() + dt.timedelta(days=n), title=f"Job {n:03d}"
        )
    login(member)
    first = client.get("/my-actions")
    assert first.text.count(">Job ") == per_page and "page=2" in first.text
    assert ">Job 000</a>" in first.text and f">Job {per_page:03d}</a>" not in first.text
    second = client.get("/my-actions?page=2")
    assert second.text.count(">Job ") == 2 and f">Job {per_page + 1:03d}</a>" in second.text


def test_my_actions_costs_the_same_queries_whatever_its_length(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Any],
    count_queries: Callable[[], Any],
) -> None:
    """Does "My actions" run as many queries for 2 actions on 1 case as for 20 on 10 cases, in
    two organisations, with different assignees' colleagues and overdue ones among them?"""
    member = partners.council_member
    join(db_session, member, partners.police)
    login(member)
    first = led_case(db_session, partners, make_report)
    for n in range(2):
        new_action(db_session, first, partners.council, member, due=today() + dt.timedelta(days=n))
    client.get("/my-actions?show=all")
    with count_queries() as few:
        assert client.get("/my-actions?show=all").status_code == 200
    long_ago = utcnow() - dt.timedelta(days=4)
    for n in range(9):
        report = led_case(db_session, partners, make_report)
        owner = partners.police if n % 2 else partners.council
        new_action(db_session, report, owner, member, due=today(long_ago), now=long_ago)
        close(db_session, new_action(db_session, report, owner, member, due=today()), member)
    with count_queries() as many:
        page = client.get("/my-actions?show=all")
    assert page.status_code == 200 and page.text.count("/actions/") == 20
    assert many.count == few.count, many.statements


@pytest.mark.parametrize("who", ["resident", "ward officer"])
def test_people_outside_organisations_have_no_actions_page(
    client: FlaskClient, make_user: Callable[..., User], login: Login, who: str
) -> None:
    """Are a resident and a ward officer refused "My actions" (and not shown the link)?"""
    person = make_user() if who == "resident" else make_user(wards=["E05001228"])
    login(person)
    assert client.get("/my-actions").status_code == 403
    assert "My actions" not in client.get("/account").text


def test_members_see_the_my_actions_link(
    client: FlaskClient, db_session: Session, partners: Partners, login: Login
) -> None:
    """Is "My actions" in the navigation for a member of an organisation?"""
    assert isinstance(partners.council_member.memberships[0], Membership)
    login(partners.council_member)
    assert 'href="/my-actions">My actions</a>' in client.get("/account").text
