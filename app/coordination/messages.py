"""Public updates, internal notes and the reporter's replies on a case, and who reads them.

- A **public update** is from an organisation on the case (or the council, for an
  administrator) and is seen by everyone; the reporter and followers get it by email
  (``notify.send_public_update``). It may change the status (``status.change_status``).
- An **internal note** is read by every organisation on the case (``NoteAudience.CASE``) or
  by the author's organisation alone (``NoteAudience.ORGANISATION``), chosen per note
  (``permissions.can_read_message``). The case history and the audit log record that a note
  was added and for whom, never its text, because more people read them than some notes allow.
- A **reply** is from the reporter: signed in as the account that made the report, or holding
  the signed link from an update's email (``notify.check_reply_token``). The lead organisation
  is emailed at its contact address.
- **@mentions** (``text.mentioned_handles``) name people who may read the message: members of
  the organisations on the case, narrowed for an own-organisation note to the author's
  organisation. Each person mentioned gets one email and a ``CaseMention``.

On the public report page a sensitive category shows only its status changes: not the text
of updates, and no replies, except to the reporter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, lazyload

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import notify, status, text
from app.coordination.errors import CoordinationError
from app.coordination.history import log
from app.coordination.lifecycle import Actor, Closure, TransitionError
from app.coordination.models import Case, CaseMention, CaseMessage, EventKind, MessageKind, NoteAudience
from app.db import utcnow
from app.partners.models import Membership, Organisation
from app.partners.services import NotAllowed
from app.reports.models import Report, ReportStatus

# --- Who can be mentioned --------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone who can be mentioned on a case, with the organisations on it they belong to."""

    handle: str
    user: User
    organisations: tuple[str, ...]


def people_on_case(session: Session, case: Case) -> list[Person]:
    """Everyone who can be mentioned on ``case`` (members of its active organisations), by
    handle; one query."""
    organisations = {o.id: o for o in case.organisations if o.active}
    if not organisations:
        return []
    rows = session.execute(
        sa.select(User, Membership.organisation_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id.in_(organisations), User.deleted_at.is_(None))
        .order_by(User.id)
    ).all()
    users: dict[int, User] = {}
    theirs: dict[int, list[str]] = {}
    for user, organisation_id in rows:
        users[user.id] = user
        theirs.setdefault(user.id, []).append(organisations[organisation_id].label)
    handles = text.assign_handles(users.values())
    return sorted(
        (Person(handle, user, tuple(sorted(theirs[user.id]))) for handle, user in handles.items()),
        key=lambda p: p.handle,
    )


def resolve_mentions(
    session: Session,
    case: Case,
    body: str,
    *,
    audience: NoteAudience,
    organisation: Organisation | None,
    field: str = "body",
) -> list[User]:
    """The people ``body`` mentions, each once, for a message to ``audience`` from
    ``organisation``.

    Raises CoordinationError({field: message}) naming every handle that is nobody on the case,
    or, failing that, everyone mentioned who could not read the message.
    """
    handles = text.mentioned_handles(body)
    if not handles:
        return []
    people = {p.handle: p for p in people_on_case(session, case)}
    unknown = [h for h in handles if h not in people]
    if unknown:
        names = _and(["@" + h for h in unknown])
        raise CoordinationError(
            {
                field: f"There is nobody on this case called {names}. Check the list of people you can mention, "
                "or remove the “@”."
            }
        )
    # An unsaved message, only for asking the permission check who could read it.
    draft = CaseMessage(
        report_id=case.report.id, audience=audience, organisation_id=organisation.id if organisation else None
    )
    outside = [people[h] for h in handles if not permissions.can_read_message(people[h].user, case, draft)]
    if outside:
        who = _and([f"@{p.handle} ({p.user.display_name}, {', '.join(p.organisations)})" for p in outside])
        group = organisation.label if organisation else "your organisation"
        raise CoordinationError(
            {
                field: f"{who} cannot read a note for {group} only, so cannot be mentioned in it. Remove the "
                "mention, or make the note for every organisation on this case."
            }
        )
    return [people[h].user for h in handles]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _mention(
    session: Session, case: Case, message: CaseMessage, people: list[User], *, by: User, now: dt.datetime
) -> None:
    for person in people:
        if person.id == by.id:
            continue
        session.add(CaseMention(message_id=message.id, user_id=person.id))
        notify.send_mention(session, case.report, message, person, by_name=by.display_name, now=now)
    session.flush()


