"""Fixtures for organisations, memberships and invitations (shared with tests/admin)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.mail.models import OutboxEmail
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Sector

ST_MICHAELS = "E05001228"
BABLAKE = "E05001218"


@pytest.fixture
def make_organisation(db_session: Session) -> Callable[..., Organisation]:
    """Create an organisation; ``members={user: "member" | "coordinator"}``, ``wards``, ``categories`` (slugs)."""
    counter = iter(range(1, 100000))

    def make(
        *,
        name: str | None = None,
        sector: Sector = Sector.COUNCIL,
        members: dict[User, str] | None = None,
        wards: list[str] | None = None,
        categories: list[str] | None = None,
        active: bool = True,
        is_demo: bool = False,
    ) -> Organisation:
        n = next(counter)
        org = Organisation(
            name=name or f"Organisation {n}",
            sector=sector,
            contact_email=f"org{n}@example.org",
            active=active,
            is_demo=is_demo,
        )
        db_session.add(org)
        db_session.flush()
        for code in wards or []:
            db_session.add(OrganisationWard(organisation_id=org.id, ward_code=code))
        for slug in categories or []:
            category_id = db_session.scalar(sa.select(Category.id).where(Category.slug == slug))
            db_session.add(OrganisationCategory(organisation_id=org.id, category_id=category_id))
        for user, role in (members or {}).items():
            db_session.add(Membership(user_id=user.id, organisation_id=org.id, role=OrgRole(role)))
        db_session.flush()
        db_session.refresh(org)
        for user in members or {}:
            db_session.refresh(user)
        return org

    return make


def invitation_link(db_session: Session, to: str) -> str:
    """The path of the invitation link in the newest email to ``to``."""
    email = db_session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.to_address == to).order_by(OutboxEmail.id.desc())
    ).first()
    assert email is not None, f"no email to {to}"
    match = re.search(r"https?://\S+?(/invitations/[A-Za-z0-9_-]+)", email.text_body)
    assert match is not None, email.text_body
    return match.group(1)


class Links:
    """An ``accept_link`` for services called directly, keeping each raw token it is given."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, raw: str) -> str:
        self.tokens.append(raw)
        return f"http://127.0.0.1:5000/invitations/{raw}"

    @property
    def last(self) -> str:
        return self.tokens[-1]


@pytest.fixture
def links() -> Links:
    return Links()
