"""The alerts pages (app/hotspots/alert_views.py): subscribing with server-side validation,
only in the viewer's scope; removing only one's own subscriptions; the dashboard's one-click
"Watch this ward"; past alerts, newest first and paged; and nothing analysed on page load."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.models import JobRun
from app.db import utcnow
from app.hotspots.findings import record_findings
from app.hotspots.models import AlertDelivery, AlertSubscription, Finding, FindingKind
from app.partners.models import Organisation
from tests.hotspots.alerting import hotspot
from tests.hotspots.conftest import FOLESHILL, ST_MICHAELS
from tests.hotspots.test_alerts import category_id, subscribe

MakeUser = Callable[..., User]
Login = Callable[[User], None]
LONGFORD = "E05001225"


def subscriptions_of(session: Session, user: User) -> list[tuple[str, int | None, bool, bool]]:
    rows = session.execute(
        sa.select(
            AlertSubscription.ward_code,
            AlertSubscription.category_id,
            AlertSubscription.emerging,
            AlertSubscription.hotspots,
        )
        .where(AlertSubscription.user_id == user.id)
        .order_by(AlertSubscription.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def page_text(response: Any) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_the_alerts_page_lists_your_subscriptions_and_offers_only_your_wards(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Does a ward officer see their own subscriptions (ward, all categories or the
    category, the kinds), not anyone else's, and a form whose ward list holds only their wards?"""
    officer = make_user(wards=[FOLESHILL, LONGFORD])
    other = make_user(wards=[ST_MICHAELS])
    subscribe(db_session, officer, FOLESHILL)
    subscribe(db_session, officer, LONGFORD, category_id(db_session, "graffiti"), hotspots=False)
    subscribe(db_session, other, ST_MICHAELS)
    login(officer)
    response = client.get("/alerts")
    assert response.status_code == 200
    html = page_text(response)
    value = '</dt> <dd class="govuk-summary-list__value">'
    assert f"Foleshill, all categories{value}Emerging problems and new hotspots</dd>" in html
    assert f"Longford, graffiti{value}Emerging problems</dd>" in html
    assert "St Michael" not in html
    options = response.get_data(as_text=True).split('id="ward"')[1].split("</select>")[0]
    assert f'value="{FOLESHILL}"' in options and f'value="{LONGFORD}"' in options
    assert options.count("<option") == 3  # "Choose a ward" and the two wards


