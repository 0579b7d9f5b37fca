"""Handing the lead to another organisation: offering, withdrawing, accepting and refusing
through the services and the case page; one open offer per case; the route an offer gives an
organisation not on the case; the emails to both sides; and who sees the reporter's name and
email address before and after."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.coordination import handoffs, queries
from app.coordination.claims import claim_case, decline_case
from app.coordination.errors import CoordinationError
from app.coordination.handoffs import HandoffConflict, accept_handoff, offer_handoff, refuse_handoff, withdraw_handoff
from app.coordination.models import (
    REASON_MAX,
    CaseClaim,
    CaseHandoff,
    CaseRoute,
    ClaimRole,
    EventKind,
    HandoffState,
    ResponseTarget,
)
from app.db import utcnow
from app.partners.models import Organisation
from app.partners.services import NotAllowed
from app.reports.models import Report, ReportStatus
from app.templating import local_date
from tests.coordination.casework import audit_actions, emails, events, led_case
from tests.coordination.conftest import Partners
from tests.coordination.racing import add_member, add_organisation, own_database, published_report, run_together

MakeReport = Callable[..., Report]
Login = Callable[[User], None]
CASE_URL = "http://tellus.test/cases/1"


def case_of(session: Session, report: Report) -> Any:
    case = queries.load_case(session, report.id)
    assert case is not None
    return case


def lead_of(session: Session, report: Report) -> str | None:
    lead = queries.current_lead(session, report.id)
    return lead.name if lead else None


def offer(session: Session, partners: Partners, report: Report, to: Any, reason: str = "Their patch") -> CaseHandoff:
    """The council (the lead) offers the lead to ``to``."""
    return offer_handoff(
        session, report, partners.council, to, reason=reason, by=partners.council_member, case_url=CASE_URL
    )


# --- Offering ----------------------------------------------------------------------------------


def test_the_lead_offers_the_lead_to_a_partner_on_the_case(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does an offer to the supporting partner stay open without changing the lead, log and
    audit it, and email the police's contact address (and route nothing new)?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.police, "A crime scene now")
    assert made.state == HandoffState.OFFERED and made.reason == "A crime scene now"
    assert lead_of(db_session, report) == "Council"
    last = events(db_session, report)[-1]
    assert (last.kind, last.old_value, last.new_value, last.detail) == (
        EventKind.HANDOFF_OFFERED,
        "Council",
        "Police",
        "A crime scene now",
    )
    assert audit_actions(db_session)[-1] == "handoff_offered"
    [email] = emails(db_session, "handoff_offered")
    assert email.to_address == partners.police.contact_email
    assert "A crime scene now" in email.text_body and CASE_URL in email.text_body
    assert "reporter's name and email address" in email.text_body
    assert [r.organisation.name for r in case_of(db_session, report).live_routes] == ["Council", "Police"]


def test_an_offer_to_an_organisation_not_on_the_case_routes_it_there(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does an offer to housing (not on the case) give it a live route with a reason naming
    the offer, so the case shows in its inbox?"""
    report = led_case(db_session, partners, make_report)
    offer(db_session, partners, report, partners.housing, "Their tenant")
    route = case_of(db_session, report).route_of(partners.housing)
    assert route is not None and route.is_live and route.routed_by_id == partners.council_member.id
    assert route.reason == "Lead hand-off offered by Council: Their tenant"
    assert route.acknowledge_due_at is not None
    kinds = [e.kind for e in events(db_session, report)[-2:]]
    assert kinds == [EventKind.HANDOFF_OFFERED, EventKind.ROUTED]
    rows, _ = queries.inbox(db_session, partners.housing, queries.InboxFilter(), page=1, per_page=50)
    assert report in [row.report for row in rows]
    assert handoffs.offered_to(db_session, partners.housing)[0][1] == report


