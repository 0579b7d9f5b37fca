"""Routing, claims and declines through the services: who gets a report, who leads it, and
what the history and audit log say."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.coordination import claims, queries
from app.coordination.claims import claim_case, decline_case
from app.coordination.errors import ClaimConflict, CoordinationError
from app.coordination.models import CaseEvent, CaseHistoryIsAppendOnly, CaseRoute, ClaimRole, EventKind
from app.coordination.routing import route_to
from app.partners.services import NotAllowed
from app.reports.models import Report, ReportCell, ReportStatus
from tests.coordination.conftest import BABLAKE_POINT, Partners

MakeReport = Callable[..., Report]


def routed_to(session: Session, report: Report) -> list[str]:
    case = queries.load_case(session, report.id)
    assert case is not None
    return [r.organisation.name for r in case.live_routes]


def kinds(session: Session, report: Report) -> list[str]:
    return [e.kind.value for e in queries.history(session, report.id)]


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


# --- Routing -----------------------------------------------------------------------------------


def test_a_published_report_goes_to_every_organisation_that_covers_it(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a report routed to every active organisation covering its ward and category, at once?"""
    report = make_report(slug="fly-tipping")
    assert sorted(routed_to(db_session, report)) == ["Council", "Police"]
    assert kinds(db_session, report) == ["routed", "routed"]
    assert audit_actions(db_session)[-1] == "case_routed"


def test_a_report_nobody_covers_lands_in_triage(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does a report whose ward and category match nobody wait in the council triage queue?"""
    report = make_report(slug="graffiti")
    case = queries.load_case(db_session, report.id)
    assert case is not None and case.in_triage
    reports, total = queries.triage_queue(db_session, page=1, per_page=100)
    assert report in reports and total >= 1
    assert kinds(db_session, report) == ["to_triage"]
    assert audit_actions(db_session)[-1] == "case_to_triage"


def test_coverage_needs_both_the_ward_and_the_category(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does a report in a ward only the council covers go to the council alone?"""
    report = make_report(slug="fly-tipping", point=BABLAKE_POINT)
    assert routed_to(db_session, report) == ["Council"]


def test_an_inactive_organisation_gets_nothing(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a deactivated organisation left out of routing?"""
    partners.police.active = False
    db_session.flush()
    assert routed_to(db_session, make_report(slug="fly-tipping")) == ["Council"]


def test_a_report_awaiting_confirmation_is_routed_when_published(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a report routed only once it is published, and only once?"""
    from app.reports.services import publish_report

    report = make_report(slug="fly-tipping", publish=False)
    assert queries.load_case(db_session, report.id) is None
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseRoute)) == 0
    assert publish_report(db_session, report)
    assert not publish_report(db_session, report)
    assert sorted(routed_to(db_session, report)) == ["Council", "Police"]


