"""Alert subscriptions and past alerts: who watches which ward, and what they were sent.

A subscription is one ward, one category or all of them, and the kinds of finding wanted
(emerging problems, new hotspots). One per person per ward and category (a unique
constraint): subscribing again to the same ward and category changes its kinds. Who may
subscribe, and to which wards and categories, is ``app.permissions``' answer
(``can_manage_alerts``, ``can_see_ward``); ``app.hotspots.alerts`` checks again at send time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app import permissions
from app.accounts.models import User
from app.geography.models import Ward
from app.geography.services import ward_names
from app.hotspots.models import AlertDelivery, AlertSubscription, Finding
from app.partners.services import NotAllowed
from app.reports.categories import all_categories
from app.reports.models import Category

# The kinds of alert, as the form's checkbox values, with their labels.
KINDS = {"emerging": "Emerging problems", "hotspots": "New hotspots"}


class SubscriptionError(ValueError):
    """Form input that cannot be used; ``errors`` maps each field to what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Choices:
    """What the subscription form offers ``user``: the wards they may see (code, name) and the
    categories they may see in at least one of them."""

    wards: list[tuple[str, str]]
    categories: list[Category]


def choices(session: Session, user: User) -> Choices:
    names = ward_names(session)
    scope = permissions.dashboard_scope(user, list(names))
    wards = [(code, name) for code, name in names.items() if code in scope]
    every = any(allowed is None for allowed in scope.values())
    allowed_ids: set[int] = set()
    for allowed in scope.values():
        allowed_ids |= allowed or set()
    categories = [c for c in all_categories(session) if c.active and (every or c.id in allowed_ids)]
    return Choices(wards, categories)


def subscriptions_of(session: Session, user: User) -> list[AlertSubscription]:
    """``user``'s subscriptions (categories loaded), in the order they were made."""
    return list(
        session.scalars(
            sa.select(AlertSubscription)
            .where(AlertSubscription.user_id == user.id)
            .options(selectinload(AlertSubscription.category))
            .order_by(AlertSubscription.created_at, AlertSubscription.id)
        )
    )


def own_subscription(session: Session, user: User, subscription_id: int) -> AlertSubscription | None:
    """``user``'s subscription ``subscription_id``; None if there is none or it is someone
    else's (so the view answers 404 either way and leaks nothing)."""
    return session.scalar(
        sa.select(AlertSubscription).where(
            AlertSubscription.id == subscription_id, AlertSubscription.user_id == user.id
        )
    )


def is_watching(session: Session, user: User, ward_code: str) -> bool:
    """Does ``user`` have a subscription to all categories of ``ward_code`` (what "Watch this
    ward" makes)?"""
    return (
        session.scalar(
            sa.select(AlertSubscription.id).where(
                AlertSubscription.user_id == user.id,
                AlertSubscription.ward_code == ward_code,
                AlertSubscription.category_id.is_(None),
            )
        )
        is not None
    )


@dataclass(frozen=True)
class Subscribed:
    subscription: AlertSubscription
    created: bool  # False: an existing subscription to the same ward and category was changed


def subscribe(session: Session, user: User, *, ward: str, category: str = "", kinds: Iterable[str] = ()) -> Subscribed:
    """Subscribe ``user`` to ``ward`` (a ward code) in ``category`` (a slug; empty for all
    categories) for ``kinds`` (values of ``KINDS``). An existing subscription to the same ward
    and category gets these kinds instead. Flushes, never commits.

    Raises NotAllowed if ``user`` may not manage alerts, and SubscriptionError naming the
    field for a ward they may not see (or unknown), an unknown category or one they may not
    see in that ward, or no kind (or an unknown one)."""
    if not permissions.can_manage_alerts(user):
        raise NotAllowed("Only ward officers, coordinators and administrators subscribe to alerts")
    errors: dict[str, str] = {}
    ward = (ward or "").strip()
    names = ward_names(session)
    if not ward:
        errors["ward"] = "Choose a ward"
    elif ward not in names or not permissions.can_see_ward(user, ward):
        errors["ward"] = "Choose a ward from the list"
    chosen: Category | None = None
    slug = (category or "").strip()
    if slug:
        chosen = session.scalar(sa.select(Category).where(Category.slug == slug, Category.active.is_(True)))
        if chosen is None:
            errors["category"] = "Choose a category from the list, or all categories"
        elif "ward" not in errors and not permissions.can_see_ward(user, ward, chosen.id):
            errors["category"] = (
                f"You cannot see {chosen.name.lower()} in {names[ward]}: choose a category your "
                "organisation covers there, or all categories"
            )
    picked = [k.strip() for k in kinds if k and k.strip()]
    if not picked:
        errors["kinds"] = "Choose at least one kind of alert"
    elif any(k not in KINDS for k in picked):
        errors["kinds"] = "Choose from the kinds of alert listed"
    if errors:
        raise SubscriptionError(errors)
    return _upsert(
        session,
        user,
        ward=ward,
        category_id=None if chosen is None else chosen.id,
        emerging="emerging" in picked,
        hotspots="hotspots" in picked,
    )


