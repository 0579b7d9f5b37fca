"""The emails that public updates, mentions, replies and merges send, and the signed link that
lets a resident without an account reply to an update or reopen their report.

**Who gets a public update** (every one, status changes included): the reporter (unless their
account was deleted, which anonymises their reports) and everyone following the report, one
email per address, never the person who wrote the update. For a sensitive category, followers
are told only the new status: the text of the update goes to the reporter alone, as on the
public page.

**The reply link** in the reporter's email carries a token signed with the app's
``SECRET_KEY`` (itsdangerous, salt ``REPLY_SALT``) holding the report's id and the address it
was sent to. It is valid for ``REPLY_LINK_AGE`` and only while that address is still the
report's reporter address (so it stops working when an account is deleted). It is not single
use: the same email is the way back to the report for as long as it is valid.

Links are built from the fixed paths below rather than ``url_for``, because emails are queued
outside requests too (a test checks the paths match the routes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.lifecycle import LONDON, REOPEN_WINDOW
from app.coordination.models import Case, CaseMessage, MessageKind, NoteAudience
from app.db import utcnow
from app.mail.services import InvalidAddress, normalise_address, public_url, queue_email
from app.partners.models import Organisation
from app.reports.models import Report, ReportFollower, ReportStatus

REPLY_SALT = "tellus.report-reply"
# Long enough to reply to an update and to reopen a resolved report (28 days) from its email.
REPLY_LINK_AGE = dt.timedelta(days=60)
REPORTER = "The person who reported this"
COUNCIL = "Council"


class ReplyLinkError(ValueError):
    """A reply link that cannot be used; ``str(err)`` says why and what to do instead."""


# --- Paths (must match the routes in app/reports/views.py and app/coordination/*views.py) ----


def report_path(report_id: int) -> str:
    return f"/reports/{report_id}"


def reply_path(report_id: int, token: str) -> str:
    return f"/reports/{report_id}/reply/{token}"


def case_path(report_id: int) -> str:
    return f"/cases/{report_id}"


# --- The signed reply link -------------------------------------------------------------------


def _serializer(at: dt.datetime | None = None) -> URLSafeTimedSerializer:
    secret = current_app.config["SECRET_KEY"]
    if at is None:
        return URLSafeTimedSerializer(secret, salt=REPLY_SALT)
    stamp = int(at.timestamp())

    class SignedAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(secret, salt=REPLY_SALT, signer=SignedAt)


def usable_address(address: str | None) -> str | None:
    """``address`` normalised, or None if no email can go there (an anonymised reporter's
    ``deleted@deleted.invalid``, or anything that is not an address)."""
    if not address or address.lower().endswith(".invalid"):
        return None
    try:
        return normalise_address(address)
    except InvalidAddress:
        return None


def reply_token(report: Report, address: str, *, now: dt.datetime | None = None) -> str:
    """A signed token letting whoever holds ``address``'s email reply on ``report``."""
    return str(_serializer(now).dumps({"r": report.id, "e": address.lower()}))


def check_reply_token(report: Report, token: str, *, now: dt.datetime | None = None) -> None:
    """Return None if ``token`` is a valid reply link for ``report`` now.

    Raises ReplyLinkError (with a message for the resident) if it was tampered with, is for
    another report or another address, the reporter's account has been deleted, or it is older
    than ``REPLY_LINK_AGE``.
    """
    try:
        payload, signed_at = _serializer().loads(token or "", return_timestamp=True)
    except SignatureExpired:  # pragma: no cover - no max_age is passed; age is checked below
        raise ReplyLinkError("This link has expired.") from None
    except BadSignature:
        raise ReplyLinkError(
            "This link is not valid. Check you copied all of it from the email, or open the report "
            "from a newer email about it."
        ) from None
    address = usable_address(report.reporter_email)
    if not isinstance(payload, dict) or payload.get("r") != report.id or address is None:
        raise ReplyLinkError("This link is not for this report. Open the report from the email about it.")
    if str(payload.get("e", "")).lower() != address.lower():
        raise ReplyLinkError("This link is no longer valid for this report.")
    if (now or utcnow()) - signed_at > REPLY_LINK_AGE:
        days = REPLY_LINK_AGE.days
        raise ReplyLinkError(
            f"This link has expired: links to reply work for {days} days. Use the link in a newer email "
            "about this report, or make a new report."
        )


# --- Public updates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    address: str
    is_reporter: bool


def update_recipients(session: Session, report: Report, *, author_email: str | None) -> list[Recipient]:
    """The reporter, then every follower: one per address, without ``author_email``."""
    seen = {author_email.lower()} if author_email else set()
    found: list[Recipient] = []
    reporter = usable_address(report.reporter_email)
    if reporter is not None and reporter.lower() not in seen:
        seen.add(reporter.lower())
        found.append(Recipient(reporter, True))
    followers = session.scalars(
        sa.select(ReportFollower.email).where(ReportFollower.report_id == report.id).order_by(ReportFollower.id)
    )
    for email in followers:
        address = usable_address(email)
        if address is not None and address.lower() not in seen:
            seen.add(address.lower())
            found.append(Recipient(address, False))
    return found