def test_triage_routes_a_report_to_any_organisation_with_a_reason(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can an administrator route a triage report to an organisation that does not cover it?"""
    report = make_report(slug="graffiti")
    route_to(db_session, report, partners.housing, reason="  Their estate  ", by=partners.admin)
    assert routed_to(db_session, report) == ["Housing"]
    event = queries.history(db_session, report.id)[-1]
    assert (event.kind, event.actor_id, event.detail) == (EventKind.ROUTED, partners.admin.id, "Their estate")
    case = queries.load_case(db_session, report.id)
    assert case is not None and not case.in_triage


def test_only_administrators_route_and_they_must_say_why(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is routing refused to partners, and to administrators without a reason or twice?"""
    report = make_report(slug="fly-tipping")
    with pytest.raises(NotAllowed):
        route_to(db_session, report, partners.housing, reason="Mine", by=partners.council_member)
    with pytest.raises(CoordinationError) as missing:
        route_to(db_session, report, partners.housing, reason=" ", by=partners.admin)
    assert "reason" in missing.value.errors
    with pytest.raises(CoordinationError) as twice:
        route_to(db_session, report, partners.council, reason="Again", by=partners.admin)
    assert "already has this report" in twice.value.errors["organisation"]


# --- Claims ------------------------------------------------------------------------------------


def test_claiming_the_lead_acknowledges_a_new_report(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does the lead claim move the report from new to acknowledged with the public update the lifecycle needs?"""
    report = make_report(slug="fly-tipping")
    claim = claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    assert claim.role == ClaimRole.LEAD and report.status == ReportStatus.ACKNOWLEDGED
    status_event = queries.history(db_session, report.id)[-1]
    assert (status_event.kind, status_event.old_value, status_event.new_value) == (
        EventKind.STATUS_CHANGED,
        "new",
        "acknowledged",
    )
    assert status_event.detail == "Acknowledged by Council."
    assert audit_actions(db_session)[-1] == "case_claimed"
    # The map's counts follow the status.
    counted = db_session.execute(
        sa.select(ReportCell.status, sa.func.sum(ReportCell.n))
        .where(ReportCell.level == 0, ReportCell.category_id == report.category_id)
        .group_by(ReportCell.status)
    ).all()
    assert dict(counted).get("acknowledged") == 1 and not dict(counted).get("new")


def test_a_second_lead_claim_is_told_who_leads(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is an organisation claiming a led case told plainly which organisation leads it?"""
    report = make_report(slug="fly-tipping")
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    with pytest.raises(ClaimConflict) as conflict:
        claim_case(db_session, report, partners.police, role="lead", by=partners.police_member)
    assert conflict.value.lead == partners.council
    assert "Council leads this case now" in str(conflict.value)


def test_the_database_refuses_a_second_lead_that_got_past_the_check(
    db_session: Session, partners: Partners, make_report: MakeReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If two claims pass the "no lead yet" check, does the one-lead index stop the second cleanly?"""
    report = make_report(slug="fly-tipping")
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    real = queries.load_case

    def stale(session: Session, report_id: int) -> queries.Case | None:
        case = real(session, report_id)
        if case is not None:
            case.claims = []  # as if read before the council's claim was committed
        return case

    monkeypatch.setattr(claims, "load_case", stale)
    with pytest.raises(ClaimConflict) as conflict:
        claim_case(db_session, report, partners.police, role="lead", by=partners.police_member)
    assert conflict.value.lead == partners.council
    monkeypatch.undo()
    assert queries.current_lead(db_session, report.id) == partners.council
    # Still usable: the police can support instead.
    claim_case(db_session, report, partners.police, role="supporting", by=partners.police_member)


def test_a_supporting_partner_can_go_on_to_lead_but_not_back(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can a supporting partner claim the lead later, and is a lead refused a step down?"""
    report = make_report(slug="fly-tipping")
    claim_case(db_session, report, partners.police, role="supporting", by=partners.police_member)
    assert report.status == ReportStatus.NEW
    claim_case(db_session, report, partners.police, role="lead", by=partners.police_member)
    assert report.status == ReportStatus.ACKNOWLEDGED
    with pytest.raises(CoordinationError, match="cannot step down"):
        claim_case(db_session, report, partners.police, role="supporting", by=partners.police_member)
    with pytest.raises(CoordinationError, match="already the lead partner"):
        claim_case(db_session, report, partners.police, role="lead", by=partners.police_member)


def test_only_members_of_an_organisation_on_the_case_can_claim_for_it(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a claim refused for an organisation not routed, for a non-member, and for an administrator?"""
    report = make_report(slug="fly-tipping")
    with pytest.raises(NotAllowed):
        claim_case(db_session, report, partners.housing, role="lead", by=partners.housing_member)
    with pytest.raises(NotAllowed):
        claim_case(db_session, report, partners.council, role="lead", by=partners.police_member)
    with pytest.raises(NotAllowed):
        claim_case(db_session, report, partners.council, role="lead", by=partners.admin)
    with pytest.raises(CoordinationError, match="lead or support"):
        claim_case(db_session, report, partners.council, role="owner", by=partners.council_member)


# --- Declines ----------------------------------------------------------------------------------


def test_declining_leaves_the_others_and_the_last_decline_goes_to_triage(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does a report go back to triage only when the last organisation with it declines?"""
    report = make_report(slug="fly-tipping")
    assert not decline_case(db_session, report, partners.police, reason="Not a crime", by=partners.police_member)
    assert routed_to(db_session, report) == ["Council"]
    assert decline_case(db_session, report, partners.council, reason="Private land", by=partners.council_member)
    case = queries.load_case(db_session, report.id)
    assert case is not None and case.in_triage
    assert kinds(db_session, report)[-3:] == ["declined", "declined", "to_triage"]
    assert audit_actions(db_session)[-2:] == ["case_declined", "case_declined"]
    # Off the case: no more claims, and the triage queue has it.
    with pytest.raises(NotAllowed):
        claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    assert report in queries.triage_queue(db_session, page=1, per_page=1000)[0]
    # Routed again from triage, the council has it back.
    route_to(db_session, report, partners.council, reason="It is council land after all", by=partners.admin)
    assert routed_to(db_session, report) == ["Council"]


def test_a_decline_needs_a_reason_and_a_live_unclaimed_route(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a decline refused without a reason, or once the organisation has claimed the case?"""
    report = make_report(slug="fly-tipping")
    with pytest.raises(CoordinationError) as missing:
        decline_case(db_session, report, partners.council, reason="", by=partners.council_member)
    assert "reason" in missing.value.errors
    claim_case(db_session, report, partners.council, role="supporting", by=partners.council_member)
    with pytest.raises(CoordinationError, match="has claimed this case"):
        decline_case(db_session, report, partners.council, reason="Changed our mind", by=partners.council_member)


def test_a_supporting_partner_keeps_a_declined_report_out_of_triage(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """When one organisation declines but another supports the case, does the report stay out of triage?"""
    report = make_report(slug="fly-tipping")
    claim_case(db_session, report, partners.police, role="supporting", by=partners.police_member)
    assert not decline_case(db_session, report, partners.council, reason="Not ours", by=partners.council_member)
    assert report not in queries.triage_queue(db_session, page=1, per_page=1000)[0]


# --- History -----------------------------------------------------------------------------------


def test_the_case_history_is_append_only(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Does the ORM refuse to change or delete a case event?"""
    report = make_report(slug="fly-tipping")
    db_session.commit()  # releases the test's savepoint: the rollback below keeps the report
    event = db_session.scalars(sa.select(CaseEvent).where(CaseEvent.report_id == report.id)).first()
    assert event is not None
    event.detail = "rewritten"
    with pytest.raises(CaseHistoryIsAppendOnly):
        db_session.flush()
    db_session.rollback()
    event = db_session.scalars(sa.select(CaseEvent)).first()
    assert event is not None
    db_session.delete(event)
    with pytest.raises(CaseHistoryIsAppendOnly):
        db_session.flush()