def watch_ward(session: Session, user: User, ward: str) -> Subscribed:
    """The dashboard's "Watch this ward": ``user`` subscribes to ``ward``, all categories, both
    kinds. Doing it again changes nothing (an existing all-categories subscription gets both
    kinds). Flushes, never commits.

    Raises NotAllowed if ``user`` may not manage alerts or may not see ``ward``."""
    if not permissions.can_manage_alerts(user) or not permissions.can_see_ward(user, ward):
        raise NotAllowed("You cannot watch this ward")
    return _upsert(session, user, ward=ward, category_id=None, emerging=True, hotspots=True)


def _upsert(
    session: Session, user: User, *, ward: str, category_id: int | None, emerging: bool, hotspots: bool
) -> Subscribed:
    def existing() -> AlertSubscription | None:
        where = (
            AlertSubscription.category_id.is_(None)
            if category_id is None
            else AlertSubscription.category_id == category_id
        )
        return session.scalar(
            sa.select(AlertSubscription).where(
                AlertSubscription.user_id == user.id, AlertSubscription.ward_code == ward, where
            )
        )

    found = existing()
    if found is None:
        made = AlertSubscription(
            user_id=user.id, ward_code=ward, category_id=category_id, emerging=emerging, hotspots=hotspots
        )
        try:
            with session.begin_nested():
                session.add(made)
        except IntegrityError:
            found = existing()  # the same form sent twice at once: the other request made it
            if found is None:
                raise
        else:
            return Subscribed(made, True)
    found.emerging, found.hotspots = emerging, hotspots
    session.flush()
    return Subscribed(found, False)


def unsubscribe(session: Session, subscription: AlertSubscription, *, by: User) -> None:
    """Delete ``subscription``. Flushes, never commits. Raises NotAllowed unless it is ``by``'s
    own (views look it up with ``own_subscription`` first and answer 404)."""
    if subscription.user_id != by.id:
        raise NotAllowed("Only its owner can remove a subscription")
    session.delete(subscription)
    session.flush()


@dataclass(frozen=True)
class PastAlert:
    finding: Finding
    sent_at: dt.datetime
    ward_name: str


def past_alerts(session: Session, user: User, *, page: int, per_page: int) -> tuple[list[PastAlert], int]:
    """The findings emailed to ``user``, newest first (one page), and how many there are in all.
    Three queries, whatever the page size."""
    total = (
        session.scalar(sa.select(sa.func.count()).select_from(AlertDelivery).where(AlertDelivery.user_id == user.id))
        or 0
    )
    rows = session.execute(
        sa.select(Finding, AlertDelivery.sent_at, Ward.name)
        .join(AlertDelivery, AlertDelivery.finding_id == Finding.id)
        .outerjoin(Ward, Ward.code == Finding.ward_code)
        .where(AlertDelivery.user_id == user.id)
        .options(selectinload(Finding.category))
        .order_by(AlertDelivery.sent_at.desc(), Finding.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [PastAlert(finding, sent_at, name or finding.ward_code) for finding, sent_at, name in rows], total


def load_demo_subscriptions(session: Session) -> int:
    """Demo mode: each demo ward officer (app/partners/demo.py) watches each of their wards,
    all categories, both kinds, so the demo's planted problems (app/reports/demo.py: in wards
    the demo ward officer covers) arrive as an alert in the local mail folder. Returns how many
    subscriptions were added; running it again adds none."""
    from app.partners.demo import PEOPLE, address

    added = 0
    for person in PEOPLE:
        if not person.wards:
            continue
        user = session.scalar(sa.select(User).where(User.email == address(person.email), User.is_demo.is_(True)))
        if user is None:
            continue
        for ward in sorted(user.ward_codes):
            if not is_watching(session, user, ward):
                watch_ward(session, user, ward)
                added += 1
    return added
