"""Categories, reports, their photos, and the per-cell counts behind the map."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from geoalchemy2 import Geometry, WKBElement, WKTElement
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow, value_enum

# Must match the form limits in app/reports/forms.py.
TITLE_MAX = 120
DESCRIPTION_MAX = 5000
NAME_MAX = 100
EMAIL_MAX = 254


class Sector(enum.StrEnum):
    COUNCIL = "council"
    POLICE = "police"
    HEALTH = "health"
    EDUCATION = "education"
    HOUSING = "housing"
    FIRE = "fire"
    VOLUNTARY = "voluntary"

    @property
    def label(self) -> str:
        return {
            "council": "Council services",
            "police": "Police",
            "health": "NHS and health",
            "education": "Schools and education",
            "housing": "Housing providers",
            "fire": "Fire and rescue",
            "voluntary": "Voluntary and community groups",
        }[self.value]


class ReportStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self in {ReportStatus.NEW, ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS}


class Priority(enum.StrEnum):
    """A case's risk tier; high risk shortens its response targets
    (``app.coordination.working_time.targets_for``)."""

    STANDARD = "standard"
    HIGH = "high"

    @property
    def label(self) -> str:
        return {"standard": "Standard", "high": "High risk"}[self.value]


class CloseReason(enum.StrEnum):
    DUPLICATE = "duplicate"
    NOT_ACTIONABLE = "not_actionable"
    REFERRED = "referred"
    NO_FURTHER_ACTION = "no_further_action"

    @property
    def label(self) -> str:
        return {
            "duplicate": "Duplicate of another report",
            "not_actionable": "Not something we can act on",
            "referred": "Referred elsewhere",
            "no_further_action": "No further action",
        }[self.value]


REFERRED_TO_MAX = 200


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(50), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    group: Mapped[str] = mapped_column(sa.String(80))
    hint: Mapped[str] = mapped_column(sa.String(200), default="")
    sensitive: Mapped[bool] = mapped_column(
        default=False, comment="Public outputs show only category, status and a ~500 m location"
    )
    default_sector: Mapped[Sector] = mapped_column(value_enum(Sector, "sector"))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


# The rows the escalation job may pick: matched by ``escalation.overdue_clauses``.
ESCALATION_WHERE = "status = 'new' AND acknowledged_at IS NULL AND escalated_at IS NULL"


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        sa.CheckConstraint(f"length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
        sa.CheckConstraint(f"length(description) BETWEEN 1 AND {DESCRIPTION_MAX}", name="description_length"),
        sa.Index("ix_reports_created_at", "created_at"),
        # By ward, then status and publication: a ward's reports of one status in order (the
        # inbox filtered to a ward walks it one status at a time, docs/benchmarks.md).
        sa.Index("ix_reports_ward_code_status", "ward_code", "status", "published_at", "id"),
        sa.Index("ix_reports_category_id", "category_id"),
        # The partner inbox pages through an organisation's reports in publication order
        # (docs/benchmarks.md, "Partner inbox").
        sa.Index("ix_reports_published_at", "published_at", "id"),
        # Its status and priority sorts walk one status (or priority) at a time in that order.
        sa.Index("ix_reports_status_published_at", "status", "published_at", "id"),
        sa.Index("ix_reports_priority_published_at", "priority", "published_at", "id"),
        # The escalation job's scan (app.coordination.escalation) reads only what it may escalate.
        sa.Index(
            "ix_reports_awaiting_escalation",
            "acknowledge_due_at",
            "id",
            sqlite_where=sa.text(ESCALATION_WHERE),
            postgresql_where=sa.text(ESCALATION_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    status: Mapped[ReportStatus] = mapped_column(value_enum(ReportStatus, "report_status"), default=ReportStatus.NEW)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    description: Mapped[str] = mapped_column(sa.Text)
    # The exact point: for authorised partners only.
    lon: Mapped[float]
    lat: Mapped[float]
    geom: Mapped[WKBElement | WKTElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=True, nullable=False)
    )
    # Where the public sees it: the exact point, or a ~500 m cell centre for sensitive categories.
    public_lon: Mapped[float]
    public_lat: Mapped[float]
    public_geom: Mapped[WKBElement | WKTElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=True, nullable=False)
    )
    ward_code: Mapped[str] = mapped_column(sa.String(9))
    # H3 cells of the public location (app.hotspots.counts keeps them): resolution 9 for a
    # ward's view, 8 for the city's (docs/hotspots.md).
    h3_r9: Mapped[int | None] = mapped_column(sa.BigInteger)
    h3_r8: Mapped[int | None] = mapped_column(sa.BigInteger)
    ward_vintage: Mapped[str] = mapped_column(sa.String(7))
    reporter_name: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    show_name: Mapped[bool] = mapped_column(default=False)
    reporter_email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), comment="Never shown publicly")
    source: Mapped[str] = mapped_column(sa.String(20), default="web")
    # No foreign key: SQLite can only add one by rebuilding the table, which would break the
    # SpatiaLite geometry columns. Users are never hard-deleted (deletion anonymises), so the
    # id cannot dangle; app.accounts.services.delete_account clears it.
    reporter_id: Mapped[int | None] = mapped_column(index=True)
    # Empty until the report is public: a report made without an account waits for the
    # reporter to click the emailed confirmation link.
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # The case's lifecycle and response times (app.coordination). Columns on reports rather
    # than a table of their own so that the inbox sorts and filters on them without a join.
    priority: Mapped[Priority] = mapped_column(
        value_enum(Priority, "priority"), default=Priority.STANDARD, server_default=Priority.STANDARD.value
    )
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="Last resolved, for reopening")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[CloseReason | None] = mapped_column(value_enum(CloseReason, "close_reason"))
    # No foreign key, for the same reason as reporter_id; reports are never deleted.
    duplicate_of_id: Mapped[int | None] = mapped_column(index=True, comment="Set when closed as a duplicate")
    referred_to: Mapped[str | None] = mapped_column(sa.String(REFERRED_TO_MAX))
    acknowledge_due_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="The earliest acknowledgement target of the organisations it is routed to"
    )
    resolve_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="The lead's resolution target")
    escalated_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="Unacknowledged past its target: sent to council triage"
    )
    trigger_flagged_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="Possibly meets the ASB Community Trigger threshold"
    )

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)
    photos: Mapped[list[Photo]] = relationship(back_populates="report", order_by="Photo.position", lazy="selectin")

    @property
    def reference(self) -> str:
        return f"TC-{self.id:06d}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def public_name(self) -> str | None:
        return self.reporter_name if self.show_name and self.reporter_name else None


class Photo(Base):
    """A re-encoded photo. ``report_id`` is empty while it waits on a form being corrected."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, comment="Random hex token")
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    original_name: Mapped[str] = mapped_column(sa.String(255), default="")
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report | None] = relationship(back_populates="photos")