def _date(moment: dt.datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%B %Y}"


def public_title(report: Report, *, for_reporter: bool) -> str:
    """The report's title as an email may give it: for a sensitive category only its reporter
    sees the title they wrote; anyone else gets "<category> report"."""
    if report.category.sensitive and not for_reporter:
        return f"{report.category.name} report"
    return report.title


def send_public_update(
    session: Session, report: Report, message: CaseMessage, *, author_email: str | None, now: dt.datetime
) -> int:
    """Email ``message`` (a public update) to the reporter and followers; returns how many."""
    sent = 0
    changed = message.status_to is not None and message.status_to != message.status_from
    status = ReportStatus(message.status_to) if message.status_to else report.status
    for recipient in update_recipients(session, report, author_email=author_email):
        reply_url = None
        reopen_until = None
        if recipient.is_reporter:
            reply_url = public_url(reply_path(report.id, reply_token(report, recipient.address, now=now)))
            if status == ReportStatus.RESOLVED and report.resolved_at is not None:
                reopen_until = _date(report.resolved_at + REOPEN_WINDOW)
        show_text = recipient.is_reporter or not report.category.sensitive
        context: dict[str, Any] = {
            "reference": report.reference,
            "title": public_title(report, for_reporter=recipient.is_reporter),
            "author": message.author_name or COUNCIL,
            "body": message.body if show_text else None,
            "changed": changed,
            "status": status.label,
            "report_url": public_url(report_path(report.id)),
            "reply_url": reply_url,
            "reopen_until": reopen_until,
            "is_reporter": recipient.is_reporter,
        }
        queue_email(session, to=recipient.address, template="case_update", context=context, now=now)
        sent += 1
    return sent


# --- Mentions, replies, merges ---------------------------------------------------------------


def send_mention(
    session: Session, report: Report, message: CaseMessage, person: User, *, by_name: str, now: dt.datetime
) -> None:
    """Tell ``person`` that ``by_name`` mentioned them in ``message`` (they may read it)."""
    kind = "public update" if message.kind == MessageKind.PUBLIC_UPDATE else "internal note"
    organisation = message.organisation.label if message.organisation else COUNCIL
    audience = {
        NoteAudience.PUBLIC: "Everyone (it is public)",
        NoteAudience.CASE: "Every organisation on this case",
        NoteAudience.ORGANISATION: f"{organisation} only",
    }[message.audience]
    queue_email(
        session,
        to=person.email,
        template="case_mention",
        context={
            "name": person.display_name,
            "by_name": by_name,
            "organisation": organisation,
            "kind": kind,
            "audience": audience,
            "reference": report.reference,
            "body": message.body,
            "case_url": public_url(case_path(report.id)),
        },
        now=now,
    )


def send_reply(session: Session, case: Case, message: CaseMessage, *, reopened: bool = False, now: dt.datetime) -> int:
    """Tell the lead organisation (or, with no lead yet, every organisation on the case), at its
    contact address, that the reporter replied or reopened the report. Returns how many."""
    report = case.report
    organisations: list[Organisation] = [case.lead.organisation] if case.lead else case.organisations
    sent = 0
    seen: set[str] = set()
    for organisation in organisations:
        address = usable_address(organisation.contact_email)
        if address is None or address.lower() in seen or not organisation.active:
            continue
        seen.add(address.lower())
        queue_email(
            session,
            to=address,
            template="case_reply",
            context={
                "organisation": organisation.label,
                "reference": report.reference,
                "title": report.title,
                "body": message.body,
                "reopened": reopened,
                "case_url": public_url(case_path(report.id)),
            },
            now=now,
        )
        sent += 1
    return sent


def send_merged(session: Session, duplicate: Report, into: Report, addresses: list[str], *, now: dt.datetime) -> int:
    """Tell the reporter and followers of ``duplicate`` that it was merged into ``into``, whose
    updates they will get from now on. Returns how many emails were queued."""
    sent = 0
    seen: set[str] = set()
    reporter = usable_address(duplicate.reporter_email)
    for raw in addresses:
        address = usable_address(raw)
        if address is None or address.lower() in seen:
            continue
        seen.add(address.lower())
        is_reporter = reporter is not None and address.lower() == reporter.lower()
        queue_email(
            session,
            to=address,
            template="case_merged",
            context={
                "reference": duplicate.reference,
                "title": public_title(duplicate, for_reporter=is_reporter),
                "into_reference": into.reference,
                "into_title": public_title(into, for_reporter=False),
                "into_url": public_url(report_path(into.id)),
                "is_reporter": is_reporter,
            },
            now=now,
        )
        sent += 1
    return sent
