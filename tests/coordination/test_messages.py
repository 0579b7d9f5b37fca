"""Public updates, internal notes and @mentions on a case: the services, who reads what (no
partner reads another organisation's own-organisation notes, whatever the page, the query,
an email or a crafted form says), the emails, and the case page's forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.models import AuditEvent
from app.coordination import messages, queries
from app.coordination.errors import CoordinationError
from app.coordination.models import CaseMention, CaseMessage, EventKind, MessageKind, NoteAudience
from app.partners.services import NotAllowed
from app.reports.models import Report, ReportFollower, ReportStatus
from tests.coordination.conftest import Partners
from tests.coordination.messaging import addresses, case_of, emails, led_by_council

MakeReport = Callable[..., Report]
Login = Callable[[User], None]

SECRET = "The tenant at number 4 has a history with the caller"


def handle(session: Session, report: Report, user: User) -> str:
    return next(p.handle for p in messages.people_on_case(session, case_of(session, report)) if p.user.id == user.id)


def own_note(session: Session, partners: Partners, report: Report, body: str = SECRET) -> CaseMessage:
    return messages.post_note(
        session,
        case_of(session, report),
        by=partners.council_member,
        organisation=partners.council,
        body=body,
        audience="organisation",
    )


# --- Public updates ------------------------------------------------------------------------------


def test_a_public_update_is_logged_and_emailed_to_reporter_and_followers(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does a public update from a supporting partner (no status change) get stored, logged,
    audited, and emailed to the reporter (with a reply link) and each follower (without one),
    not to its author?"""
    report = make_report(reporter_email="resident@example.org", title="Sofa on the verge")
    case = led_by_council(db_session, partners, report)
    db_session.add_all(
        [
            ReportFollower(report_id=report.id, email="follower@example.org"),
            ReportFollower(report_id=report.id, email=partners.police_member.email),
        ]
    )
    db_session.flush()
    before = len(emails(db_session, "case_update"))
    message = messages.post_update(
        db_session, case, by=partners.police_member, organisation=partners.police, body="Officers visited today."
    )
    assert (message.kind, message.audience, message.status_to, message.author_name) == (
        MessageKind.PUBLIC_UPDATE,
        NoteAudience.PUBLIC,
        None,
        "Police",
    )
    assert report.status == ReportStatus.ACKNOWLEDGED
    event = queries.history(db_session, report.id)[-1]
    assert (event.kind, event.detail, event.organisation_id) == (
        EventKind.PUBLIC_UPDATE,
        "Officers visited today.",
        partners.police.id,
    )
    sent = emails(db_session, "case_update")[before:]
    assert [e.to_address for e in sent] == ["resident@example.org", "follower@example.org"]
    to_reporter, to_follower = sent
    assert "Officers visited today." in to_reporter.text_body and "Police wrote:" in to_reporter.text_body
    assert f"/reports/{report.id}/reply/" in to_reporter.text_body
    assert "reply" not in to_follower.text_body.split("See the report")[1]
    assert to_follower.subject == f"TellUs Coventry: An update on {report.reference}"


def test_an_administrator_posts_for_the_council_and_changes_the_status(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can an administrator post a public update for the council that closes a report as a
    duplicate of one typed as "TC-…", shown as from "Council"?"""
    original = make_report()
    report = make_report()
    case = led_by_council(db_session, partners, report)
    message = messages.post_update(
        db_session,
        case,
        by=partners.admin,
        organisation=None,
        body="Already reported.",
        new_status="closed",
        reason="duplicate",
        duplicate_of=original.reference,
    )
    assert (message.author_name, message.organisation_id, message.status_to) == ("Council", None, "closed")
    assert report.status == ReportStatus.CLOSED and report.duplicate_of_id == original.id


CLOSING = {"body": "Done", "new_status": "closed"}
BAD_UPDATES: dict[str, tuple[dict[str, str], Any]] = {
    "empty": ({"body": "  "}, {"body": "Write the public update."}),
    "status-without-text": (
        {"body": "", "new_status": "in_progress"},
        {"body": "Write a public update saying why the report is now in progress."},
    ),
    "unknown-status": (
        {"body": "Done", "new_status": "lost"},
        {"status": "Choose a status from the list, or leave the status as it is."},
    ),
    "no-reason": (CLOSING, {"reason"}),
    "no-duplicate": ({**CLOSING, "reason": "duplicate"}, {"duplicate_of": "Say which report this one duplicates."}),
    "bad-reference": ({**CLOSING, "reason": "duplicate", "duplicate_of": "last week's"}, {"duplicate_of"}),
    "no-referral": (
        {**CLOSING, "reason": "referred", "referred_to": ""},
        {"referred_to": "Say who the report has been referred to."},
    ),
    "all-at-once": ({**CLOSING, "body": "", "reason": "referred"}, {"body", "referred_to"}),
}


@pytest.mark.parametrize(("form", "errors"), BAD_UPDATES.values(), ids=BAD_UPDATES.keys())
def test_bad_update_forms_are_refused_field_by_field(
    db_session: Session, partners: Partners, make_report: MakeReport, form: dict[str, str], errors: Any
) -> None:
    """Is each bad public update refused with a message for each field at fault, and nothing
    posted or changed?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)
    before = db_session.scalar(sa.select(sa.func.count()).select_from(CaseMessage))
    with pytest.raises(CoordinationError) as refused:
        messages.post_update(db_session, case, by=partners.council_member, organisation=partners.council, **form)  # type: ignore[arg-type]
    if isinstance(errors, dict):
        assert refused.value.errors == errors
    else:
        assert set(refused.value.errors) == errors
    assert report.status == ReportStatus.ACKNOWLEDGED
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CaseMessage)) == before


