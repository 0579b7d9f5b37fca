"""The reporter's side: the signed link in an update's email, replying, reopening within 28
days (with the link or signed in), what the public report page shows (sensitive categories
hide the text of updates), and what a bad link gets (a clear message, never a 500)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import messages, notify, queries
from app.coordination.claims import claim_case
from app.coordination.lifecycle import Actor
from app.coordination.models import CaseMessage, EventKind, MessageKind
from app.coordination.status import change_status
from app.db import utcnow
from app.reports.models import Report, ReportFollower, ReportStatus
from tests.coordination.conftest import Partners
from tests.coordination.messaging import addresses, case_of, emails, led_by_council

MakeReport = Callable[..., Report]
Login = Callable[[User], None]


def reply_link(session: Session, to: str) -> str:
    """The path of the reply link in the latest update emailed to ``to``."""
    email = [e for e in emails(session, "case_update") if e.to_address == to][-1]
    found = re.search(r"http://\S+/reports/\d+/reply/\S+", email.text_body)
    assert found, email.text_body
    return urlsplit(found.group(0)).path


def resolve(session: Session, partners: Partners, report: Report, *, at: dt.datetime | None = None) -> None:
    change_status(
        session,
        case_of(session, report),
        ReportStatus.RESOLVED,
        by=partners.council_member,
        organisation=partners.council,
        actor=Actor.LEAD_PARTNER,
        note="Cleared away.",
        now=at,
    )


def replies(session: Session, report: Report) -> list[CaseMessage]:
    return list(
        session.scalars(
            sa.select(CaseMessage).where(CaseMessage.report_id == report.id, CaseMessage.kind == MessageKind.REPLY)
        )
    )


def test_the_paths_in_emails_are_the_routes(app: Flask) -> None:
    """Do the fixed paths that emails link to match the app's routes?"""
    with app.test_request_context():
        assert notify.report_path(7) == url_for("reports.show", report_id=7)
        assert notify.reply_path(7, "abc") == url_for("coordination.reporter_page", report_id=7, token="abc")
        assert notify.case_path(7) == url_for("coordination.case", report_id=7)


