"""The partner inbox, the case page and council triage through the browser's eyes: filters,
query counts, and a partner that is not on a case getting 403 whatever the URL or form says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import queries
from app.coordination.claims import claim_case
from app.coordination.models import CaseClaim, ClaimRole
from app.db import utcnow
from app.reports.models import Report, ReportStatus
from tests.coordination.conftest import BABLAKE, BABLAKE_POINT, Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]


def listed(response: Any, *reports: Report) -> list[bool]:
    return [r.reference in response.text for r in reports]


# --- The inbox ---------------------------------------------------------------------------------


def test_the_inbox_lists_what_is_routed_to_the_organisation_with_full_details(
    client: FlaskClient, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does a member's inbox list only what is routed to their organisation, with full text and location?"""
    ours = make_report(slug="fly-tipping", title="Sofa on the verge", description="Blocking the path")
    not_ours = make_report(slug="noise")
    login(partners.council_member)
    page = client.get("/inbox")
    assert page.status_code == 200
    assert listed(page, ours, not_ours) == [True, False]
    assert "Sofa on the verge" in page.text and "Blocking the path" in page.text
    assert f"{ours.lat:.5f}, {ours.lon:.5f}" in page.text
    assert 'href="/inbox"' in page.text and "Triage</a>" not in page.text