# --- Public updates and notes ------------------------------------------------------------------


def post_update(
    session: Session,
    case: Case,
    *,
    by: User,
    organisation: Organisation | None,
    body: str,
    new_status: str | None = None,
    reason: str | None = None,
    duplicate_of: str | None = None,
    referred_to: str | None = None,
    now: dt.datetime | None = None,
    ip: str = "",
) -> CaseMessage:
    """Post a public update on ``case`` from ``organisation`` (None: the council, for an
    administrator), changing its status to ``new_status`` if one is given (with the closing
    ``reason`` and its detail, as typed in the form). Emails the reporter and followers, and
    anyone mentioned.

    Raises NotAllowed unless ``by`` may post for ``organisation`` on the case
    (``permissions.can_post_message``); CoordinationError, with a message per form field
    ("body", "status", "reason", "duplicate_of", "referred_to"), for an empty or overlong
    text, an unknown status, a change the lifecycle does not allow ``by``, a missing or
    unreadable closing reason or detail, or a mention of someone not on the case.
    """
    if not permissions.can_post_message(by, case, organisation):
        raise NotAllowed("You cannot post updates on this case")
    moment = now or utcnow()
    cleaned = text.normalise(body)
    errors: dict[str, str] = {}
    target: ReportStatus | None = None
    if (new_status or "").strip():
        try:
            target = ReportStatus((new_status or "").strip())
        except ValueError:
            errors["status"] = "Choose a status from the list, or leave the status as it is."
    closure: Closure | None = None
    if target == ReportStatus.CLOSED:
        closure, closure_errors = status.closure_from_form(reason, duplicate_of, referred_to)
        errors.update(closure_errors)
    actor = permissions.case_actor(by, case, organisation)
    if target is not None:
        found = status.problems(session, case, target, actor=actor, note=cleaned, closure=closure, now=moment)
        for field, problem in found.items():
            errors.setdefault("body" if field == "note" else field, problem)
    elif not cleaned:
        errors["body"] = "Write the public update."
    elif text.too_long(cleaned):
        errors["body"] = text.too_long(cleaned) or ""
    mentioned: list[User] = []
    if "body" not in errors:
        try:
            mentioned = resolve_mentions(
                session, case, cleaned, audience=NoteAudience.PUBLIC, organisation=organisation
            )
        except CoordinationError as exc:
            errors.update(exc.errors)
    if errors:
        raise CoordinationError(errors)
    if target is not None:
        try:
            message = status.change_status(
                session,
                case,
                target,
                by=by,
                organisation=organisation,
                actor=actor,
                note=cleaned,
                closure=closure,
                now=moment,
                ip=ip,
            )
        except TransitionError as exc:  # pragma: no cover - problems() above found none
            raise CoordinationError(exc.errors) from None
    else:
        message = CaseMessage(
            report_id=case.report.id,
            kind=MessageKind.PUBLIC_UPDATE,
            audience=NoteAudience.PUBLIC,
            organisation=organisation,
            author_id=by.id,
            author_name=status.author_name(actor, organisation),
            body=cleaned,
            created_at=moment,
        )
        session.add(message)
        log(session, case.report, EventKind.PUBLIC_UPDATE, by=by, organisation=organisation, detail=cleaned, at=moment)
        session.flush()
        record(
            session,
            "case_public_update",
            actor=by,
            target=f"report:{case.report.id}",
            ip=ip,
            detail=f"for {organisation.name}" if organisation else "for the council",
        )
        notify.send_public_update(session, case.report, message, author_email=by.email, now=moment)
    session.flush()
    _mention(session, case, message, mentioned, by=by, now=moment)
    return message


