"""An index on reports (published_at, id), for the partner inbox's publication order.

Revision ID: b7c41e2d9a30
Revises: 4ee3fd7b61a8
Create Date: 2026-11-25 15:00:00
"""

from alembic import op

revision = 'b7c41e2d9a30'
down_revision = '4ee3fd7b61a8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX: no batch mode on reports (it has SpatiaLite geometry columns).
    op.create_index('ix_reports_published_at', 'reports', ['published_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reports_published_at', table_name='reports')
