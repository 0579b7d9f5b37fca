"""Case routes, claims (at most one lead per report) and the append-only case history.

Revision ID: a5d53b83b691
Revises: f487102bcb2f
Create Date: 2026-11-25 11:04:13.577330
"""

import sqlalchemy as sa
from alembic import op

revision = 'a5d53b83b691'
down_revision = 'f487102bcb2f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: nothing here alters reports (batch mode would rebuild it and break
    # its SpatiaLite geometry columns).
    op.create_table('case_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('routed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False, comment='Empty when routed automatically by coverage'),
    sa.Column('routed_by_id', sa.Integer(), nullable=True, comment='Empty when routed automatically'),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_case_routes_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_routes_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['routed_by_id'], ['users.id'], name=op.f('fk_case_routes_routed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_routes')),
    sa.UniqueConstraint('report_id', 'organisation_id', name='one_route_per_org')
    )
    op.create_index(op.f('ix_case_routes_organisation_id'), 'case_routes', ['organisation_id'], unique=False)

    op.create_table('case_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'supporting', name='claim_role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'], name=op.f('fk_case_claims_claimed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_case_claims_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_claims_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_claims')),
    sa.UniqueConstraint('report_id', 'organisation_id', name='one_claim_per_org')
    )
    op.create_index(op.f('ix_case_claims_organisation_id'), 'case_claims', ['organisation_id'], unique=False)
    # At most one lead per report, enforced by the database on both SQLite and PostgreSQL.
    op.create_index(
        'uq_case_claims_one_lead',
        'case_claims',
        ['report_id'],
        unique=True,
        sqlite_where=sa.text("role = 'lead'"),
        postgresql_where=sa.text("role = 'lead'"),
    )

    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True, comment='Empty for automatic changes'),
    sa.Column('organisation_id', sa.Integer(), nullable=True, comment='The organisation acted for, or acted on'),
    sa.Column('kind', sa.Enum('routed', 'declined', 'claimed', 'status_changed', 'to_triage', name='case_event_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('old_value', sa.String(length=100), nullable=False),
    sa.Column('new_value', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_case_events_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_events_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index('ix_case_events_report_id_at', 'case_events', ['report_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_events_report_id_at', table_name='case_events')
    op.drop_table('case_events')
    op.drop_index('uq_case_claims_one_lead', table_name='case_claims')
    op.drop_index(op.f('ix_case_claims_organisation_id'), table_name='case_claims')
    op.drop_table('case_claims')
    op.drop_index(op.f('ix_case_routes_organisation_id'), table_name='case_routes')
    op.drop_table('case_routes')