def test_subscribing_adds_it_and_says_so(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Does posting a ward, a category and both kinds add the subscription, redirect to the
    alerts page and show a success banner naming it?"""
    officer = make_user(wards=[FOLESHILL])
    login(officer)
    response = client.post(
        "/alerts", data={"ward": FOLESHILL, "category": "fly-tipping", "kinds": ["emerging", "hotspots"]}
    )
    assert response.status_code == 302 and response.location.endswith("/alerts")
    assert subscriptions_of(db_session, officer) == [(FOLESHILL, category_id(db_session, "fly-tipping"), True, True)]
    page = page_text(client.get("/alerts"))
    assert (
        "Alert added: you will get emails about emerging problems and new hotspots in Foleshill, fly-tipping." in page
    )


def test_subscribing_again_to_the_same_ward_and_category_changes_its_kinds(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Does a second subscription to the same ward and category change the kinds of the first
    (the database allows one), rather than fail or add another?"""
    officer = make_user(wards=[FOLESHILL])
    subscribe(db_session, officer)
    login(officer)
    response = client.post("/alerts", data={"ward": FOLESHILL, "category": "", "kinds": ["hotspots"]})
    assert response.status_code == 302
    assert subscriptions_of(db_session, officer) == [(FOLESHILL, None, False, True)]
    assert "Alert changed: for Foleshill, all categories, you will now get emails about new hotspots." in page_text(
        client.get("/alerts")
    )


def test_bad_input_is_refused_with_what_to_fix_and_the_values_kept(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Are a missing ward, a ward outside the viewer's scope, an unknown category and no kind
    each refused (400) with a message saying what to fix, linked from the error summary, with
    what was chosen still selected, and nothing saved?"""
    officer = make_user(wards=[FOLESHILL])
    login(officer)
    cases = [
        ({"ward": "", "kinds": ["emerging"]}, "ward", "Choose a ward"),
        ({"ward": ST_MICHAELS, "kinds": ["emerging"]}, "ward", "Choose a ward from the list"),
        ({"ward": "nowhere", "kinds": ["emerging"]}, "ward", "Choose a ward from the list"),
        (
            {"ward": FOLESHILL, "category": "no-such-thing", "kinds": ["emerging"]},
            "category",
            "Choose a category from the list, or all categories",
        ),
        ({"ward": FOLESHILL, "category": "litter"}, "kinds", "Choose at least one kind of alert"),
        ({"ward": FOLESHILL, "kinds": ["everything"]}, "kinds", "Choose from the kinds of alert listed"),
    ]
    for data, field, message in cases:
        response = client.post("/alerts", data=data)
        assert response.status_code == 400, data
        html = response.get_data(as_text=True)
        assert f'<a href="#{field}">{message}</a>' in html, (data, html)
        assert f'id="{field}-error"' in html
    kept = client.post("/alerts", data={"ward": FOLESHILL, "category": "litter"}).get_data(as_text=True)
    assert f'<option value="{FOLESHILL}" selected>' in kept and '<option value="litter" selected>' in kept
    assert 'value="emerging" checked' not in kept
    assert subscriptions_of(db_session, officer) == []


def test_a_coordinator_may_subscribe_only_to_categories_their_organisation_covers_there(
    client: FlaskClient,
    db_session: Session,
    make_user: MakeUser,
    login: Login,
    make_organisation: Callable[..., Organisation],
) -> None:
    """Is a coordinator offered only their organisation's wards and categories, refused a
    category it does not cover in that ward (with the reason), and allowed one it does?"""
    coordinator = make_user()
    make_organisation(members={coordinator: "coordinator"}, wards=[FOLESHILL], categories=["fly-tipping"])
    login(coordinator)
    page = client.get("/alerts").get_data(as_text=True)
    categories = page.split('id="category"')[1].split("</select>")[0]
    assert 'value="fly-tipping"' in categories and 'value="litter"' not in categories
    refused = client.post("/alerts", data={"ward": FOLESHILL, "category": "litter", "kinds": ["emerging"]})
    assert refused.status_code == 400
    assert "You cannot see litter and overflowing bins in Foleshill" in refused.get_data(as_text=True)
    accepted = client.post("/alerts", data={"ward": FOLESHILL, "category": "fly-tipping", "kinds": ["emerging"]})
    assert accepted.status_code == 302
    assert len(subscriptions_of(db_session, coordinator)) == 1


def test_you_can_remove_only_your_own_subscriptions(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Does removing one's own subscription delete it with a banner, while someone else's (or
    one that does not exist) is 404 and stays?"""
    officer, other = make_user(wards=[FOLESHILL]), make_user(wards=[FOLESHILL])
    mine, theirs = subscribe(db_session, officer), subscribe(db_session, other)
    login(officer)
    assert client.post(f"/alerts/{theirs.id}/delete").status_code == 404
    assert client.post("/alerts/999999999/delete").status_code == 404
    response = client.post(f"/alerts/{mine.id}/delete")
    assert response.status_code == 302
    assert subscriptions_of(db_session, officer) == [] and len(subscriptions_of(db_session, other)) == 1
    assert "Alert removed: you will no longer get alerts for Foleshill, all categories." in page_text(
        client.get("/alerts")
    )


def test_watching_a_ward_from_the_dashboard_is_one_click_and_idempotent(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Does "Watch this ward" subscribe to the ward, all categories, both kinds, and redirect
    to the dashboard for that ward (keeping the filters it showed, and nothing else) with a
    success banner; does a second click change nothing?"""
    officer = make_user(wards=[FOLESHILL])
    login(officer)
    response = client.post("/dashboard/watch", data={"ward": FOLESHILL})
    assert response.status_code == 302 and response.location.endswith(f"/dashboard?ward={FOLESHILL}")
    assert subscriptions_of(db_session, officer) == [(FOLESHILL, None, True, True)]
    again = client.post("/dashboard/watch", data={"ward": FOLESHILL})
    assert again.status_code == 302
    assert subscriptions_of(db_session, officer) == [(FOLESHILL, None, True, True)]
    assert "You are already watching Foleshill" in page_text(client.get("/alerts"))
    back = f"ward={FOLESHILL}&period=4w&category=fly-tipping&category=litter&layer=hotspots&next=https://evil.example"
    kept = client.post("/dashboard/watch", data={"ward": FOLESHILL, "back": back})
    assert kept.status_code == 302
    assert sorted(kept.location.split("?")[1].split("&")) == sorted(
        ["period=4w", "category=fly-tipping", "category=litter", "layer=hotspots", f"ward={FOLESHILL}"]
    )


def test_watching_refuses_a_ward_outside_your_scope_an_unknown_ward_and_no_ward(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Is watching a ward the officer does not cover forbidden (403), an unknown ward not found
    (404), and a form with no ward refused (400) with a message, nothing saved?"""
    officer = make_user(wards=[FOLESHILL])
    login(officer)
    assert client.post("/dashboard/watch", data={"ward": ST_MICHAELS}).status_code == 403
    assert client.post("/dashboard/watch", data={"ward": "E99999999"}).status_code == 404
    empty = client.post("/dashboard/watch", data={})
    assert empty.status_code == 400 and "Choose a ward on the dashboard" in empty.get_data(as_text=True)
    assert subscriptions_of(db_session, officer) == []


def test_residents_and_members_cannot_use_alerts(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """Are people who may not see the dashboard (a resident) refused every alerts page (403)?"""
    login(make_user())
    assert client.get("/alerts").status_code == 403
    assert client.post("/alerts", data={"ward": FOLESHILL, "kinds": ["emerging"]}).status_code == 403
    assert client.post("/dashboard/watch", data={"ward": FOLESHILL}).status_code == 403


def test_past_alerts_are_listed_newest_first_and_paged_in_a_fixed_number_of_queries(
    client: FlaskClient,
    db_session: Session,
    make_user: MakeUser,
    login: Login,
    count_queries: Callable[[], Any],
) -> None:
    """Are the findings emailed to the viewer (and only those) listed newest first with their
    summaries and dates, 20 a page, with a link to the dashboard, and does the page cost the
    same number of queries with 3 past alerts as with 25?"""
    officer, other = make_user(wards=[FOLESHILL]), make_user(wards=[FOLESHILL])
    login(officer)

    def add_alerts(n: int, start: int) -> None:
        base = utcnow() - dt.timedelta(days=60)
        for i in range(start, start + n):
            found = Finding(
                kind=FindingKind.EMERGING,
                key=f"test:{i}",
                ward_code=FOLESHILL,
                summary=f"Finding number {i}",
                current=10,
                expected=2.0,
                z=3.5,
                first_found_at=base + dt.timedelta(days=i),
                last_found_at=base + dt.timedelta(days=i),
                ended_at=base + dt.timedelta(days=i + 1),
            )
            db_session.add(found)
            db_session.flush()
            db_session.add(AlertDelivery(finding_id=found.id, user_id=officer.id, sent_at=base + dt.timedelta(days=i)))
        db_session.flush()

    add_alerts(3, 0)
    theirs = record_findings(db_session, [hotspot()], now=utcnow()).new[0]
    db_session.add(AlertDelivery(finding_id=theirs.id, user_id=other.id))
    db_session.flush()
    client.get("/alerts")  # warm up: the session and the sign-in are loaded once
    with count_queries() as few:
        small = page_text(client.get("/alerts"))
    assert small.index("Finding number 2") < small.index("Finding number 1") < small.index("Finding number 0")
    assert "Hotspot in" not in small
    assert "No longer found since" in small and f"/dashboard?ward={FOLESHILL}" in small
    add_alerts(22, 3)
    with count_queries() as many:
        first = page_text(client.get("/alerts"))
    assert many.count == few.count
    assert "25 findings emailed to you, newest first: showing 1 to 20" in first
    assert "Finding number 24" in first and "Finding number 4 " not in first + " "
    second = page_text(client.get("/alerts?page=2"))
    assert "showing 21 to 25" in second and "Finding number 0" in second
    assert client.get("/alerts?page=nonsense").status_code == 200


def test_no_page_runs_the_analysis(client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login) -> None:
    """Does opening the alerts page and the dashboard leave the findings and the job's last run
    untouched (the analysis runs only in the worker)?"""
    officer = make_user(wards=[FOLESHILL])
    subscribe(db_session, officer)
    login(officer)
    assert client.get("/alerts").status_code == 200
    assert client.get(f"/dashboard?ward={FOLESHILL}").status_code == 200
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 0
    assert db_session.get(JobRun, "hotspot_alerts") is None


def test_the_dashboard_offers_to_watch_the_chosen_ward_or_says_you_watch_it(
    client: FlaskClient, db_session: Session, make_user: MakeUser, login: Login
) -> None:
    """With a ward chosen, does the dashboard show a "Watch this ward" form (POST, CSRF field,
    the ward) and, once watched, say so with a link to manage alerts? With no ward chosen, is
    there neither?"""
    officer = make_user(wards=[FOLESHILL, LONGFORD])
    login(officer)
    chosen = client.get(f"/dashboard?ward={FOLESHILL}").get_data(as_text=True)
    form = chosen.split('id="watch-ward"')[1].split("</div>")[0]
    assert 'method="post" action="/dashboard/watch"' in form and 'name="csrf_token"' in form
    assert f'name="ward" value="{FOLESHILL}"' in form and "Watch this ward" in form
    assert 'id="watch-ward"' not in client.get("/dashboard").get_data(as_text=True)
    client.post("/dashboard/watch", data={"ward": FOLESHILL})
    watched = page_text(client.get(f"/dashboard?ward={FOLESHILL}"))
    assert "You are watching Foleshill" in watched and 'href="/alerts">Manage your alerts</a>' in watched
    assert "Watch this ward" not in watched
    assert "Watch this ward" in client.get(f"/dashboard?ward={LONGFORD}").get_data(as_text=True)


def test_the_header_links_to_alerts_for_those_who_may_use_them(
    client: FlaskClient, make_user: MakeUser, login: Login
) -> None:
    """Is "Alerts" in the header navigation for a ward officer, and not for a resident?"""
    resident = make_user()
    login(resident)
    assert 'href="/alerts"' not in client.get("/").get_data(as_text=True)
    client.post("/sign-out")
    login(make_user(wards=[FOLESHILL]))
    assert 'href="/alerts">Alerts</a>' in client.get("/").get_data(as_text=True)
