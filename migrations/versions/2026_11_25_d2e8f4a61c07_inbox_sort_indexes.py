"""Indexes for the inbox's status, priority and due-date sorts and for the escalation scan;
``case_routes.due_at``, what each organisation has due next on a report.

Revision ID: d2e8f4a61c07
Revises: b7c41e2d9a30
Create Date: 2026-11-25 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'd2e8f4a61c07'
down_revision = 'b7c41e2d9a30'
branch_labels = None
depends_on = None

ESCALATION_WHERE = "status = 'new' AND acknowledged_at IS NULL AND escalated_at IS NULL"

# What app.coordination.deadlines.store_due_at writes, for the routes that exist already.
BACKFILL = """
UPDATE case_routes SET due_at = CASE
    WHEN case_routes.declined_at IS NOT NULL THEN NULL
    WHEN (SELECT status FROM reports WHERE reports.id = case_routes.report_id)
         NOT IN ('new', 'acknowledged', 'in_progress') THEN NULL
    WHEN EXISTS (SELECT 1 FROM case_claims WHERE case_claims.report_id = case_routes.report_id
                 AND case_claims.role = 'lead')
        THEN (SELECT resolve_due_at FROM reports WHERE reports.id = case_routes.report_id)
    ELSE case_routes.acknowledge_due_at
END
"""


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: no batch mode (reports has SpatiaLite geometry columns).
    op.add_column(
        'case_routes',
        sa.Column(
            'due_at',
            sa.DateTime(timezone=True),
            nullable=True,
            comment="What this organisation has due next on an open report: its acknowledgement target "
            "while nobody leads it, then the lead's resolution target; empty when declined or not open",
        ),
    )
    op.execute(BACKFILL)
    op.drop_index(op.f('ix_case_routes_organisation_id'), table_name='case_routes')
    op.create_index(
        'ix_case_routes_organisation_id_due_at', 'case_routes', ['organisation_id', 'due_at', 'report_id'], unique=False
    )
    op.create_index('ix_reports_status_published_at', 'reports', ['status', 'published_at', 'id'], unique=False)
    op.create_index('ix_reports_priority_published_at', 'reports', ['priority', 'published_at', 'id'], unique=False)
    op.create_index(
        'ix_reports_awaiting_escalation',
        'reports',
        ['acknowledge_due_at', 'id'],
        unique=False,
        sqlite_where=sa.text(ESCALATION_WHERE),
        postgresql_where=sa.text(ESCALATION_WHERE),
    )


def downgrade() -> None:
    op.drop_index('ix_reports_awaiting_escalation', table_name='reports')
    op.drop_index('ix_reports_priority_published_at', table_name='reports')
    op.drop_index('ix_reports_status_published_at', table_name='reports')
    op.drop_index('ix_case_routes_organisation_id_due_at', table_name='case_routes')
    op.create_index(op.f('ix_case_routes_organisation_id'), 'case_routes', ['organisation_id'], unique=False)
    op.drop_column('case_routes', 'due_at')
