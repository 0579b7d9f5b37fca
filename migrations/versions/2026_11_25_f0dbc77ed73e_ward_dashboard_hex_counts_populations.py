"""Ward dashboard: hex counts, ward populations and deprivation, alert subscriptions, findings
and deliveries; H3 cells on reports.

The new tables are created in full (no batch mode needed); the reports columns are plain ADD
COLUMNs (reports has SpatiaLite geometry columns, so never batch mode there). hex_counts'
primary key INCLUDEs the counts on PostgreSQL and the table is WITHOUT ROWID on SQLite, as
report_cells (autogenerate compares neither). The H3 cells of existing reports and the counts
are filled by ``flask hotspots rebuild``, which `make run` and the demo loader call.

Revision ID: f0dbc77ed73e
Revises: d2e8f4a61c07
Create Date: 2026-11-25 15:48:11.688065
"""

import sqlalchemy as sa
from alembic import op


revision = 'f0dbc77ed73e'
down_revision = 'd2e8f4a61c07'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ward_deprivation',
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('lsoa_count', sa.Integer(), nullable=False),
    sa.Column('mean_score', sa.Float(), nullable=False, comment='Mean IMD 2025 score of its LSOAs (higher: more deprived)'),
    sa.Column('median_decile', sa.Float(), nullable=False, comment='Median national decile of its LSOAs (1: most deprived)'),
    sa.Column('most_deprived_count', sa.Integer(), nullable=False, comment="Its LSOAs in England's most deprived 10%"),
    sa.PrimaryKeyConstraint('ward_code', name=op.f('pk_ward_deprivation'))
    )
    op.create_table('ward_populations',
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('population > 0', name=op.f('ck_ward_populations_population_positive')),
    sa.PrimaryKeyConstraint('ward_code', name=op.f('pk_ward_populations'))
    )
    op.create_table('alert_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('emerging', sa.Boolean(), nullable=False),
    sa.Column('hotspots', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_alert_subscriptions_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_subscriptions')),
    sa.UniqueConstraint('user_id', 'ward_code', 'category_id', name='one_per_ward_category')
    )
    with op.batch_alter_table('alert_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_subscriptions_user_id'), ['user_id'], unique=False)

    op.create_table('hex_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cell9', sa.BigInteger(), nullable=False),
    sa.Column('cell8', sa.BigInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_hex_counts_category_id_categories')),
    sa.PrimaryKeyConstraint('day', 'ward_code', 'category_id', 'status', 'cell9', name=op.f('pk_hex_counts'), postgresql_include=['cell8', 'n']),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('hex_counts', schema=None) as batch_op:
        batch_op.create_index('ix_hex_counts_ward_code_day', ['ward_code', 'day'], unique=False)

    op.create_table('hotspot_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('emerging', 'hotspot', name='finding_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('cell', sa.BigInteger(), nullable=True, comment="H3 cell, for a hotspot or a hot cell's rise"),
    sa.Column('resolution', sa.SmallInteger(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False, comment='What changed, in plain English'),
    sa.Column('current', sa.Integer(), nullable=False, comment='Reports in the recent period'),
    sa.Column('expected', sa.Float(), nullable=False, comment='What the baseline predicts for the same length'),
    sa.Column('z', sa.Float(), nullable=False, comment='Poisson Z, or the Gi* z-score for a hotspot'),
    sa.Column('p', sa.Float(), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True, comment='90, 95 or 99 for a hotspot'),
    sa.Column('trend', sa.String(length=20), nullable=False, comment='Mann-Kendall: rising, falling or empty'),
    sa.Column('first_found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_hotspot_findings_category_id_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotspot_findings'))
    )
    with op.batch_alter_table('hotspot_findings', schema=None) as batch_op:
        batch_op.create_index('ix_hotspot_findings_ward_code_first_found_at', ['ward_code', 'first_found_at'], unique=False)
        batch_op.create_index('uq_hotspot_findings_open_key', ['key'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('alert_deliveries',
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['email_id'], ['outbox_emails.id'], name=op.f('fk_alert_deliveries_email_id_outbox_emails'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['finding_id'], ['hotspot_findings.id'], name=op.f('fk_alert_deliveries_finding_id_hotspot_findings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_deliveries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('finding_id', 'user_id', name=op.f('pk_alert_deliveries'))
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_deliveries_user_id'), ['user_id'], unique=False)

    op.add_column('reports', sa.Column('h3_r9', sa.BigInteger(), nullable=True))
    op.add_column('reports', sa.Column('h3_r8', sa.BigInteger(), nullable=True))



def downgrade() -> None:
    op.drop_column('reports', 'h3_r8')
    op.drop_column('reports', 'h3_r9')

    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_user_id'))

    op.drop_table('alert_deliveries')
    with op.batch_alter_table('hotspot_findings', schema=None) as batch_op:
        batch_op.drop_index('uq_hotspot_findings_open_key', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index('ix_hotspot_findings_ward_code_first_found_at')

    op.drop_table('hotspot_findings')
    with op.batch_alter_table('hex_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_hex_counts_ward_code_day')

    op.drop_table('hex_counts')
    with op.batch_alter_table('alert_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_subscriptions_user_id'))

    op.drop_table('alert_subscriptions')
    op.drop_table('ward_populations')
    op.drop_table('ward_deprivation')
