"""The outbox: one row per email, written in the transaction of the change that caused it."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

# Must match the longest address email-validator accepts (RFC 5321's path limit).
ADDRESS_MAX = 254
KIND_MAX = 40
SUBJECT_MAX = 255


class EmailStatus(enum.StrEnum):
    """Where an email is in its life; docs/email.md has the state diagram."""

    PENDING = "pending"  # waiting for next_attempt_at
    SENDING = "sending"  # claimed by a worker until lease_expires_at
    SENT = "sent"  # the server accepted it
    FAILED = "failed"  # refused by the server, or out of attempts: not retried
    UNCERTAIN = "uncertain"  # a worker stopped mid-send: an administrator decides

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OutboxEmail(Base):
    """An email to send, fully rendered, with its delivery state."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name="sent_has_sent_at"),
        sa.CheckConstraint("status != 'sending' OR lease_expires_at IS NOT NULL", name="sending_has_lease"),
        # The worker's query: pending rows by due time (and stale `sending` rows by status).
        sa.Index("ix_outbox_emails_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_outbox_emails_to_address_created_at", "to_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(KIND_MAX), comment="Why it was sent, e.g. verify_email")
    to_address: Mapped[str] = mapped_column(sa.String(ADDRESS_MAX))
    subject: Mapped[str] = mapped_column(sa.String(SUBJECT_MAX))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    message_id: Mapped[str] = mapped_column(
        sa.String(255), unique=True, comment="Message-ID header, the same on every attempt"
    )
    status: Mapped[EmailStatus] = mapped_column(
        sa.Enum(
            EmailStatus,
            name="email_status",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        default=EmailStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0, comment="Sending attempts started so far")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="While sending: after this the worker is presumed dead"
    )
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.kind} {self.status.value}>"