def test_a_supporting_partner_cannot_change_the_status_and_an_outsider_cannot_post(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a status change by a supporting partner refused on the status field, and a post by an
    organisation not on the case (or a partner posting for the council) not allowed?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)
    with pytest.raises(CoordinationError) as refused:
        messages.post_update(
            db_session, case, by=partners.police_member, organisation=partners.police, body="Go", new_status="resolved"
        )
    assert "Only the lead partner or a council administrator" in refused.value.errors["status"]
    for by, organisation in (
        (partners.housing_member, partners.housing),
        (partners.police_member, partners.council),
        (partners.council_member, None),
    ):
        with pytest.raises(NotAllowed):
            messages.post_update(db_session, case, by=by, organisation=organisation, body="Hello")


# --- Internal notes: who reads them ----------------------------------------------------------------


def test_a_note_for_every_organisation_is_read_by_everyone_on_the_case(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a note for every organisation read by the lead, the supporting partner and
    administrators, but not by an organisation that is not on the case?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    note = messages.post_note(
        db_session,
        case_of(db_session, report),
        by=partners.police_member,
        organisation=partners.police,
        body="Camera footage requested.",
        audience=NoteAudience.CASE,
    )
    case = case_of(db_session, report)
    for reader, allowed in (
        (partners.council_member, True),
        (partners.police_member, True),
        (partners.admin, True),
        (partners.housing_member, False),
    ):
        assert permissions.can_read_message(reader, case, note) is allowed
        assert (note in [e.message for e in messages.timeline(db_session, case, reader)]) is allowed


def test_no_other_organisation_reads_an_own_organisation_note(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a note for the council only read by council members alone: not by the supporting
    police, not by administrators, not through the timeline query, and not in the history or
    the audit log (which say only whom it was for)?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    note = own_note(db_session, partners, report)
    case = case_of(db_session, report)
    assert [e.message for e in messages.timeline(db_session, case, partners.council_member)][-1] == note
    for outsider in (partners.police_member, partners.admin, partners.housing_member):
        assert not permissions.can_read_message(outsider, case, note)
        assert note not in [e.message for e in messages.timeline(db_session, case, outsider)]
    event = queries.history(db_session, report.id)[-1]
    assert (event.kind, event.detail) == (EventKind.NOTE_ADDED, "For Council only")
    assert all(SECRET not in (e.detail or "") for e in queries.history(db_session, report.id))
    assert all(SECRET not in a.detail for a in db_session.scalars(sa.select(AuditEvent)))


def test_a_member_of_two_organisations_reads_both_organisations_notes(
    db_session: Session, partners: Partners, make_report: MakeReport, make_user: Callable[..., User]
) -> None:
    """Does someone in both the council and the police read each one's own notes, while a
    police-only colleague reads only the police's?"""
    from app.partners.models import Membership, OrgRole

    both = make_user()
    db_session.add_all(
        [
            Membership(user_id=both.id, organisation_id=partners.council.id, role=OrgRole.MEMBER),
            Membership(user_id=both.id, organisation_id=partners.police.id, role=OrgRole.MEMBER),
        ]
    )
    db_session.flush()
    db_session.refresh(both)
    report = make_report()
    led_by_council(db_session, partners, report)
    council_note = own_note(db_session, partners, report)
    police_note = messages.post_note(
        db_session,
        case_of(db_session, report),
        by=partners.police_member,
        organisation=partners.police,
        body="Police only.",
        audience="organisation",
    )
    case = case_of(db_session, report)
    assert [e.message for e in messages.timeline(db_session, case, both)][-2:] == [council_note, police_note]
    assert [e.message for e in messages.timeline(db_session, case, partners.police_member)][-1] == police_note
    assert council_note not in [e.message for e in messages.timeline(db_session, case, partners.police_member)]


def test_a_message_from_another_case_is_never_readable_here(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a note read through the wrong case refused, even a note for every organisation?"""
    first, second = make_report(), make_report()
    led_by_council(db_session, partners, first)
    led_by_council(db_session, partners, second)
    note = messages.post_note(
        db_session,
        case_of(db_session, first),
        by=partners.council_member,
        organisation=partners.council,
        body="Shared",
        audience="case",
    )
    assert not permissions.can_read_message(partners.council_member, case_of(db_session, second), note)


def test_notes_need_an_audience_a_text_and_an_organisation_of_the_author(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a note without an audience (or a public one), or without text, refused on those
    fields, and a note for an organisation not the author's (or none) not allowed?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)
    for audience in (None, "", "public", "everyone"):
        with pytest.raises(CoordinationError) as refused:
            messages.post_note(
                db_session, case, by=partners.council_member, organisation=partners.council, body=" ", audience=audience
            )
        assert set(refused.value.errors) == {"audience", "body"}
    with pytest.raises(NotAllowed):
        messages.post_note(
            db_session, case, by=partners.police_member, organisation=partners.council, body="x", audience="case"
        )
    with pytest.raises(NotAllowed):
        messages.post_note(db_session, case, by=partners.admin, organisation=None, body="x", audience="case")  # type: ignore[arg-type]


# --- Mentions ------------------------------------------------------------------------------------


def test_mentions_notify_each_person_once_but_not_the_author(
    db_session: Session, partners: Partners, make_report: MakeReport, make_user: Callable[..., User]
) -> None:
    """Does a note mentioning a police officer twice and the author themselves give one
    CaseMention and one email (with the note and a link to the case) to the officer only?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    officer = handle(db_session, report, partners.police_member)
    me = handle(db_session, report, partners.council_member)
    note = messages.post_note(
        db_session,
        case_of(db_session, report),
        by=partners.council_member,
        organisation=partners.council,
        body=f"@{officer} can you look? cc @{me}, and @{officer.upper()} again. Write to x@example.org.",
        audience="case",
    )
    mentioned = list(db_session.scalars(sa.select(CaseMention.user_id).where(CaseMention.message_id == note.id)))
    assert mentioned == [partners.police_member.id]
    [email] = emails(db_session, "case_mention")
    assert email.to_address == partners.police_member.email
    assert "can you look?" in email.text_body and f"/cases/{report.id}" in email.text_body
    assert (
        email.subject == f"TellUs Coventry: {partners.council_member.display_name} mentioned you on {report.reference}"
    )


def test_unknown_handles_are_refused_naming_them(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a note mentioning handles that are nobody on the case (the housing member is not on
    it) refused, naming each, with nothing posted or emailed?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)
    outsider = "user." + str(partners.housing_member.display_name.split()[-1])
    with pytest.raises(CoordinationError) as refused:
        messages.post_note(
            db_session,
            case,
            by=partners.council_member,
            organisation=partners.council,
            body=f"@nobody.here and @{outsider}: look",
            audience="case",
        )
    assert refused.value.errors["body"].startswith(f"There is nobody on this case called @nobody.here and @{outsider}.")
    assert emails(db_session, "case_mention") == []


def test_an_own_organisation_note_cannot_mention_another_organisation(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a council-only note mentioning a police officer refused with a clear message, so the
    officer is neither told nor emailed the note, while the same note for every organisation is
    accepted?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    officer = handle(db_session, report, partners.police_member)
    with pytest.raises(CoordinationError) as refused:
        own_note(db_session, partners, report, body=f"{SECRET}. @{officer}")
    assert refused.value.errors["body"] == (
        f"@{officer} ({partners.police_member.display_name}, Police) cannot read a note for Council only, "
        "so cannot be mentioned in it. Remove the mention, or make the note for every organisation on this case."
    )
    assert emails(db_session, "case_mention") == []
    assert all(SECRET not in e.text_body for e in emails(db_session))
    messages.post_note(
        db_session,
        case_of(db_session, report),
        by=partners.council_member,
        organisation=partners.council,
        body=f"@{officer} please call",
        audience="case",
    )
    assert addresses(db_session, "case_mention") == [partners.police_member.email]


def test_an_own_organisation_note_reaches_no_one_outside_by_email(
    db_session: Session, partners: Partners, make_report: MakeReport, make_user: Callable[..., User]
) -> None:
    """Does an own-organisation note that mentions a colleague email only that colleague, and
    nobody at all outside the organisation?"""
    from app.partners.models import Membership, OrgRole

    colleague = make_user(name="Cara Colleague")
    db_session.add(Membership(user_id=colleague.id, organisation_id=partners.council.id, role=OrgRole.MEMBER))
    db_session.flush()
    db_session.refresh(colleague)
    report = make_report()
    led_by_council(db_session, partners, report)
    before = len(emails(db_session))
    own_note(db_session, partners, report, body=f"{SECRET}. @cara.colleague FYI")
    sent = emails(db_session)[before:]
    assert [e.to_address for e in sent] == [colleague.email]
    assert "Who can read it: Council only." in " ".join(sent[0].text_body.split())


def test_a_public_update_may_mention_anyone_on_the_case(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Can a public update mention a member of another organisation on the case?"""
    report = make_report()
    case = led_by_council(db_session, partners, report)
    officer = handle(db_session, report, partners.police_member)
    update = messages.post_update(
        db_session, case, by=partners.council_member, organisation=partners.council, body=f"With @{officer}."
    )
    assert db_session.get(CaseMention, (update.id, partners.police_member.id)) is not None
    assert addresses(db_session, "case_mention") == [partners.police_member.email]


# --- Reading: one query --------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["council_member", "police_member"])
def test_the_timeline_costs_one_query_whatever_its_length(
    db_session: Session, partners: Partners, make_report: MakeReport, count_queries: Callable[[], Any], viewer: str
) -> None:
    """Does reading a case's timeline cost the same number of queries for 2 messages as for 20?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    reader = getattr(partners, viewer)

    def cost() -> tuple[int, int]:
        case = case_of(db_session, report)
        db_session.expire_all()
        case = case_of(db_session, report)
        reader_now = db_session.get(User, reader.id)
        assert reader_now is not None
        reader_now.memberships  # noqa: B018 (the signed-in user is loaded before the page)
        for m in reader_now.memberships:
            m.organisation  # noqa: B018
        with count_queries() as counted:
            found = messages.timeline(db_session, case, reader_now)
        return counted.count, len(found)

    for n in range(2):
        own_note(db_session, partners, report, body=f"Note {n}")
    few, shown_few = cost()
    for n in range(18):
        messages.post_note(
            db_session,
            case_of(db_session, report),
            by=partners.police_member,
            organisation=partners.police,
            body=f"Police {n}",
            audience="organisation" if n % 2 else "case",
        )
    many, shown_many = cost()
    assert few == many == 1 and shown_many > shown_few


# --- The case page -------------------------------------------------------------------------------


def test_the_case_page_shows_the_timeline_and_forms_to_the_lead(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the lead see the updates and its own notes (escaped, with line breaks), the update
    form offering only the statuses the lifecycle allows it, the note form, and who can be
    mentioned?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    own_note(db_session, partners, report, body="<b>Line one</b>\nLine two")
    login(partners.council_member)
    page = client.get(f"/cases/{report.id}")
    assert page.status_code == 200
    assert "&lt;b&gt;Line one&lt;/b&gt;<br>\nLine two" in page.text and "Council only" in page.text
    assert "Acknowledged by Council." in page.text
    offered = set(re.findall(r'name="update-status" type="radio" value="([a-z_]*)"', page.text))
    assert offered == {"", "in_progress", "resolved", "closed"}
    assert 'name="update-reason"' in page.text and 'name="update-duplicate_of"' in page.text
    assert "Add an internal note" in page.text and f"@{handle(db_session, report, partners.police_member)}" in page.text


def test_a_supporting_partner_sees_no_status_choice_and_not_the_leads_own_notes(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the supporting police see the update form without status choices, and no trace of
    the council's own-organisation note on the page?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    own_note(db_session, partners, report)
    login(partners.police_member)
    page = client.get(f"/cases/{report.id}")
    assert page.status_code == 200 and "Post a public update" in page.text
    assert 'name="update-status"' not in page.text
    assert SECRET not in page.text
    # The history says a note for the council only was added, and nothing more.
    assert page.text.count("Council only") == 1 and ">For Council only</td>" in page.text


def test_posting_an_update_with_a_status_change_from_the_page(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Can the lead post an update that resolves the report, and see it on the case and on the
    public report page?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    login(partners.council_member)
    done = client.post(
        f"/cases/{report.id}/updates",
        data={"organisation": partners.council.id, "update-body": "Cleared this morning.", "update-status": "resolved"},
    )
    assert done.status_code == 302 and done.location.endswith(f"/cases/{report.id}#messages")
    assert report.status == ReportStatus.RESOLVED
    assert "is now resolved" in client.get(done.location).text
    public = client.get(f"/reports/{report.id}")
    assert "Cleared this morning." in public.text and "Status changed to resolved" in public.text


def test_a_refused_update_keeps_what_was_typed(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does an update closing as a duplicate without saying of which report, mentioning an
    unknown handle, come back 400 with both errors, the text, and the choices kept?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    login(partners.council_member)
    page = client.post(
        f"/cases/{report.id}/updates",
        data={
            "update-body": "Ask @nobody.here & <co>",
            "update-status": "closed",
            "update-reason": "duplicate",
            "update-duplicate_of": "",
        },
    )
    assert page.status_code == 400 and "There is a problem" in page.text
    assert 'href="#update-duplicate_of"' in page.text and "Say which report this one duplicates." in page.text
    assert 'href="#update-body"' in page.text and "@nobody.here" in page.text
    # The error summary follows the order of the form.
    assert page.text.index('href="#update-body"') < page.text.index('href="#update-duplicate_of"')
    assert ">Ask @nobody.here &amp; &lt;co&gt;</textarea>" in page.text
    assert re.search(r'value="closed" checked', page.text) and re.search(r'value="duplicate" checked', page.text)
    assert report.status == ReportStatus.ACKNOWLEDGED


def test_a_crafted_note_form_cannot_post_for_another_organisation(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is a police officer refused (403) posting a note for the council, or for an organisation
    id that is nobody's, and is a note they post for the police only unreadable by the council?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    login(partners.police_member)
    for organisation in (partners.council.id, partners.housing.id, "999999", "abc"):
        refused = client.post(
            f"/cases/{report.id}/notes",
            data={"organisation": organisation, "note-body": "Sneaky", "note-audience": "organisation"},
        )
        assert refused.status_code == 403
    assert (
        client.post(
            f"/cases/{report.id}/notes",
            data={"organisation": partners.police.id, "note-body": "Police eyes only", "note-audience": "organisation"},
        ).status_code
        == 302
    )
    client.post("/sign-out")
    login(partners.council_member)
    assert "Police eyes only" not in client.get(f"/cases/{report.id}").text


def test_a_refused_note_keeps_its_text_and_audience(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does a council-only note that mentions a police officer come back 400 with the message,
    the text and the chosen audience kept?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    officer = handle(db_session, report, partners.police_member)
    login(partners.council_member)
    page = client.post(
        f"/cases/{report.id}/notes",
        data={"note-body": f"Ask @{officer}", "note-audience": "organisation"},
    )
    assert page.status_code == 400 and 'href="#note-body"' in page.text
    assert "cannot read a note for Council only" in page.text
    assert f">Ask @{officer}</textarea>" in page.text and re.search(r'value="organisation" checked', page.text)


def test_who_may_post_from_the_case_page(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is an organisation not on the case refused (403), a missing case 404, and does an
    administrator post updates for the council but no notes without an organisation?"""
    report = make_report()
    led_by_council(db_session, partners, report)
    login(partners.housing_member)
    assert client.post(f"/cases/{report.id}/updates", data={"update-body": "Hi"}).status_code == 403
    assert client.post(f"/cases/{report.id}/notes", data={"note-body": "Hi"}).status_code == 403
    assert client.post("/cases/999999999/updates", data={"update-body": "Hi"}).status_code == 404
    client.post("/sign-out")
    login(partners.admin)
    assert (
        client.post(f"/cases/{report.id}/notes", data={"note-body": "Hi", "note-audience": "case"}).status_code == 403
    )
    assert (
        client.post(
            f"/cases/{report.id}/updates", data={"organisation": partners.council.id, "update-body": "Hi"}
        ).status_code
        == 403
    )
    posted = client.post(
        f"/cases/{report.id}/updates",
        data={"organisation": "council", "update-body": "Council here.", "update-status": "in_progress"},
    )
    assert posted.status_code == 302 and report.status == ReportStatus.IN_PROGRESS