def test_an_offer_to_an_organisation_that_declined_routes_it_again(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """If the police declined the report before, does an offer make its route live again?"""
    report = make_report(slug="fly-tipping")
    decline_case(db_session, report, partners.police, reason="Not a crime", by=partners.police_member)
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    offer(db_session, partners, report, partners.police)
    route = case_of(db_session, report).route_of(partners.police)
    assert route.is_live and route.reason.startswith("Lead hand-off offered by Council")


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("nobody", "to", "Choose the organisation to offer the lead to"),
        ("itself", "to", "Council leads this case already: choose another organisation"),
        ("inactive", "to", "Housing is inactive: choose an active organisation"),
        ("no reason", "reason", "Say why you are offering the lead to this organisation"),
        ("long reason", "reason", f"The reason must be {REASON_MAX} characters or fewer"),
        ("closed", "to", "This report is closed: its lead cannot be handed off"),
    ],
)
def test_a_bad_offer_is_refused_with_what_to_fix(
    db_session: Session, partners: Partners, make_report: MakeReport, case: str, field: str, message: str
) -> None:
    """Is an offer refused with no organisation, to the lead itself, to an inactive one, with
    no reason or one too long, and on a closed report?"""
    report = led_case(db_session, partners, make_report)
    to: Any = {"nobody": None, "itself": partners.council}.get(case, partners.housing)
    reason = {"no reason": "  ", "long reason": "x" * (REASON_MAX + 1)}.get(case, "Theirs")
    if case == "inactive":
        partners.housing.active = False
    if case == "closed":
        report.status = ReportStatus.CLOSED
    db_session.flush()
    with pytest.raises(CoordinationError) as refused:
        offer(db_session, partners, report, to, reason)
    assert refused.value.errors == {field: message}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseHandoff)) == 0


@pytest.mark.parametrize("who", ["supporting partner", "housing", "administrator", "not the lead's member"])
def test_only_the_lead_offers_the_lead(
    db_session: Session, partners: Partners, make_report: MakeReport, who: str
) -> None:
    """Is an offer refused from the supporting partner, a partner not on the case, an
    administrator, and a member acting for the lead organisation without belonging to it?"""
    report = led_case(db_session, partners, make_report)
    organisation, by = {
        "supporting partner": (partners.police, partners.police_member),
        "housing": (partners.housing, partners.housing_member),
        "administrator": (partners.council, partners.admin),
        "not the lead's member": (partners.council, partners.police_member),
    }[who]
    with pytest.raises(NotAllowed):
        offer_handoff(db_session, report, organisation, partners.housing, reason="x", by=by, case_url=CASE_URL)