def post_note(
    session: Session,
    case: Case,
    *,
    by: User,
    organisation: Organisation,
    body: str,
    audience: NoteAudience | str | None,
    now: dt.datetime | None = None,
    ip: str = "",
) -> CaseMessage:
    """Add an internal note to ``case`` from ``organisation``, for every organisation on the
    case or for ``organisation`` alone (``audience``), and email anyone mentioned.

    Raises NotAllowed unless ``by`` may work on the case for ``organisation``;
    CoordinationError ("body", "audience") for an empty or overlong text, no audience (or
    "public": a note is never public), or a mention of someone who is not on the case or could
    not read the note.
    """
    if organisation is None or not permissions.can_post_message(by, case, organisation):
        raise NotAllowed("You cannot add notes to this case")
    moment = now or utcnow()
    errors: dict[str, str] = {}
    chosen: NoteAudience | None = None
    try:
        chosen = NoteAudience(audience) if audience else None
    except ValueError:
        chosen = None
    if chosen not in {NoteAudience.CASE, NoteAudience.ORGANISATION}:
        chosen = None
        errors["audience"] = "Choose who can read this note: every organisation on this case, or yours only."
    cleaned = ""
    try:
        cleaned = text.clean(body, field="body", empty="Write the note.")
    except CoordinationError as exc:
        errors.update(exc.errors)
    mentioned: list[User] = []
    if chosen is not None and cleaned:
        try:
            mentioned = resolve_mentions(session, case, cleaned, audience=chosen, organisation=organisation)
        except CoordinationError as exc:
            errors.update(exc.errors)
    if errors:
        raise CoordinationError(errors)
    assert chosen is not None
    message = CaseMessage(
        report_id=case.report.id,
        kind=MessageKind.INTERNAL_NOTE,
        audience=chosen,
        organisation=organisation,
        author_id=by.id,
        author_name=organisation.label,
        body=cleaned,
        created_at=moment,
    )
    session.add(message)
    # Whom it is for, never its text: the history is read by every organisation on the case.
    readers = "every organisation on this case" if chosen == NoteAudience.CASE else f"{organisation.label} only"
    log(
        session, case.report, EventKind.NOTE_ADDED, by=by, organisation=organisation, detail=f"For {readers}", at=moment
    )
    session.flush()
    record(
        session,
        "case_note_added",
        actor=by,
        target=f"report:{case.report.id}",
        ip=ip,
        detail=f"{organisation.name}: for {chosen.value}",
    )
    _mention(session, case, message, mentioned, by=by, now=moment)
    return message


# --- The reporter ------------------------------------------------------------------------------


def check_reporter(case: Case, *, by: User | None, token: str | None, now: dt.datetime | None = None) -> None:
    """Return None if this is the reporter of ``case``: holding a valid reply link (``token``),
    or signed in as the account that made it.

    Raises notify.ReplyLinkError for a reply link that cannot be used (tampered with, expired,
    for another report); NotAllowed for anyone else.
    """
    if token:
        notify.check_reply_token(case.report, token, now=now)
        return
    if (
        by is None
        or not permissions.is_reporter(by, case.report)
        or notify.usable_address(case.report.reporter_email) is None
    ):
        raise NotAllowed("Only the person who made this report can reply to it")


def reply(
    session: Session,
    case: Case,
    *,
    body: str,
    by: User | None,
    token: str | None,
    now: dt.datetime | None = None,
    ip: str = "",
) -> CaseMessage:
    """The reporter answers the public updates on ``case``. Emails the lead organisation (or,
    with none yet, every organisation on the case) at its contact address.

    Raises notify.ReplyLinkError or NotAllowed (see ``check_reporter``); CoordinationError
    ({"body": ...}) for an empty or overlong text.
    """
    moment = now or utcnow()
    check_reporter(case, by=by, token=token, now=moment)
    cleaned = text.clean(body, field="body", empty="Write your reply.")
    message = CaseMessage(
        report_id=case.report.id,
        kind=MessageKind.REPLY,
        audience=NoteAudience.PUBLIC,
        author_id=by.id if by and not token else None,
        author_name=notify.REPORTER,
        body=cleaned,
        created_at=moment,
    )
    session.add(message)
    log(session, case.report, EventKind.REPLY_ADDED, by=None if token else by, detail=cleaned, at=moment)
    session.flush()
    record(
        session,
        "case_reply_added",
        actor=None if token else by,
        actor_email=f"reporter of report {case.report.id}",
        target=f"report:{case.report.id}",
        ip=ip,
        detail="with a reply link" if token else "signed in",
    )
    notify.send_reply(session, case, message, now=moment)
    return message


