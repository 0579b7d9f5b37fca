"""Tables behind the ward officer dashboard (issue 6).

- ``HexCount``: published reports per H3 cell × category × status × ward × day, kept on every
  write (``app.hotspots.counts``); the dashboard, hotspots, trends and alerts read it, never
  the reports.
- ``WardPopulation``: ward populations loaded from a CSV (``flask hotspots load-populations``),
  for rates per 1,000 residents.
- ``WardDeprivation``: IMD 2025 aggregated from LSOAs to wards (``flask geo load``).
- ``AlertSubscription``, ``Finding`` and ``AlertDelivery``: who watches which ward and
  categories, what the nightly analysis found, and who has been emailed about each finding.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, utcnow, value_enum
from app.reports.models import Category

# H3 resolutions (docs/hotspots.md): 8 (about 0.74 km² a cell) for the city, 9 (about 0.11 km²)
# for one ward.
CITY_RESOLUTION = 8
WARD_RESOLUTION = 9


class HexCount(Base):
    """How many published reports were made on ``day`` (UK local date of ``created_at``) in one
    H3 resolution-9 cell (``cell9``; ``cell8`` is its resolution-8 parent), category, status and
    ward. Cells come from the public location, so a sensitive report counts where the public
    map shows it.

    Like ``report_cells``, the primary key carries the counts (INCLUDE on PostgreSQL, WITHOUT
    ROWID on SQLite), so a dashboard query over a period is one ordered index range."""

    __tablename__ = "hex_counts"
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "day", "ward_code", "category_id", "status", "cell9", postgresql_include=["cell8", "n"]
        ),
        sa.Index("ix_hex_counts_ward_code_day", "ward_code", "day"),
        {"sqlite_with_rowid": False},
    )

    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    ward_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    cell9: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    cell8: Mapped[int] = mapped_column(sa.BigInteger)
    n: Mapped[int]


class WardPopulation(Base):
    """A ward's resident population, from a CSV an administrator loads (ONS mid-year estimates;
    docs/hotspots.md says where to get them)."""

    __tablename__ = "ward_populations"
    __table_args__ = (sa.CheckConstraint("population > 0", name="population_positive"),)

    ward_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True)
    population: Mapped[int]
    year: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(300))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WardDeprivation(Base):
    """IMD 2025 for a ward, from the LSOAs whose area lies mostly in it (``geo.deprivation``):
    no LSOA populations are shipped, so LSOAs count equally."""

    __tablename__ = "ward_deprivation"

    ward_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True)
    lsoa_count: Mapped[int]
    mean_score: Mapped[float] = mapped_column(comment="Mean IMD 2025 score of its LSOAs (higher: more deprived)")
    median_decile: Mapped[float] = mapped_column(comment="Median national decile of its LSOAs (1: most deprived)")
    most_deprived_count: Mapped[int] = mapped_column(comment="Its LSOAs in England's most deprived 10%")


class FindingKind(enum.StrEnum):
    EMERGING = "emerging"  # a ward × category, or a hot cell, well above its baseline
    HOTSPOT = "hotspot"  # a cell significantly hot under Gi* with the FDR correction

    @property
    def label(self) -> str:
        return {"emerging": "Emerging problem", "hotspot": "New hotspot"}[self.value]


class AlertSubscription(Base):
    """``user`` watches ``ward_code`` for emerging problems and/or new hotspots, in one category
    or (``category_id`` empty) all of them."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (sa.UniqueConstraint("user_id", "ward_code", "category_id", name="one_per_ward_category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ward_code: Mapped[str] = mapped_column(sa.String(9))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"))
    emerging: Mapped[bool] = mapped_column(default=True)
    hotspots: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    category: Mapped[Category | None] = relationship()


class Finding(Base):
    """Something the nightly analysis found: an emerging problem or a hotspot, identified by
    ``key`` (kind, place and category). It stays open (``ended_at`` empty) while later runs
    keep finding it, so each is new, and alerted, once; if it ends and comes back, that is a
    new finding. At most one open finding per key (a partial unique index)."""

    __tablename__ = "hotspot_findings"
    __table_args__ = (
        sa.Index(
            "uq_hotspot_findings_open_key",
            "key",
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
        sa.Index("ix_hotspot_findings_ward_code_first_found_at", "ward_code", "first_found_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FindingKind] = mapped_column(value_enum(FindingKind, "finding_kind"))
    key: Mapped[str] = mapped_column(sa.String(200))
    ward_code: Mapped[str] = mapped_column(sa.String(9))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"))
    cell: Mapped[int | None] = mapped_column(sa.BigInteger, comment="H3 cell, for a hotspot or a hot cell's rise")
    resolution: Mapped[int | None] = mapped_column(sa.SmallInteger)
    summary: Mapped[str] = mapped_column(sa.Text, comment="What changed, in plain English")
    current: Mapped[int] = mapped_column(comment="Reports in the recent period")
    expected: Mapped[float] = mapped_column(comment="What the baseline predicts for the same length")
    z: Mapped[float] = mapped_column(comment="Poisson Z, or the Gi* z-score for a hotspot")
    p: Mapped[float | None]
    confidence: Mapped[int | None] = mapped_column(comment="90, 95 or 99 for a hotspot")
    trend: Mapped[str] = mapped_column(sa.String(20), default="", comment="Mann-Kendall: rising, falling or empty")
    first_found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship()


class AlertDelivery(Base):
    """``user`` has been sent ``finding`` (through the outbox: ``email_id``). The primary key
    makes it once per person per finding, whatever the worker does."""

    __tablename__ = "alert_deliveries"

    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("hotspot_findings.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    email_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_emails.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    finding: Mapped[Finding] = relationship()