def test_a_case_has_one_open_offer_at_a_time(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Is a second offer refused, naming the open one, until that one is withdrawn?"""
    report = led_case(db_session, partners, make_report)
    first = offer(db_session, partners, report, partners.police)
    with pytest.raises(HandoffConflict) as refused:
        offer(db_session, partners, report, partners.housing)
    assert refused.value.offer == first
    assert "Council has already offered the lead to Police" in refused.value.errors["to"]
    withdraw_handoff(db_session, first, by=partners.council_member)
    assert offer(db_session, partners, report, partners.housing).state == HandoffState.OFFERED


def test_the_database_refuses_a_second_open_offer_that_got_past_the_check(
    db_session: Session, partners: Partners, make_report: MakeReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the service's check misses an open offer (as in a race), does the unique index
    refuse the second, the service name the open offer, and the transaction stay usable?"""
    report = led_case(db_session, partners, make_report)
    first = offer(db_session, partners, report, partners.police)
    real = handoffs.open_offer
    calls: list[int] = []

    def blind_first_time(session: Session, report_id: int) -> CaseHandoff | None:
        calls.append(report_id)
        return None if len(calls) == 1 else real(session, report_id)

    monkeypatch.setattr(handoffs, "open_offer", blind_first_time)
    with pytest.raises(HandoffConflict) as refused:
        offer(db_session, partners, report, partners.housing)
    assert refused.value.offer.id == first.id and len(calls) == 2
    monkeypatch.undo()
    assert case_of(db_session, report).route_of(partners.housing) is None
    withdraw_handoff(db_session, first, by=partners.council_member)
    assert offer(db_session, partners, report, partners.housing).state == HandoffState.OFFERED


# --- Withdrawing -------------------------------------------------------------------------------


def test_the_lead_withdraws_its_offer_once(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Can the lead withdraw an open offer (logged and audited), but not twice, and can the
    organisation it was offered to not withdraw it?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.police)
    with pytest.raises(NotAllowed):
        withdraw_handoff(db_session, made, by=partners.police_member)
    withdraw_handoff(db_session, made, by=partners.council_member)
    assert made.state == HandoffState.WITHDRAWN and made.answered_by_id == partners.council_member.id
    assert events(db_session, report)[-1].kind == EventKind.HANDOFF_WITHDRAWN
    assert audit_actions(db_session)[-1] == "handoff_withdrawn"
    with pytest.raises(CoordinationError, match="withdrawn already"):
        withdraw_handoff(db_session, made, by=partners.council_member)
    with pytest.raises(CoordinationError, match="withdrawn already"):
        accept_handoff(db_session, made, by=partners.police_member, case_url=CASE_URL)


# --- Accepting ---------------------------------------------------------------------------------


def test_accepting_swaps_the_roles_refreshes_the_deadline_and_tells_the_offerer(
    db_session: Session, partners: Partners, make_report: MakeReport, category: Callable[[str], Any]
) -> None:
    """Does accepting make the police lead (reusing its supporting claim) and the council
    supporting, recompute the resolution deadline from the police's targets, log the personal
    data note, and email the council's contact address and the member who offered?"""
    report = led_case(db_session, partners, make_report)
    police_claim = case_of(db_session, report).claim_of(partners.police)
    db_session.add(
        ResponseTarget(
            organisation_id=partners.police.id,
            category_id=category("fly-tipping").id,
            acknowledge_days=1,
            resolve_days=3,
        )
    )
    db_session.flush()
    before = report.resolve_due_at
    made = offer(db_session, partners, report, partners.police)
    moment = utcnow()
    note = accept_handoff(db_session, made, by=partners.police_member, case_url=CASE_URL, now=moment)
    case = case_of(db_session, report)
    assert case.lead.organisation == partners.police and case.lead.id == police_claim.id
    assert case.claim_of(partners.council).role == ClaimRole.SUPPORTING
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseClaim)) == 2
    assert made.state == HandoffState.ACCEPTED and made.answered_at == moment
    assert report.resolve_due_at is not None and before is not None and report.resolve_due_at < before
    assert note == (
        f"From {local_date(moment)}, Police can see the reporter's name and email address; Council no longer can."
    )
    last = events(db_session, report)[-1]
    assert (last.kind, last.old_value, last.new_value, last.detail) == (
        EventKind.HANDOFF_ACCEPTED,
        "Council",
        "Police",
        note,
    )
    assert audit_actions(db_session)[-1] == "handoff_accepted"
    answered = emails(db_session, "handoff_answered")
    assert {e.to_address for e in answered} == {partners.council.contact_email, partners.council_member.email}
    assert all("accepted the lead" in e.subject and note in " ".join(e.text_body.split()) for e in answered)


def test_accepting_an_offer_made_to_an_organisation_not_on_the_case_gives_it_a_lead_claim(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can housing, put on the case by the offer, accept it and lead, with a new claim?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.housing)
    accept_handoff(db_session, made, by=partners.housing_member, case_url=CASE_URL)
    case = case_of(db_session, report)
    assert case.lead.organisation == partners.housing and case.lead.claimed_by_id == partners.housing_member.id
    assert {c.organisation.name: c.role for c in case.claims} == {
        "Council": ClaimRole.SUPPORTING,
        "Police": ClaimRole.SUPPORTING,
        "Housing": ClaimRole.LEAD,
    }