def reopen(
    session: Session,
    case: Case,
    *,
    reason: str,
    by: User | None,
    token: str | None,
    now: dt.datetime | None = None,
    ip: str = "",
) -> CaseMessage:
    """The reporter says a resolved report is not put right: it goes back to in progress,
    with ``reason`` as the public update (``status.change_status`` as ``Actor.REPORTER``),
    within 28 days of being resolved. Emails the lead organisation, and the followers.

    Raises notify.ReplyLinkError or NotAllowed (see ``check_reporter``); CoordinationError
    ({"reason": ...} or {"status": ...}) if no reason is given, it is too long, the report is
    not resolved, or it was resolved more than 28 days ago.
    """
    moment = now or utcnow()
    check_reporter(case, by=by, token=token, now=moment)
    try:
        message = status.change_status(
            session,
            case,
            ReportStatus.IN_PROGRESS,
            by=None if token else by,
            organisation=None,
            actor=Actor.REPORTER,
            note=reason,
            now=moment,
            ip=ip,
        )
    except TransitionError as exc:
        errors = dict(exc.errors)
        if "note" in errors:
            note = errors.pop("note")
            errors["reason"] = note if "characters" in note else "Say what is still wrong, so they know what to do."
        raise CoordinationError(errors) from None
    notify.send_reply(session, case, message, reopened=True, now=moment)
    return message


# --- Reading ----------------------------------------------------------------------------------


# A message's organisation without its members, wards and categories (which would each cost a
# query more): the timeline shows only its name.
_BARE_ORGANISATION = joinedload(CaseMessage.organisation).options(
    lazyload(Organisation.memberships), lazyload(Organisation.wards), lazyload(Organisation.categories)
)


@dataclass(frozen=True)
class Entry:
    """A message as the case page shows it, with the name of the person who wrote it."""

    message: CaseMessage
    person: str | None


def timeline(session: Session, case: Case, viewer: object) -> list[Entry]:
    """The public updates, replies and notes on ``case`` that ``viewer`` may read, oldest first
    (newest last): one query, whatever their number.

    Own-organisation notes are filtered in the query by the viewer's organisations, and every
    message is checked again with ``permissions.can_read_message``."""
    if not permissions.can_view_case(viewer, case):
        return []
    own = permissions.note_organisation_ids(viewer)
    readable = sa.or_(
        CaseMessage.audience.in_([NoteAudience.PUBLIC, NoteAudience.CASE]),
        sa.and_(CaseMessage.audience == NoteAudience.ORGANISATION, CaseMessage.organisation_id.in_(own)),
    )
    rows = session.execute(
        sa.select(CaseMessage, User.display_name)
        .options(_BARE_ORGANISATION)
        .outerjoin(User, User.id == CaseMessage.author_id)
        .where(CaseMessage.report_id == case.report.id, readable)
        .order_by(CaseMessage.created_at, CaseMessage.id)
    ).all()
    return [Entry(m, name) for m, name in rows if permissions.can_read_message(viewer, case, m)]


@dataclass(frozen=True)
class PublicEntry:
    """A public update or reply as the public report page shows it: ``body`` is None where the
    text is not shown (a sensitive category, to anyone but the reporter)."""

    at: dt.datetime
    author: str
    body: str | None
    status_from: ReportStatus | None
    status_to: ReportStatus | None
    is_reply: bool

    @property
    def changed_status(self) -> bool:
        return self.status_to is not None and self.status_to != self.status_from


def public_timeline(session: Session, report: Report, *, full: bool) -> list[PublicEntry]:
    """The public updates and replies on ``report``, oldest first, for its public page: all of
    them, with their text, if the report is not sensitive or ``full`` (the reporter is looking);
    otherwise only the status changes, without text. One query."""
    messages = session.scalars(
        sa.select(CaseMessage)
        .options(lazyload(CaseMessage.organisation))
        .where(CaseMessage.report_id == report.id, CaseMessage.audience == NoteAudience.PUBLIC)
        .order_by(CaseMessage.created_at, CaseMessage.id)
    )
    hidden = report.category.sensitive and not full
    entries = []
    for m in messages:
        entry = PublicEntry(
            at=m.created_at,
            author=m.author_name or notify.COUNCIL,
            body=None if hidden else m.body,
            status_from=ReportStatus(m.status_from) if m.status_from else None,
            status_to=ReportStatus(m.status_to) if m.status_to else None,
            is_reply=m.kind == MessageKind.REPLY,
        )
        if hidden and (entry.is_reply or not entry.changed_status):
            continue
        entries.append(entry)
    return entries
