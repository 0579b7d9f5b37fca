"""The nightly analysis that records findings, and the alert emails about new ones.

``run_alerts`` (the scheduled job ``hotspot_alerts`` in ``app.coordination.jobs``: nightly at
02:00 UK time, and at the worker's next pass after a bulk change, ``jobs.request_run``) does
three things in one transaction:

1. **Finds** what stands out today in every ward, with the dashboard's own analysis: emerging
   problems and hotspots (``app.hotspots.findings.find_candidates``).
2. **Records** each as a ``Finding`` under a stable key: kept while it is still found, ended
   when it is not, new when no open finding has its key (``findings.record_findings``).
3. **Emails** each new finding once to every subscriber whose subscription matches it
   (ward; the category or all categories; the kind) and who may still see it
   (``app.permissions`` at send time), one email per person per run listing their new
   findings, through the outbox. ``AlertDelivery`` (primary key finding × person) is written
   before the email is queued, so a second run, or a second worker racing this one, cannot
   send it again: its insert fails on the key and that email is never queued.

docs/alerts.md explains this for officers and operators.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app import permissions
from app.accounts.models import User
from app.coordination.working_time import LONDON
from app.db import utcnow
from app.geography.models import Ward
from app.hotspots.findings import find_candidates, record_findings
from app.hotspots.models import AlertDelivery, AlertSubscription, Finding, FindingKind
from app.mail.services import InvalidAddress, normalise_address, public_url, queue_email
from app.partners.models import Membership

log = logging.getLogger(__name__)

KIND = "hotspot_alert"  # the outbox kind of alert emails


# --- Alert emails ---------------------------------------------------------------------------


def may_see(user: User, finding: Finding) -> bool:
    """May ``user`` be told about ``finding`` now? A finding in one category: whoever may see
    that category in its ward. A finding over all categories (which counts reports they might
    not be allowed to see): only those who may see every category there (ward officers of the
    ward, administrators)."""
    if not permissions.can_manage_alerts(user):
        return False
    if finding.category_id is not None:
        return permissions.can_see_ward(user, finding.ward_code, finding.category_id)
    scope = permissions.dashboard_scope(user, {finding.ward_code})
    return finding.ward_code in scope and scope[finding.ward_code] is None


def matches(subscription: AlertSubscription, finding: Finding) -> bool:
    """Does ``subscription`` ask for ``finding``: same ward, its category or all categories,
    and that kind of finding? (A finding over all categories matches only subscriptions to all
    categories.)"""
    if subscription.ward_code != finding.ward_code:
        return False
    if subscription.category_id is not None and subscription.category_id != finding.category_id:
        return False
    return subscription.emerging if finding.kind == FindingKind.EMERGING else subscription.hotspots


def _path(endpoint: str, **values: Any) -> str:
    # Built from the URL map, not url_for: the job runs in the worker, outside any request.
    return str(current_app.url_map.bind("localhost").build(endpoint, values))


def dashboard_link(finding: Finding, category_slug: str | None) -> str:
    """The dashboard, filtered to the finding's ward and category."""
    values: dict[str, Any] = {"ward": finding.ward_code}
    if category_slug:
        values["category"] = category_slug
    return public_url(_path("hotspots.dashboard", **values))


def manage_link() -> str:
    return public_url(_path("hotspots.alerts"))


def day_text(moment: dt.datetime) -> str:
    """ "Thursday 26 November 2026", in UK local time."""
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _subject(findings: Sequence[Finding], ward_names: Mapping[str, str]) -> str:
    if len(findings) == 1:
        finding = findings[0]
        what = finding.category.name if finding.category is not None else "all categories"
        return f"{finding.kind.label} in {ward_names.get(finding.ward_code, finding.ward_code)}: {what}"
    wards = sorted({ward_names.get(f.ward_code, f.ward_code) for f in findings})
    where = wards[0] if len(wards) == 1 else f"{len(wards)} wards"
    return f"{len(findings)} new findings in {where}"


