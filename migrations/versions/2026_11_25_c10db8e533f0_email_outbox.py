"""Email outbox: every email, written in the transaction that caused it, with its delivery state.

Revision ID: c10db8e533f0
Revises: a1c0e5d2b7f4
Create Date: 2026-11-25 10:04:35.463248
"""

import sqlalchemy as sa
from alembic import op

revision = 'c10db8e533f0'
down_revision = 'a1c0e5d2b7f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False, comment='Why it was sent, e.g. verify_email'),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False, comment='Message-ID header, the same on every attempt'),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'uncertain', name='email_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False, comment='Sending attempts started so far'),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True, comment='While sending: after this the worker is presumed dead'),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status != 'sending' OR lease_expires_at IS NOT NULL", name=op.f('ck_outbox_emails_sending_has_lease')),
    sa.CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name=op.f('ck_outbox_emails_sent_has_sent_at')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_emails_attempts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_emails_message_id'))
    )
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        # The worker's "what is due" query, and stale claims by status.
        batch_op.create_index('ix_outbox_emails_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_emails_to_address_created_at', ['to_address', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_to_address_created_at')
        batch_op.drop_index('ix_outbox_emails_status_next_attempt_at')

    op.drop_table('outbox_emails')
