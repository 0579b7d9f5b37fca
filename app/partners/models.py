"""Organisations, memberships, coverage, ward officer assignments and invitations."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, utcnow, value_enum
from app.reports.models import Sector


class OrgRole(enum.StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class InviteRole(enum.StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    WARD_OFFICER = "ward_officer"

    @property
    def label(self) -> str:
        return {"member": "Member", "coordinator": "Coordinator", "ward_officer": "Ward officer"}[self.value]


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    sector: Mapped[Sector] = mapped_column(value_enum(Sector, "org_sector"))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    working_hours: Mapped[str] = mapped_column(sa.String(200), default="Monday to Friday, 9am to 5pm")
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    wards: Mapped[list[OrganisationWard]] = relationship(
        back_populates="organisation", lazy="selectin", cascade="all, delete-orphan"
    )
    categories: Mapped[list[OrganisationCategory]] = relationship(
        back_populates="organisation", lazy="selectin", cascade="all, delete-orphan"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        """The name as shown everywhere: demo organisations say so."""
        return f"{self.name} (demo)" if self.is_demo else self.name

    @property
    def ward_codes(self) -> set[str]:
        return {w.ward_code for w in self.wards}

    @property
    def category_ids(self) -> set[int]:
        return {c.category_id for c in self.categories}

    @property
    def coordinators(self) -> list[Membership]:
        return [m for m in self.memberships if m.role == OrgRole.COORDINATOR]


class OrganisationWard(Base):
    __tablename__ = "organisation_wards"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    ward_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True)
    organisation: Mapped[Organisation] = relationship(back_populates="wards")


class OrganisationCategory(Base):
    __tablename__ = "organisation_categories"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True)
    organisation: Mapped[Organisation] = relationship(back_populates="categories")


class Membership(Base):
    """A person's role in one organisation; a person may belong to several."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "organisation_id", name="one_role_per_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[OrgRole] = mapped_column(value_enum(OrgRole, "org_role"), default=OrgRole.MEMBER)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="joined", innerjoin=True)
    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined", innerjoin=True)


class WardOfficerWard(Base):
    __tablename__ = "ward_officer_wards"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ward_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True)
    user: Mapped[User] = relationship(back_populates="ward_assignments")


class Invitation(Base):
    """A single-use emailed invitation, valid for 72 hours. Only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[InviteRole] = mapped_column(value_enum(InviteRole, "invite_role"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    ward_codes: Mapped[str] = mapped_column(sa.String(200), default="", comment="Comma-separated, for ward officers")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    invited_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def ward_code_list(self) -> list[str]:
        return [code for code in self.ward_codes.split(",") if code]

    def state(self, now: dt.datetime) -> str:
        """The state at ``now``: "accepted", "revoked", "expired" or "pending"."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "pending"