@pytest.mark.parametrize("who", ["the lead", "another partner on the case", "administrator"])
def test_only_the_organisation_offered_the_lead_answers(
    db_session: Session, partners: Partners, make_report: MakeReport, who: str
) -> None:
    """Are the lead itself, the supporting partner (the offer went to housing) and an
    administrator refused when they accept or refuse the offer?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.housing)
    by = {"the lead": partners.council_member, "another partner on the case": partners.police_member}.get(
        who, partners.admin
    )
    with pytest.raises(NotAllowed):
        accept_handoff(db_session, made, by=by, case_url=CASE_URL)
    with pytest.raises(NotAllowed):
        refuse_handoff(db_session, made, reason="No", by=by, case_url=CASE_URL)
    assert made.state == HandoffState.OFFERED and lead_of(db_session, report) == "Council"


def test_an_offer_is_answered_once(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Once accepted, is the offer refused a second acceptance, a refusal and a withdrawal?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.police)
    accept_handoff(db_session, made, by=partners.police_member, case_url=CASE_URL)
    with pytest.raises(CoordinationError, match="accepted already"):
        accept_handoff(db_session, made, by=partners.police_member, case_url=CASE_URL)
    with pytest.raises(CoordinationError, match="accepted already"):
        refuse_handoff(db_session, made, reason="Changed our minds", by=partners.police_member, case_url=CASE_URL)
    assert lead_of(db_session, report) == "Police"


def test_the_new_lead_can_hand_the_lead_back(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """After accepting, can the police offer the lead back, and the council (now supporting)
    accept it, so the council leads again?"""
    report = led_case(db_session, partners, make_report)
    accept_handoff(
        db_session, offer(db_session, partners, report, partners.police), by=partners.police_member, case_url=CASE_URL
    )
    back = offer_handoff(
        db_session,
        report,
        partners.police,
        partners.council,
        reason="Done our part",
        by=partners.police_member,
        case_url=CASE_URL,
    )
    accept_handoff(db_session, back, by=partners.council_member, case_url=CASE_URL)
    assert lead_of(db_session, report) == "Council"


# --- Refusing ----------------------------------------------------------------------------------


def test_refusing_needs_a_reason_keeps_the_lead_and_tells_the_offerer(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a refusal without a reason refused; does one with a reason keep the council as lead,
    record the reason, and email the council with it?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.police)
    with pytest.raises(CoordinationError) as missing:
        refuse_handoff(db_session, made, reason=" ", by=partners.police_member, case_url=CASE_URL)
    assert missing.value.errors == {"reason": "Say why your organisation is refusing the lead"}
    refuse_handoff(db_session, made, reason="No officers free", by=partners.police_member, case_url=CASE_URL)
    assert made.state == HandoffState.REFUSED and made.answer == "No officers free"
    assert lead_of(db_session, report) == "Council"
    last = events(db_session, report)[-1]
    assert (last.kind, last.detail) == (EventKind.HANDOFF_REFUSED, "No officers free")
    assert audit_actions(db_session)[-1] == "handoff_refused"
    answered = emails(db_session, "handoff_answered")
    assert {e.to_address for e in answered} == {partners.council.contact_email, partners.council_member.email}
    assert all("refused the lead" in e.subject and "No officers free" in e.text_body for e in answered)


# --- Declining and the reporter's personal data -----------------------------------------------


def test_a_lead_cannot_decline_and_is_told_to_hand_off(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is the lead refused a decline, with a message that says to hand the lead to another
    organisation instead?"""
    report = led_case(db_session, partners, make_report)
    with pytest.raises(CoordinationError) as refused:
        decline_case(db_session, report, partners.council, reason="Not ours", by=partners.council_member)
    assert refused.value.errors == {
        "reason": "Council leads this case, so it cannot decline it: hand the lead to another organisation instead"
    }