def test_the_reporter_replies_with_the_link_from_the_email(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does the link in the acknowledgement email open the report with a reply form, and does a
    reply through it appear publicly, go in the history and reach the lead's contact address?"""
    report = make_report(reporter_email="resident@example.org")
    led_by_council(db_session, partners, report)
    link = reply_link(db_session, "resident@example.org")
    page = client.get(link)
    assert page.status_code == 200 and "Reply to the updates" in page.text and "Acknowledged by Council." in page.text
    # The page's address holds the token: not cached, not sent on as a referrer.
    assert page.headers["Cache-Control"] == "private, no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    token = link.rsplit("/", 1)[1]
    sent = client.post(f"/reports/{report.id}/reply", data={"token": token, "reply-body": "Thank you!\nIt helps."})
    assert sent.status_code == 302 and sent.location == f"{link}#updates"
    [reply] = replies(db_session, report)
    assert (reply.body, reply.author_name, reply.author_id) == (
        "Thank you!\nIt helps.",
        "The person who reported this",
        None,
    )
    assert queries.history(db_session, report.id)[-1].kind == EventKind.REPLY_ADDED
    [to_lead] = emails(db_session, "case_reply")
    assert to_lead.to_address == partners.council.contact_email and "Thank you!" in to_lead.text_body
    public = client.get(f"/reports/{report.id}")
    assert "Reply from the person who reported this" in public.text and "Thank you!<br>\nIt helps." in public.text
    assert "Reply to the updates" not in public.text  # not without the link


@pytest.mark.parametrize("problem", ["tampered", "expired", "other-report", "account-deleted", "garbage"])
def test_a_bad_reply_link_gets_a_clear_message_not_an_error(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, problem: str
) -> None:
    """Does a tampered, expired or misdirected link, or one for a deleted account, get a 400
    page saying what to do, both to open and to post with, and post nothing?"""
    report = make_report(reporter_email="resident@example.org")
    other = make_report(reporter_email="resident@example.org")
    led_by_council(db_session, partners, report)
    token = reply_link(db_session, "resident@example.org").rsplit("/", 1)[1]
    expected = "This link is not valid"
    target = report
    if problem == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif problem == "expired":
        token = notify.reply_token(report, "resident@example.org", now=utcnow() - dt.timedelta(days=61))
        expected = "This link has expired: links to reply work for 60 days."
    elif problem == "other-report":
        target = other
        expected = "This link is not for this report."
    elif problem == "account-deleted":
        report.reporter_email = "deleted@deleted.invalid"
        db_session.flush()
        expected = "This link is not for this report."
    else:
        token = "not-a-token"
    page = client.get(f"/reports/{target.id}/reply/{token}")
    assert page.status_code == 400 and expected in page.text and "There is a problem with this link" in page.text
    posted = client.post(f"/reports/{target.id}/reply", data={"token": token, "reply-body": "Hello"})
    assert posted.status_code == 400 and expected in posted.text
    assert replies(db_session, target) == []


def test_a_link_still_works_on_day_59(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Is a reply link 59 days old still accepted?"""
    report = make_report(reporter_email="resident@example.org")
    led_by_council(db_session, partners, report)
    token = notify.reply_token(report, "resident@example.org", now=utcnow() - dt.timedelta(days=59))
    notify.check_reply_token(report, token)


def test_the_signed_in_reporter_replies_without_a_link(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    make_user: Callable[..., User],
    login: Login,
) -> None:
    """Does the signed-in account that made a report see the reply form on its page and reply
    without a link, while another signed-in resident is refused (403)?"""
    resident = make_user()
    report = make_report(reporter_email=resident.email, reporter_id=resident.id)
    led_by_council(db_session, partners, report)
    login(resident)
    assert "Reply to the updates" in client.get(f"/reports/{report.id}").text
    sent = client.post(f"/reports/{report.id}/reply", data={"reply-body": "Thanks"})
    assert sent.status_code == 302 and sent.location.endswith(f"/reports/{report.id}#updates")
    [reply] = replies(db_session, report)
    assert reply.author_id == resident.id
    client.post("/sign-out")
    login(make_user())
    assert client.post(f"/reports/{report.id}/reply", data={"reply-body": "Me too"}).status_code == 403
    assert "Reply to the updates" not in client.get(f"/reports/{report.id}").text


def test_a_refused_reply_keeps_what_was_typed(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does an empty reply, or one over 5,000 characters, come back 400 with the error summary
    and the text kept (and the reporter's view kept through the link)?"""
    report = make_report(reporter_email="resident@example.org")
    led_by_council(db_session, partners, report)
    token = reply_link(db_session, "resident@example.org").rsplit("/", 1)[1]
    empty = client.post(f"/reports/{report.id}/reply", data={"token": token, "reply-body": " \n "})
    assert empty.status_code == 400 and 'href="#reply-body"' in empty.text and "Write your reply." in empty.text
    long = "<x>" + "y" * 5000
    refused = client.post(f"/reports/{report.id}/reply", data={"token": token, "reply-body": long})
    assert refused.status_code == 400 and "Write 5,000 characters or fewer" in refused.text
    assert f">&lt;x&gt;{'y' * 5000}</textarea>" in refused.text and f'value="{token}"' in refused.text
    assert replies(db_session, report) == []


def test_the_reporter_reopens_a_resolved_report_with_the_link(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does the resolution email offer reopening, and does reopening with a reason put the
    report back in progress, tell the lead and the followers but not the reporter, and refuse
    an empty reason keeping the page?"""
    report = make_report(reporter_email="resident@example.org")
    led_by_council(db_session, partners, report)
    db_session.add(ReportFollower(report_id=report.id, email="follower@example.org"))
    db_session.flush()
    resolve(db_session, partners, report)
    resolved_email = [e for e in emails(db_session, "case_update") if e.to_address == "resident@example.org"][-1]
    assert "you can reopen the report from the same link until" in " ".join(resolved_email.text_body.split())
    link = reply_link(db_session, "resident@example.org")
    page = client.get(link)
    assert "This is not fixed: reopen it" in page.text
    token = link.rsplit("/", 1)[1]
    empty = client.post(f"/reports/{report.id}/reopen", data={"token": token, "reopen-reason": ""})
    assert (
        empty.status_code == 400 and "Say what is still wrong" in empty.text and 'href="#reopen-reason"' in empty.text
    )
    before = addresses(db_session, "case_update")
    done = client.post(f"/reports/{report.id}/reopen", data={"token": token, "reopen-reason": "Still a sofa there."})
    assert done.status_code == 302 and report.status == ReportStatus.IN_PROGRESS
    assert addresses(db_session, "case_update")[len(before) :] == ["follower@example.org"]
    [to_lead] = emails(db_session, "case_reply")
    assert to_lead.subject == f"TellUs Coventry: The resident reopened {report.reference}"
    public = client.get(f"/reports/{report.id}").text
    assert "Still a sofa there." in public and "Status changed to in progress" in public


def test_the_signed_in_reporter_reopens_but_not_after_28_days(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    make_user: Callable[..., User],
    login: Login,
) -> None:
    """Can the signed-in reporter reopen within 28 days, and after 28 days is the form gone and a
    crafted post refused (400) with the reason?"""
    resident = make_user()
    fresh = make_report(reporter_email=resident.email, reporter_id=resident.id)
    stale = make_report(reporter_email=resident.email, reporter_id=resident.id)
    for report, at in ((fresh, utcnow() - dt.timedelta(days=27)), (stale, utcnow() - dt.timedelta(days=29))):
        led_by_council(db_session, partners, report)
        resolve(db_session, partners, report, at=at)
    login(resident)
    assert "This is not fixed: reopen it" in client.get(f"/reports/{fresh.id}").text
    assert client.post(f"/reports/{fresh.id}/reopen", data={"reopen-reason": "Not fixed"}).status_code == 302
    assert fresh.status == ReportStatus.IN_PROGRESS
    assert "This is not fixed: reopen it" not in client.get(f"/reports/{stale.id}").text
    late = client.post(f"/reports/{stale.id}/reopen", data={"reopen-reason": "Not fixed"})
    assert late.status_code == 400 and "resolved more than 28 days ago" in late.text and 'href="#updates"' in late.text
    assert stale.status == ReportStatus.RESOLVED


def test_a_sensitive_report_shows_the_public_only_its_status_changes(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """For a sensitive category, does the public page show the status changes but not the text
    of updates, nor replies, while the reporter with the link sees all, and a follower's email
    carries only the new status?"""
    report = make_report(slug="noise", reporter_email="resident@example.org")  # housing covers noise
    claim_case(db_session, report, partners.housing, role="lead", by=partners.housing_member)
    db_session.add(ReportFollower(report_id=report.id, email="follower@example.org"))
    db_session.flush()
    case = case_of(db_session, report)
    messages.post_update(
        db_session, case, by=partners.housing_member, organisation=partners.housing, body="We spoke to flat 3."
    )
    change_status(
        db_session,
        case,
        ReportStatus.IN_PROGRESS,
        by=partners.housing_member,
        organisation=partners.housing,
        actor=Actor.LEAD_PARTNER,
        note="Warning letter sent to flat 3.",
    )
    token = reply_link(db_session, "resident@example.org").rsplit("/", 1)[1]
    messages.reply(db_session, case, body="It was flat 5, not 3.", by=None, token=token)
    public = client.get(f"/reports/{report.id}").text
    assert "Status changed to acknowledged" in public and "Status changed to in progress" in public
    assert "flat" not in public and "Reply from the person" not in public
    assert "only changes of status are shown" in public
    mine = client.get(f"/reports/{report.id}/reply/{token}").text
    assert "We spoke to flat 3." in mine and "Warning letter sent to flat 3." in mine and "It was flat 5" in mine
    to_follower = [e for e in emails(db_session, "case_update") if e.to_address == "follower@example.org"][-1]
    assert "flat" not in to_follower.text_body and "Its status is now: In progress" in " ".join(
        to_follower.text_body.split()
    )
    assert "Noise report" in to_follower.text_body and report.title not in to_follower.text_body


def test_the_public_page_costs_the_same_queries_whatever_the_number_of_updates(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    count_queries: Callable[[], Any],
) -> None:
    """Does the public report page run as many queries with 20 updates as with 2?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)

    def cost() -> int:
        client.get(f"/reports/{report.id}")  # warm caches (ward names, outlines)
        with count_queries() as counted:
            page = client.get(f"/reports/{report.id}")
        assert page.status_code == 200
        return counted.count

    messages.post_update(db_session, case, by=partners.council_member, organisation=partners.council, body="One")
    few = cost()
    for n in range(18):
        messages.post_update(db_session, case, by=partners.police_member, organisation=partners.police, body=f"N{n}")
    assert cost() == few