def deliver(session: Session, findings: Sequence[Finding], *, now: dt.datetime) -> int:
    """Email ``findings`` (new ones) to every subscriber who asked for them and may see them,
    one email per person listing theirs, recording an ``AlertDelivery`` for each finding and
    person. Returns how many emails were queued. Flushes, never commits.

    Each delivery row is inserted (in a SAVEPOINT) before its email is queued: a finding
    already delivered to that person (an earlier run, or another worker at the same moment;
    on PostgreSQL the insert waits for that worker to commit) fails on the primary key and is
    left out, so nobody is sent a finding twice. Deleted accounts and unusable addresses
    (logged) get nothing."""
    if not findings:
        return 0
    wards = sorted({f.ward_code for f in findings})
    subscriptions = list(
        session.scalars(
            sa.select(AlertSubscription)
            .join(User, User.id == AlertSubscription.user_id)
            .where(AlertSubscription.ward_code.in_(wards), User.deleted_at.is_(None))
            .options(
                selectinload(AlertSubscription.user)
                .selectinload(User.memberships)
                .selectinload(Membership.organisation),
                selectinload(AlertSubscription.user).selectinload(User.ward_assignments),
            )
            .order_by(AlertSubscription.user_id, AlertSubscription.id)
        )
    )
    if not subscriptions:
        return 0
    ward_names = dict(session.execute(sa.select(Ward.code, Ward.name).where(Ward.code.in_(wards))).tuples().all())
    wanted: dict[int, list[Finding]] = defaultdict(list)
    people: dict[int, User] = {}
    for subscription in subscriptions:
        user = subscription.user
        for finding in findings:
            if finding in wanted[user.id] or not matches(subscription, finding):
                continue
            if may_see(user, finding):
                wanted[user.id].append(finding)
                people[user.id] = user
    done = set(
        session.execute(
            sa.select(AlertDelivery.finding_id, AlertDelivery.user_id).where(
                AlertDelivery.finding_id.in_([f.id for f in findings])
            )
        ).tuples()
    )
    queued = 0
    for user_id, theirs in wanted.items():
        if not theirs:
            continue
        user = people[user_id]
        try:
            normalise_address(user.email)
        except InvalidAddress:
            log.warning("No hotspot alert for user %s: their address cannot be used", user_id)
            continue
        sent = []
        for finding in theirs:
            if (finding.id, user_id) in done:
                continue
            try:
                # Core INSERT: an ORM object would clash with a delivery already in the session.
                with session.begin_nested():
                    session.execute(
                        sa.insert(AlertDelivery).values(finding_id=finding.id, user_id=user_id, sent_at=now)
                    )
            except IntegrityError:
                continue  # another worker has just sent it to them
            sent.append(finding)
        if not sent:
            continue
        email = queue_email(
            session,
            to=user.email,
            template="hotspot_alert",
            context={
                "name": user.display_name,
                "subject_line": _subject(sent, ward_names),
                "found_on": day_text(now),
                "findings": [
                    {
                        "label": f.kind.label,
                        "ward": ward_names.get(f.ward_code, f.ward_code),
                        "category": f.category.name if f.category is not None else "All categories",
                        "summary": f.summary,
                        "dashboard_url": dashboard_link(f, f.category.slug if f.category is not None else None),
                    }
                    for f in sent
                ],
                "manage_url": manage_link(),
            },
            kind=KIND,
            now=now,
        )
        session.execute(
            sa.update(AlertDelivery)
            .where(AlertDelivery.user_id == user_id, AlertDelivery.finding_id.in_([f.id for f in sent]))
            .values(email_id=email.id)
            .execution_options(synchronize_session=False)
        )
        queued += 1
    session.flush()
    return queued


def run_alerts(session: Session, *, now: dt.datetime | None = None) -> str:
    """The ``hotspot_alerts`` job: find, record and email (module docstring). Flushes, never
    commits (the job runner commits, or rolls everything back if anything raises). Returns
    what it did, for the worker's log."""
    moment = now or utcnow()
    today = moment.astimezone(LONDON).date()
    changes = record_findings(session, find_candidates(session, today=today), now=moment)
    emails = deliver(session, changes.new, now=moment)
    return (
        f"{len(changes.new)} new finding(s), {len(changes.kept)} still found, {len(changes.ended)} ended; "
        f"queued {emails} alert email(s)"
    )