def test_the_reporters_personal_data_goes_with_the_lead(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Do only the lead's members and administrators see the reporter's details, before and
    after a hand-off?"""
    report = led_case(db_session, partners, make_report)

    def who_sees() -> dict[str, bool]:
        case = case_of(db_session, report)
        people = {
            "council": partners.council_member,
            "police": partners.police_member,
            "housing": partners.housing_member,
            "admin": partners.admin,
        }
        return {name: permissions.can_see_reporter(person, case) for name, person in people.items()}

    assert who_sees() == {"council": True, "police": False, "housing": False, "admin": True}
    made = offer(db_session, partners, report, partners.police)
    assert who_sees() == {"council": True, "police": False, "housing": False, "admin": True}
    accept_handoff(db_session, made, by=partners.police_member, case_url=CASE_URL)
    assert who_sees() == {"council": False, "police": True, "housing": False, "admin": True}


def test_nobody_but_administrators_sees_the_reporter_of_an_unled_case(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """While nobody leads a case, do routed partners miss the reporter's details that an
    administrator sees?"""
    report = make_report(slug="fly-tipping")
    case = case_of(db_session, report)
    assert not permissions.can_see_reporter(partners.council_member, case)
    assert permissions.can_see_reporter(partners.admin, case)


# --- The pages ---------------------------------------------------------------------------------


def test_a_hand_off_through_the_pages(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the lead see the offer form with the personal-data warning, offer the lead to
    housing, and housing see it in its inbox and on the case, accept it, and then see the
    reporter's details that the council no longer sees, with the note on the case page?"""
    report = led_case(
        db_session, partners, make_report, reporter_name="Rosa Reporter", reporter_email="rosa@example.org"
    )
    login(partners.council_member)
    page = client.get(f"/cases/{report.id}")
    assert "Offer the lead" in page.text and "Rosa Reporter, rosa@example.org" in page.text
    assert "When it accepts, it can see the reporter's name and email address" in page.text
    sent = client.post(
        f"/cases/{report.id}/handoffs",
        data={"organisation": partners.council.id, "to": partners.housing.id, "reason": "Their tenant"},
    )
    assert sent.status_code == 302
    after = client.get(sent.location).text
    assert "You have offered the lead to Housing" in after and "Withdraw the offer" in after
    assert "Offer the lead</button>" not in after
    client.post("/sign-out")
    login(partners.housing_member)
    inbox = client.get("/inbox").text
    assert "Lead offered to you" in inbox and f"{report.reference}: {report.title}" in inbox
    offered = client.get(f"/cases/{report.id}").text
    assert "Council has offered the lead to Housing" in offered and "Accept the lead" in offered
    assert "rosa@example.org" not in offered
    handoff = db_session.scalars(sa.select(CaseHandoff)).one()
    accepted = client.post(f"/cases/{report.id}/handoffs/{handoff.id}/accept")
    assert accepted.status_code == 302
    now_lead = client.get(accepted.location).text
    assert "Housing is now the lead partner on this case" in now_lead
    assert "Rosa Reporter, rosa@example.org" in now_lead
    assert "Housing can see the reporter&#39;s name and email address; Council no longer can." in now_lead
    assert "Lead offered to you" not in client.get("/inbox").text
    client.post("/sign-out")
    login(partners.council_member)
    old_lead = client.get(f"/cases/{report.id}").text
    assert "rosa@example.org" not in old_lead and "Only the lead partner sees the reporter" in old_lead
    assert "Housing accepted the lead from Council" in old_lead


def test_the_offer_form_answers_400_with_what_to_fix_and_409_for_a_second_offer(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does an offer without a reason get 400 with the chosen organisation kept, and a second
    offer while one is open 409 naming it?"""
    report = led_case(db_session, partners, make_report)
    login(partners.council_member)
    path = f"/cases/{report.id}/handoffs"
    missing = client.post(path, data={"organisation": partners.council.id, "to": partners.police.id, "reason": ""})
    assert missing.status_code == 400 and 'href="#handoff-reason"' in missing.text
    assert f'<option value="{partners.police.id}" selected>' in missing.text
    nobody = client.post(path, data={"organisation": partners.council.id, "to": "", "reason": "Typed reason"})
    assert (
        nobody.status_code == 400 and 'href="#handoff-to"' in nobody.text and "Typed reason</textarea>" in nobody.text
    )
    assert (
        client.post(
            path, data={"organisation": partners.council.id, "to": partners.police.id, "reason": "A"}
        ).status_code
        == 302
    )
    second = client.post(path, data={"organisation": partners.council.id, "to": partners.housing.id, "reason": "B"})
    assert second.status_code == 409 and "Council has already offered the lead to Police" in second.text


def test_refusing_on_the_page_needs_a_reason(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does refusing without a reason get 400 on the case page, and with one a 302 and the
    refusal shown to the council?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.police)
    login(partners.police_member)
    path = f"/cases/{report.id}/handoffs/{made.id}/refuse"
    missing = client.post(path, data={"reason": ""})
    assert missing.status_code == 400 and 'href="#handoff-refuse-reason"' in missing.text
    assert client.post(path, data={"reason": "No officers free"}).status_code == 302
    client.post("/sign-out")
    login(partners.council_member)
    page = client.get(f"/cases/{report.id}").text
    assert "Police refused the lead offered by Council" in page and "No officers free" in page
    assert "Offer the lead" in page


def test_answering_an_offer_that_is_no_longer_open_gets_409(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """After the council withdraws its offer, does the police's acceptance get 409 and say so?"""
    report = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.police)
    withdraw_handoff(db_session, made, by=partners.council_member)
    login(partners.police_member)
    late = client.post(f"/cases/{report.id}/handoffs/{made.id}/accept")
    assert late.status_code == 409 and "This offer has been withdrawn already" in late.text
    assert lead_of(db_session, report) == "Council"


@pytest.mark.parametrize("action", ["accept", "refuse", "withdraw"])
def test_a_partner_not_on_the_case_cannot_answer_whatever_the_ids(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login, action: str
) -> None:
    """Is housing (not on the case) refused every answer to an offer made to the police (403),
    and is an offer asked for through another case not found (404)?"""
    report = led_case(db_session, partners, make_report)
    other = led_case(db_session, partners, make_report)
    made = offer(db_session, partners, report, partners.police)
    login(partners.housing_member)
    data = {"reason": "Not ours", "organisation": str(partners.housing.id)}
    assert client.post(f"/cases/{report.id}/handoffs/{made.id}/{action}", data=data).status_code == 403
    assert client.post(f"/cases/{report.id}/handoffs", data={**data, "to": partners.housing.id}).status_code == 403
    client.post("/sign-out")
    login(partners.police_member)
    assert client.post(f"/cases/{other.id}/handoffs/{made.id}/{action}", data=data).status_code == 404
    assert made.state == HandoffState.OFFERED


def test_the_supporting_partner_cannot_offer_the_lead_even_naming_the_lead(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does a police member get no offer form and 403 when posting an offer in the council's
    name or the police's?"""
    report = led_case(db_session, partners, make_report)
    login(partners.police_member)
    assert "Offer the lead" not in client.get(f"/cases/{report.id}").text
    for organisation in (partners.council, partners.police):
        data = {"organisation": organisation.id, "to": partners.housing.id, "reason": "x"}
        assert client.post(f"/cases/{report.id}/handoffs", data=data).status_code == 403
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseHandoff)) == 0