def test_the_inbox_filters_by_ward_category_status_age_and_unclaimed(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Do the ward, category, status, age and "unclaimed" filters each narrow the council's inbox?"""
    now = utcnow()
    old = make_report(slug="fly-tipping", created_at=now - dt.timedelta(days=45))
    litter = make_report(slug="litter")
    bablake = make_report(slug="fly-tipping", point=BABLAKE_POINT)
    led = make_report(slug="fly-tipping")
    claim_case(db_session, led, partners.police, role="lead", by=partners.police_member)
    login(partners.council_member)
    org = partners.council.id
    everything = [old, litter, bablake, led]

    def inbox(query: str) -> list[bool]:
        response = client.get(f"/inbox?org={org}&{query}")
        assert response.status_code == 200, response.text
        return listed(response, *everything)

    assert inbox("") == [True, True, True, True]
    assert inbox(f"ward={BABLAKE}") == [False, False, True, False]
    assert inbox("category=litter") == [False, True, False, False]
    assert inbox("status=acknowledged") == [False, False, False, True]
    assert inbox("age=older") == [True, False, False, False]
    assert inbox("age=week") == [False, True, True, True]
    assert inbox("unclaimed=1") == [True, True, True, False]
    newest = client.get(f"/inbox?org={org}&sort=newest").text
    assert newest.index(led.reference) < newest.index(old.reference)
    by_status = client.get(f"/inbox?org={org}&sort=status").text
    assert by_status.index(old.reference) < by_status.index(led.reference)
    bad = client.get(f"/inbox?org={org}&status=lost")
    assert bad.status_code == 400 and "There is a problem" in bad.text and 'href="#filter-status"' in bad.text


def test_the_inbox_pages(
    app: Any, client: FlaskClient, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """With more reports than a page holds, does the inbox show one page and link to the next?"""
    per_page = app.config["PAGE_SIZE"]
    made = [make_report(slug="fly-tipping") for _ in range(per_page + 2)]
    login(partners.council_member)
    first = client.get(f"/inbox?org={partners.council.id}")
    assert sum(listed(first, *made)) == per_page and "page=2" in first.text
    second = client.get(f"/inbox?org={partners.council.id}&page=2")
    assert sum(listed(second, *made)) == 2


def test_the_inbox_costs_the_same_queries_whatever_its_length(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    count_queries: Callable[[], Any],
) -> None:
    """Does the inbox run the same number of queries for 2 reports as for 20, claims and leads included?"""
    login(partners.council_member)
    path = f"/inbox?org={partners.council.id}"
    first = [make_report(slug="fly-tipping") for _ in range(2)]
    claim_case(db_session, first[0], partners.police, role="lead", by=partners.police_member)
    client.get(path)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    for n in range(18):
        report = make_report(slug="fly-tipping" if n % 2 else "litter")
        if n % 3 == 0:
            claim_case(db_session, report, partners.council, role="supporting", by=partners.council_member)
    with count_queries() as many:
        page = client.get(path)
    assert page.status_code == 200 and page.text.count("/cases/") >= 20
    assert many.count == few.count, many.statements


def test_someone_in_several_organisations_chooses_an_inbox(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is a member of two organisations asked which inbox to open, and refused a third one's?"""
    from app.partners.models import Membership, OrgRole

    person = partners.council_member
    db_session.add(Membership(user_id=person.id, organisation_id=partners.housing.id, role=OrgRole.MEMBER))
    db_session.flush()
    db_session.refresh(person)
    login(person)
    choose = client.get("/inbox")
    assert choose.status_code == 200 and "Choose an inbox" in choose.text
    assert f"/inbox?org={partners.council.id}" in choose.text and f"/inbox?org={partners.housing.id}" in choose.text
    assert client.get(f"/inbox?org={partners.police.id}").status_code == 403


# --- The case page -------------------------------------------------------------------------------


def test_a_partner_claims_the_lead_from_the_case_page_and_the_other_is_told_who_leads(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Can a routed member claim the lead from the case page, and does a second claimant see who leads now?"""
    report = make_report(slug="fly-tipping")
    login(partners.council_member)
    page = client.get(f"/cases/{report.id}")
    assert page.status_code == 200 and "Claim the lead" in page.text and "History" in page.text
    done = client.post(f"/cases/{report.id}/claim", data={"organisation": partners.council.id, "role": "lead"})
    assert done.status_code == 302
    after = client.get(done.location)
    assert "Council is now the lead partner" in after.text and "Acknowledged by Council." in after.text
    assert report.status == ReportStatus.ACKNOWLEDGED
    client.post("/sign-out")
    login(partners.police_member)
    lost = client.post(f"/cases/{report.id}/claim", data={"organisation": partners.police.id, "role": "lead"})
    assert lost.status_code == 409 and "Council leads this case now" in lost.text
    supported = client.post(
        f"/cases/{report.id}/claim", data={"organisation": partners.police.id, "role": "supporting"}
    )
    assert supported.status_code == 302


def test_declining_from_the_case_page_needs_a_reason_and_can_send_it_to_triage(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is a decline without a reason refused, and does the last decline put the report in triage?"""
    report = make_report(slug="fly-tipping", point=BABLAKE_POINT)  # the council alone has it
    login(partners.council_member)
    org = partners.council.id
    missing = client.post(f"/cases/{report.id}/decline", data={"organisation": org, "reason": ""})
    assert missing.status_code == 400 and f'href="#reason-{org}"' in missing.text
    done = client.post(f"/cases/{report.id}/decline", data={"organisation": org, "reason": "Private land"})
    assert done.status_code == 302
    assert "gone back to council triage" in client.get(done.location).text
    # Off the case now: the page and its actions are refused.
    assert client.get(f"/cases/{report.id}").status_code == 403
    assert client.post(f"/cases/{report.id}/claim", data={"organisation": org, "role": "lead"}).status_code == 403


@pytest.mark.parametrize("organisation", ["own", "routed", "missing", "nonsense"])
def test_a_partner_not_on_a_case_gets_403_whatever_the_form_says(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    organisation: str,
) -> None:
    """Is a partner not on a case refused its page and actions, whatever organisation the form names?"""
    report = make_report(slug="fly-tipping")  # routed to the council and the police, not housing
    ids = {"own": partners.housing.id, "routed": partners.council.id}
    value = {"missing": None, "nonsense": "abc"}.get(organisation, ids.get(organisation))
    data = {"role": "lead", "reason": "Not ours"}
    if value is not None:
        data["organisation"] = str(value)
    login(partners.housing_member)
    assert client.get(f"/cases/{report.id}").status_code == 403
    assert client.post(f"/cases/{report.id}/claim", data=data).status_code == 403
    assert client.post(f"/cases/{report.id}/decline", data=data).status_code == 403
    assert client.post(f"/cases/{report.id}/route", data=data).status_code == 403
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseClaim)) == 0
    assert report.reference not in client.get(f"/inbox?org={partners.housing.id}").text


def test_a_member_on_the_case_cannot_act_for_another_organisation_on_it(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Can a council member claim in the police's name by changing the form's organisation id? (No: 403.)"""
    report = make_report(slug="fly-tipping")
    login(partners.council_member)
    forged = client.post(f"/cases/{report.id}/claim", data={"organisation": partners.police.id, "role": "lead"})
    assert forged.status_code == 403
    assert queries.current_lead(db_session, report.id) is None


# --- Triage ------------------------------------------------------------------------------------


def test_an_administrator_routes_a_report_from_triage(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Can an administrator route a triage report with a reason, so that the organisation sees it?"""
    report = make_report(slug="graffiti", title="Tags on the bridge")
    login(partners.admin)
    queue = client.get("/triage")
    assert queue.status_code == 200 and "Tags on the bridge" in queue.text and 'href="/triage"' in queue.text
    refused = client.post(f"/cases/{report.id}/route", data={"organisation": partners.housing.id, "reason": ""})
    assert refused.status_code == 400 and 'href="#route-reason"' in refused.text
    routed = client.post(
        f"/cases/{report.id}/route", data={"organisation": partners.housing.id, "reason": "On their estate"}
    )
    assert routed.status_code == 302
    assert "Tags on the bridge" not in client.get("/triage").text
    client.post("/sign-out")
    login(partners.housing_member)
    assert report.reference in client.get("/inbox").text
    assert "On their estate" in client.get(f"/cases/{report.id}").text


def test_claims_are_listed_with_their_role_in_the_inbox(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the inbox say which part the organisation has, and who leads?"""
    report = make_report(slug="fly-tipping")
    claim_case(db_session, report, partners.police, role=ClaimRole.LEAD, by=partners.police_member)
    login(partners.council_member)
    page = client.get("/inbox")
    assert "Routed to you" in page.text and "Lead: Police" in page.text


def test_the_inbox_shows_open_cases_unless_asked_for_every_status(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the inbox list only open cases (new, acknowledged, in progress) by default, every
    status with status=all, and one status when chosen?"""
    open_report = make_report(slug="fly-tipping")
    done = make_report(slug="fly-tipping")
    done.status = ReportStatus.RESOLVED
    db_session.flush()
    login(partners.council_member)
    org = partners.council.id
    default = client.get(f"/inbox?org={org}").text
    assert open_report.reference in default and done.reference not in default
    every = client.get(f"/inbox?org={org}&status=all").text
    assert open_report.reference in every and done.reference in every
    resolved = client.get(f"/inbox?org={org}&status=resolved").text
    assert open_report.reference not in resolved and done.reference in resolved
