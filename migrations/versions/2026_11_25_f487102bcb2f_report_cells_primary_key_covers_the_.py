"""report_cells primary key covers the counts

A map view sums every report_cells row of one level over a range of cells: about 194,000
rows at city zoom with 1M reports. Through a plain primary key each row cost a random heap
(PostgreSQL) or table (SQLite) read, 250-800 ms in all; with the counts carried in the key
it is one ordered index range (docs/benchmarks.md).

- PostgreSQL: the primary key INCLUDEs n, sum_lon and sum_lat, so the map's query is an
  index-only scan.
- SQLite: the table becomes WITHOUT ROWID, i.e. stored in primary-key order. SQLite cannot
  change that in place, so the table is copied (in key order, which is much faster than
  Alembic's batch copy) and renamed. report_cells has no geometry column and nothing
  refers to it, so the copy is safe on SpatiaLite.

Autogenerate sees neither change (it compares neither INCLUDE nor WITHOUT ROWID): this
revision was generated empty and written by hand.

Revision ID: f487102bcb2f
Revises: 71def753219b
Create Date: 2026-11-25 10:19:36.152499
"""

import sqlalchemy as sa
from alembic import op


revision = 'f487102bcb2f'
down_revision = '71def753219b'
branch_labels = None
depends_on = None

KEY = "level, cx, cy, period, category_id, status, ward_code"
COLUMNS = f"{KEY}, n, sum_lon, sum_lat"


def _postgresql_primary_key(include: str) -> None:
    op.execute(
        "ALTER TABLE report_cells DROP CONSTRAINT pk_report_cells, "
        f"ADD CONSTRAINT pk_report_cells PRIMARY KEY ({KEY}){include}"
    )


def _sqlite_copy(with_rowid: bool) -> None:
    op.create_table('_report_cells_new',
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('cx', sa.Integer(), nullable=False),
    sa.Column('cy', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False, comment='Month, YYYYMM'),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('sum_lon', sa.Float(precision=53), nullable=False),
    sa.Column('sum_lat', sa.Float(precision=53), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name='fk_report_cells_category_id_categories'),
    sa.PrimaryKeyConstraint('level', 'cx', 'cy', 'period', 'category_id', 'status', 'ward_code', name='pk_report_cells'),
    sqlite_with_rowid=with_rowid,
    )
    op.execute(f"INSERT INTO _report_cells_new ({COLUMNS}) SELECT {COLUMNS} FROM report_cells ORDER BY {KEY}")
    op.drop_table('report_cells')
    op.rename_table('_report_cells_new', 'report_cells')


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_primary_key(" INCLUDE (n, sum_lon, sum_lat)")
    else:
        _sqlite_copy(with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_primary_key("")
    else:
        _sqlite_copy(with_rowid=True)
