"""reports (ward_code, status, published_at, id) instead of reports (ward_code): a ward's reports
of one status in publication order, for the inbox filtered to a ward (docs/benchmarks.md); it
serves every lookup by ward the old index served.

Revision ID: e7a3c5d19b42
Revises: f0dbc77ed73e
Create Date: 2026-11-25 17:05:00
"""

from alembic import op

revision = 'e7a3c5d19b42'
down_revision = 'f0dbc77ed73e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain DROP/CREATE INDEX: no batch mode on reports (it has SpatiaLite geometry columns).
    op.create_index(
        'ix_reports_ward_code_status', 'reports', ['ward_code', 'status', 'published_at', 'id'], unique=False
    )
    op.drop_index('ix_reports_ward_code', table_name='reports')


def downgrade() -> None:
    op.create_index('ix_reports_ward_code', 'reports', ['ward_code'], unique=False)
    op.drop_index('ix_reports_ward_code_status', table_name='reports')