def test_the_lead_has_no_decline_button_and_a_posted_decline_says_to_hand_off(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is the lead's decline, posted anyway, refused with the hand-off advice?"""
    report = led_case(db_session, partners, make_report)
    login(partners.council_member)
    refused = client.post(f"/cases/{report.id}/decline", data={"organisation": partners.council.id, "reason": "No"})
    assert refused.status_code == 400 and "hand the lead to another organisation instead" in refused.text


def test_an_administrator_sees_the_reporter_but_cannot_hand_off(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does an administrator see the reporter's email on a case but no offer form?"""
    report = led_case(db_session, partners, make_report, reporter_email="rosa@example.org")
    login(partners.admin)
    page = client.get(f"/cases/{report.id}").text
    assert "rosa@example.org" in page and "Offer the lead" not in page


def test_offers_are_dated_in_the_history(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Does the accepted offer keep when it was offered and answered, in that order?"""
    report = led_case(db_session, partners, make_report)
    start = utcnow()
    made = offer_handoff(
        db_session, report, partners.council, partners.police, reason="x", by=partners.council_member,
        case_url=CASE_URL, now=start,
    )  # fmt: skip
    accept_handoff(db_session, made, by=partners.police_member, case_url=CASE_URL, now=start + dt.timedelta(hours=2))
    assert made.offered_at == start and made.answered_at == start + dt.timedelta(hours=2)


# --- Two offers at the same instant ------------------------------------------------------------


@pytest.fixture
def offer_race(db_kind: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, dict[str, int]]]:
    """A database of its own (the tests commit): a report that organisation "Lead" leads, with
    two of its members, and two other organisations "A" and "B" not on the case."""

    def setup(session: Session) -> dict[str, int]:
        lead = add_organisation(session, "lead", covers=True)
        ids = {f"org_{key}": add_organisation(session, key, covers=False).id for key in ("a", "b")}
        ids["org_lead"] = lead.id
        members = {key: add_member(session, lead, f"lead-{key}@example.org") for key in ("a", "b")}
        ids |= {f"user_{key}": person.id for key, person in members.items()}
        report = published_report(session)
        session.refresh(members["a"])
        claim_case(session, report, lead, role="lead", by=members["a"])
        ids["report"] = report.id
        return ids

    with own_database(db_kind, tmp_path, "handoff_race", setup) as made:
        yield made


def test_two_offers_at_the_same_instant_leave_one_open(
    offer_race: tuple[sa.Engine, dict[str, int]], db_kind: str
) -> None:
    """When two members of the lead offer the lead to two organisations at the same instant,
    over two real connections, is exactly one offer kept, and is the other member told which?"""
    engine, ids = offer_race

    def make_offer(key: str, barrier: threading.Barrier) -> str:
        with Session(engine, expire_on_commit=False) as session:
            report = session.get(Report, ids["report"])
            lead = session.get(Organisation, ids["org_lead"])
            to = session.get(Organisation, ids[f"org_{key}"])
            person = session.get(User, ids[f"user_{key}"])
            assert report is not None and lead is not None and to is not None and person is not None
            person.memberships  # noqa: B018  (loaded before the race, not during it)
            barrier.wait()
            offer_handoff(session, report, lead, to, reason=f"To {key}", by=person, case_url=CASE_URL)
            session.commit()
        return "offered"

    outcomes = run_together(make_offer)
    winners = [k for k, v in outcomes.items() if v == "offered"]
    assert len(winners) == 1, outcomes
    loser = outcomes["b" if winners == ["a"] else "a"]
    if db_kind == "postgis":
        assert isinstance(loser, HandoffConflict), loser
        assert loser.offer.to_organisation_id == ids[f"org_{winners[0]}"]
        assert f"Org lead has already offered the lead to Org {winners[0]}" in str(loser)
    else:
        assert isinstance(loser, HandoffConflict | IntegrityError | OperationalError), loser
    with engine.connect() as conn:
        open_offers = list(
            conn.execute(
                sa.select(CaseHandoff.to_organisation_id).where(
                    CaseHandoff.report_id == ids["report"], CaseHandoff.state == HandoffState.OFFERED
                )
            ).scalars()
        )
        routed = set(
            conn.execute(sa.select(CaseRoute.organisation_id).where(CaseRoute.report_id == ids["report"])).scalars()
        )
    assert open_offers == [ids[f"org_{winners[0]}"]]
    # Only the kept offer routed the case to its organisation.
    assert routed == {ids["org_lead"], ids[f"org_{winners[0]}"]}
