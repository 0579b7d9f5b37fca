"""The inbox map: the organisation's inbox (and only it) at exact points, with the list's
filters, a cap with a message, 403 for people outside the organisation, and a constant
number of queries."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.claims import claim_case
from app.reports.models import Report
from tests.coordination.conftest import BABLAKE, BABLAKE_POINT, Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]


def features(response: Any) -> dict[str, dict[str, Any]]:
    """{reference: feature} from the map's data in the page."""
    found = re.search(r'<script type="application/json" id="inbox-map-data">(.*?)</script>', response.text, re.S)
    assert found, "the page has no map data"
    return {f["properties"]["ref"]: f for f in json.loads(found.group(1))["features"]}


@pytest.fixture
def max_points(app: Flask) -> Iterator[Callable[[int], None]]:
    """``max_points(n)``: set MAP_MAX_POINTS for this test."""
    saved = app.config["MAP_MAX_POINTS"]
    yield lambda n: app.config.update(MAP_MAX_POINTS=n)
    app.config["MAP_MAX_POINTS"] = saved


def test_the_map_shows_only_the_organisations_cases_at_their_exact_points(
    client: FlaskClient, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the map carry the organisation's reports only, sensitive ones at their exact point
    (not the coarsened public one), each linking to its case, and link back to the list?"""
    ours = make_report(slug="fly-tipping", title="Sofa <b>on</b> the verge")
    not_ours = make_report(slug="noise")
    login(partners.council_member)
    response = client.get(f"/inbox/map?org={partners.council.id}")
    assert response.status_code == 200
    found = features(response)
    assert set(found) == {ours.reference}
    feature = found[ours.reference]
    assert feature["geometry"]["coordinates"] == [ours.lon, ours.lat]
    assert feature["properties"]["url"] == f"/cases/{ours.id}"
    assert feature["properties"]["title"] == "Sofa <b>on</b> the verge"
    assert "<b>on</b>" not in response.text  # the title reaches the page only as escaped JSON
    assert not_ours.reference not in response.text
    assert f'href="/inbox?org={partners.council.id}"' in response.text
    assert "list view of this inbox" in response.text


def test_sensitive_reports_are_at_their_exact_point(
    client: FlaskClient, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does a partner on a sensitive case see it at its exact point, though the public sees a
    ~500 m cell centre?"""
    sensitive = make_report(slug="noise")
    assert (sensitive.public_lon, sensitive.public_lat) != (sensitive.lon, sensitive.lat)
    login(partners.housing_member)
    found = features(client.get("/inbox/map"))
    assert found[sensitive.reference]["geometry"]["coordinates"] == [sensitive.lon, sensitive.lat]
    assert found[sensitive.reference]["properties"]["sensitive"] is True


def test_the_map_applies_the_inbox_filters(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Do the ward, category, status and unclaimed filters narrow the map as they do the list,
    with the "List | Map" links keeping them?"""
    litter = make_report(slug="litter")
    bablake = make_report(slug="fly-tipping", point=BABLAKE_POINT)
    led = make_report(slug="fly-tipping")
    claim_case(db_session, led, partners.police, role="lead", by=partners.police_member)
    login(partners.council_member)
    org = partners.council.id

    def on_map(query: str) -> set[str]:
        response = client.get(f"/inbox/map?org={org}&{query}")
        assert response.status_code == 200, response.text
        return set(features(response))

    assert on_map("") == {litter.reference, bablake.reference, led.reference}
    assert on_map(f"ward={BABLAKE}") == {bablake.reference}
    assert on_map("category=litter") == {litter.reference}
    assert on_map("status=acknowledged") == {led.reference}
    assert on_map("unclaimed=1") == {litter.reference, bablake.reference}
    page = client.get(f"/inbox/map?org={org}&category=litter").text
    assert f'href="/inbox?org={org}&amp;category=litter"' in page
    listed = client.get(f"/inbox?org={org}&category=litter").text
    assert f'href="/inbox/map?org={org}&amp;category=litter"' in listed


def test_a_bad_filter_gives_400_with_the_error_summary(client: FlaskClient, partners: Partners, login: Login) -> None:
    """Does a bad filter value give 400 with the error summary, as on the list?"""
    login(partners.council_member)
    response = client.get(f"/inbox/map?org={partners.council.id}&status=lost")
    assert response.status_code == 400
    assert "There is a problem" in response.text and 'href="#filter-status"' in response.text


def test_the_map_says_how_many_are_not_shown_beyond_the_cap(
    client: FlaskClient,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    max_points: Callable[[int], None],
) -> None:
    """Above MAP_MAX_POINTS, does the map carry the first ones in the chosen order and say how
    many are not shown and to narrow the filters?"""
    reports = [make_report(slug="fly-tipping") for _ in range(3)]
    max_points(2)
    login(partners.council_member)
    response = client.get(f"/inbox/map?org={partners.council.id}")
    assert set(features(response)) == {reports[0].reference, reports[1].reference}
    text = " ".join(response.text.split())
    assert "3 reports match, so the map shows the first 2 (oldest first). 1 is not shown" in text
    assert "narrow the filters" in text
    newest = client.get(f"/inbox/map?org={partners.council.id}&sort=newest")
    assert set(features(newest)) == {reports[1].reference, reports[2].reference}
    max_points(3)
    assert "not shown" not in client.get(f"/inbox/map?org={partners.council.id}").text


def test_people_outside_the_organisation_get_403(
    client: FlaskClient, partners: Partners, login: Login, make_user: Callable[..., User]
) -> None:
    """Is another organisation's map 403 for a member, and for a resident, whatever the URL,
    while an administrator may open any?"""
    login(partners.housing_member)
    assert client.get(f"/inbox/map?org={partners.council.id}").status_code == 403
    assert client.get("/inbox/map?org=999999999").status_code == 404
    login(make_user())
    assert client.get("/inbox/map").status_code == 403
    login(partners.admin)
    assert client.get(f"/inbox/map?org={partners.council.id}").status_code == 200
    assert client.get("/inbox/map").status_code == 302  # to the chooser


def test_the_map_costs_the_same_queries_for_2_or_20_reports(
    client: FlaskClient, partners: Partners, make_report: MakeReport, login: Login, count_queries: Callable[[], Any]
) -> None:
    """Does the map page run the same number of queries with 2 reports as with 20?"""
    for _ in range(2):
        make_report(slug="fly-tipping")
    login(partners.council_member)
    url = f"/inbox/map?org={partners.council.id}"
    with count_queries() as few:
        assert len(features(client.get(url))) == 2
    for _ in range(18):
        make_report(slug="litter")
    with count_queries() as many:
        assert len(features(client.get(url))) == 20
    assert many.count == few.count


def test_a_big_inbox_counts_to_the_cap_and_lists_the_same_order_either_way(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    monkeypatch: pytest.MonkeyPatch,
    max_points: Callable[[int], None],
) -> None:
    """Beyond INBOX_COUNT_CAP, do the list and the map say "More than" the cap, and does the
    list (walked in order) show the same reports in the same order, for every sort, as a small
    inbox (gathered, then sorted) does, a report with both a route and a claim once?"""
    import datetime as dt

    from app.coordination import queries
    from app.db import utcnow

    now = utcnow()
    reports = [make_report(slug="fly-tipping", created_at=now - dt.timedelta(hours=h)) for h in (5, 1, 3, 2, 4)]
    claim_case(db_session, reports[2], partners.council, role="lead", by=partners.council_member)
    # A supporting claim beside a live route: in the inbox once. (Every claim has a live route:
    # claims need one, a claimed route cannot be declined, a hand-off routes the receiver.)
    claimed = make_report(slug="litter")
    claim_case(db_session, claimed, partners.council, role="supporting", by=partners.council_member)
    login(partners.council_member)
    org = partners.council.id

    def listed(sort: str) -> list[str]:
        text = client.get(f"/inbox?org={org}&sort={sort}").text
        return [r.reference for r in sorted([*reports, claimed], key=lambda r: text.index(r.reference))]

    small = {sort: listed(sort) for sort in queries.SORTS}
    assert "6 reports" in client.get(f"/inbox?org={org}").text
    monkeypatch.setattr(queries, "INBOX_COUNT_CAP", 3)
    big = {sort: listed(sort) for sort in queries.SORTS}
    assert big == small
    assert small["oldest"][:5] == [reports[i].reference for i in (0, 4, 2, 3, 1)]
    page = " ".join(client.get(f"/inbox?org={org}").text.split())
    assert "More than 3 reports" in page and page.count(claimed.reference) == 1
    assert len(features(client.get(f"/inbox/map?org={org}"))) == 6
    max_points(2)
    capped = client.get(f"/inbox/map?org={org}")
    assert "More than 3 reports match, so the map shows the first 2" in " ".join(capped.text.split())
    assert list(features(capped)) == small["oldest"][:2]