class ReportCell(Base):
    """Report counts per grid cell, month, category, status and ward, kept on every write.

    The map reads these instead of clustering reports at request time; ``sum_lon`` and
    ``sum_lat`` give each cluster's centroid. ``flask reports rebuild-cells`` rebuilds them.

    A map view sums every row of one level in a range of cells (about 200,000 rows at city
    zoom with 1M reports), so the primary key also carries the counts: on PostgreSQL it
    INCLUDEs them (an index-only scan), on SQLite the table is WITHOUT ROWID (stored in key
    order). Without that, each row costs a random heap or table read (see docs/benchmarks.md).
    """

    __tablename__ = "report_cells"
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "level",
            "cx",
            "cy",
            "period",
            "category_id",
            "status",
            "ward_code",
            postgresql_include=["n", "sum_lon", "sum_lat"],
        ),
        {"sqlite_with_rowid": False},
    )

    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    cx: Mapped[int] = mapped_column(primary_key=True)
    cy: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[int] = mapped_column(primary_key=True, comment="Month, YYYYMM")
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    ward_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True)
    n: Mapped[int]
    sum_lon: Mapped[float] = mapped_column(sa.Float(precision=53))
    sum_lat: Mapped[float] = mapped_column(sa.Float(precision=53))


class ReportFollower(Base):
    """Someone who gets a report's public updates by email (besides its reporter).

    ``via_merge_id`` is set when a merge moved the follower here from a duplicate, so that
    undoing the merge can move them back.
    """

    __tablename__ = "report_followers"
    __table_args__ = (sa.UniqueConstraint("report_id", "email", name="one_follow_per_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    via_merge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_merges.id", ondelete="SET NULL"), index=True)


class ReportSupport(Base):
    """A "me too" from one person on one report, with how it affects them."""

    __tablename__ = "report_supports"
    __table_args__ = (sa.UniqueConstraint("report_id", "email", name="one_support_per_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    via_merge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_merges.id", ondelete="SET NULL"), index=True)
